"""Satisfaction rating endpoints (Zendesk's ``satisfaction_ratings``)."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router

from kefu.api.auth import current_user
from kefu.api.pagination import paginate
from kefu.exports.incremental import EPOCH
from kefu.tickets.access import access_ticket
from kefu.tickets.choices import Channel

from .access import access_rating, visible_ratings
from .actions import rate_ticket
from .schemas import RatingEnvelope, RatingInEnvelope, RatingList, rating_json, ratings_json

router = Router(tags=["Satisfaction ratings"])

# Zendesk's score filters: a score, or a score family with/without a comment.
SCORE_FILTERS = {
    "offered": Q(score="offered"),
    "unoffered": Q(score="unoffered"),
    "received": Q(score__in=["good", "bad"]),
    "received_with_comment": Q(score__in=["good", "bad"]) & ~Q(comment=""),
    "received_without_comment": Q(score__in=["good", "bad"], comment=""),
    "good": Q(score="good"),
    "good_with_comment": Q(score="good") & ~Q(comment=""),
    "good_without_comment": Q(score="good", comment=""),
    "bad": Q(score="bad"),
    "bad_with_comment": Q(score="bad") & ~Q(comment=""),
    "bad_without_comment": Q(score="bad", comment=""),
}


def _unix(field: str, raw: str) -> dt.datetime:
    if not raw.isdigit():
        raise ValidationError(
            {field: [_("%(field)s is a Unix time in seconds.") % {"field": field}]}
        )
    return EPOCH + dt.timedelta(seconds=int(raw))


@router.get("satisfaction_ratings", response=RatingList, exclude_unset=True,
            summary="List satisfaction ratings (?score=, ?start_time=, ?end_time=)")  # fmt: skip
def list_ratings(
    request: HttpRequest, score: str = "", start_time: str = "", end_time: str = ""
) -> HttpResponse:
    ratings = visible_ratings(current_user(request))
    if score:
        if score not in SCORE_FILTERS:
            raise ValidationError(
                {"score": [_("Unknown score filter: %(score)s") % {"score": score}]}
            )
        ratings = ratings.filter(SCORE_FILTERS[score])
    if start_time:
        ratings = ratings.filter(created_at__gte=_unix("start_time", start_time))
    if end_time:
        ratings = ratings.filter(created_at__lt=_unix("end_time", end_time))
    return paginate(request, ratings, key="satisfaction_ratings",
                    serialize=lambda rows: ratings_json(request, rows))  # fmt: skip


@router.get("satisfaction_ratings/{int:rating_id}", response=RatingEnvelope,
            summary="Show a satisfaction rating")  # fmt: skip
def show_rating(request: HttpRequest, rating_id: int) -> dict:
    return {
        "satisfaction_rating": rating_json(request, access_rating(current_user(request), rating_id))
    }


@router.post("tickets/{int:ticket_id}/satisfaction_rating", response=RatingEnvelope,
             summary="Rate a solved ticket (its requester)")  # fmt: skip
def create_rating(request: HttpRequest, ticket_id: int, payload: RatingInEnvelope) -> dict:
    actor = current_user(request)
    ticket = access_ticket(actor, ticket_id)
    data = payload.satisfaction_rating
    rating = rate_ticket(
        ticket=ticket,
        actor=actor,
        score=data.score,
        comment=data.comment or "",
        reason=data.reason or "",
        via_channel=Channel.API,
    )
    return {"satisfaction_rating": rating_json(request, rating)}
