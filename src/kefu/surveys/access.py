"""Who may see which satisfaction ratings."""

from django.db.models import QuerySet

from kefu.accounts.models import User
from kefu.tickets.access import visible_tickets

from .models import SatisfactionRating


def visible_ratings(user: User) -> QuerySet[SatisfactionRating]:
    """Agents see the ratings of the tickets they see; end users see the ratings they gave."""
    if not user.is_active or user.suspended:
        return SatisfactionRating.objects.none()
    if user.is_admin:
        return SatisfactionRating.objects.filter(ticket__deleted_at__isnull=True)
    if user.is_agent:
        return SatisfactionRating.objects.filter(ticket__in=visible_tickets(user))
    return SatisfactionRating.objects.filter(requester=user, ticket__deleted_at__isnull=True)


def access_rating(user: User, rating_id: int) -> SatisfactionRating:
    """The rating if ``user`` may see it; raises ``SatisfactionRating.DoesNotExist`` otherwise."""
    return visible_ratings(user).get(pk=rating_id)
