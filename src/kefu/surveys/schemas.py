"""The API's satisfaction rating serializer and input, in Zendesk's shape."""

from collections.abc import Iterable, Sequence
from typing import Any

from ninja import Schema

from kefu.api.formats import timestamp
from kefu.api.pagination import api_url
from kefu.api.schemas import PageFields

from .models import SatisfactionRating


class RatingOut(Schema):
    id: int
    url: str
    assignee_id: int | None
    group_id: int | None
    requester_id: int
    ticket_id: int
    score: str
    comment: str
    reason: str
    created_at: str
    updated_at: str


class RatingEnvelope(Schema):
    satisfaction_rating: RatingOut


class RatingList(PageFields):
    satisfaction_ratings: list[RatingOut]


class RatingIn(Schema):
    score: str
    comment: str | None = None
    reason: str | None = None


class RatingInEnvelope(Schema):
    satisfaction_rating: RatingIn


def rating_json(request: Any, rating: SatisfactionRating) -> dict[str, Any]:
    return {
        "id": rating.pk,
        "url": api_url(request, f"satisfaction_ratings/{rating.pk}"),
        "assignee_id": rating.assignee_id,
        "group_id": rating.group_id,
        "requester_id": rating.requester_id,
        "ticket_id": rating.ticket_id,
        "score": rating.score,
        "comment": rating.comment,
        "reason": rating.reason,
        "created_at": timestamp(rating.created_at),
        "updated_at": timestamp(rating.updated_at),
    }


def ratings_json(request: Any, ratings: Iterable[SatisfactionRating]) -> list[dict[str, Any]]:
    return [rating_json(request, r) for r in ratings]


def ticket_ratings(ticket_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """What a ticket shows as ``satisfaction_rating`` (``{id, score, comment, reason}``), for
    many tickets in one query. Tickets without a rating are missing (they show ``null``)."""
    rows = SatisfactionRating.objects.filter(ticket_id__in=ticket_ids).values_list(
        "ticket_id", "id", "score", "comment", "reason"
    )
    return {
        ticket_id: {"id": pk, "score": score, "comment": comment, "reason": reason}
        for ticket_id, pk, score, comment, reason in rows
    }
