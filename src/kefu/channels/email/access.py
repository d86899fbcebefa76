"""Who may see the email channel's configuration (support addresses): agents read, admins write."""

from django.db.models import QuerySet

from kefu.accounts.models import User

from .models import SupportAddress


def visible_support_addresses(user: User) -> QuerySet[SupportAddress]:
    """Every support address for agents (they choose one when replying); none for end users."""
    if not user.is_agent:
        return SupportAddress.objects.none()
    return SupportAddress.objects.select_related("group")


def can_manage_email(user: User) -> bool:
    """Addresses, mailboxes, templates and the email settings are changed by admins only."""
    return bool(user.is_admin)
