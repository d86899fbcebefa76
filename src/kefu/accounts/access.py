"""Who may see which people and groups."""

from django.db.models import QuerySet

from .models import Group, User


def visible_users(user: User) -> QuerySet[User]:
    """Agents see everyone; end users see themselves and, where their organization shares
    tickets, its other members."""
    if user.is_agent:
        return User.objects.all()
    from kefu.crm.access import shared_organization_ids

    org_ids = shared_organization_ids(user)
    if not org_ids:
        return User.objects.filter(pk=user.pk)
    return User.objects.filter(
        pk__in=User.objects.filter(organizations__in=org_ids).values("pk")
    ) | User.objects.filter(pk=user.pk)


def visible_groups(user: User) -> QuerySet[Group]:
    return Group.objects.all() if user.is_agent else Group.objects.none()


def group_ids_of(user: User) -> list[int]:
    return list(user.group_memberships.values_list("group_id", flat=True))


def can_edit_user(actor: User, person: User) -> bool:
    """Agents edit customers' profiles; only admins edit agents and admins."""
    if not actor.is_full_agent:
        return actor.pk == person.pk
    return actor.is_admin or person.is_end_user
