"""Who may see which organizations and identities."""

from django.db.models import QuerySet

from kefu.accounts.models import User

from .models import Identity, Organization


def visible_organizations(user: User) -> QuerySet[Organization]:
    if user.is_agent:
        return Organization.objects.all()
    return Organization.objects.filter(memberships__user=user)


def visible_identities(user: User) -> QuerySet[Identity]:
    if user.is_agent:
        return Identity.objects.all()
    return Identity.objects.filter(user=user)


def shared_organization_ids(user: User) -> list[int]:
    """Organizations whose tickets this end user may see besides their own."""
    return list(
        Organization.objects.filter(memberships__user=user, shared_tickets=True).values_list(
            "pk", flat=True
        )
    )


def can_manage_organizations(user: User, *, delete: bool = False) -> bool:
    """Agents create and change organizations; only admins delete them (as in Zendesk)."""
    return user.is_admin if delete else user.is_full_agent
