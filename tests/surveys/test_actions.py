import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kefu.core import clock
from kefu.surveys.access import access_rating, visible_ratings
from kefu.surveys.actions import rate_ticket
from kefu.surveys.models import SatisfactionRating
from kefu.tickets.actions import NewComment, TicketData, create_ticket, delete_ticket, update_ticket
from kefu.tickets.models import AuditEvent, Ticket

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def solved_ticket(p, requester=None) -> Ticket:  # type: ignore[no-untyped-def]
    with clock.frozen_at(T0):
        ticket = create_ticket(
            actor=p.alice,
            data=TicketData(subject="打印机", requester=requester or p.bob, group=p.support),
            comment=NewComment(body="It stopped working."),
        )
        return update_ticket(ticket, actor=p.alice, data=TicketData(status="solved"))


def test_requester_rates_a_solved_ticket_and_the_history_shows_it(personas):
    ticket = solved_ticket(personas)
    later = T0 + dt.timedelta(hours=1)
    with clock.frozen_at(later):
        rating = rate_ticket(ticket=ticket, actor=personas.bob, score="good", comment="很满意")
    assert (rating.score, rating.comment, rating.requester) == ("good", "很满意", personas.bob)
    # the agent and group who solved it get the credit
    assert (rating.assignee, rating.group) == (personas.alice, personas.support)
    event = AuditEvent.objects.get(audit__ticket=ticket, type="SatisfactionRating")
    assert event.value["score"] == "good" and event.previous_value is None
    ticket.refresh_from_db()
    assert ticket.updated_at == later and ticket.status == "solved"


def test_rating_again_updates_the_one_rating(personas):
    ticket = solved_ticket(personas)
    first = rate_ticket(ticket=ticket, actor=personas.bob, score="good")
    second = rate_ticket(ticket=ticket, actor=personas.bob, score="bad", reason="太慢")
    assert first.pk == second.pk
    assert SatisfactionRating.objects.get().score == "bad"
    assert AuditEvent.objects.filter(type="SatisfactionRating").count() == 2
    assert AuditEvent.objects.filter(type="SatisfactionRating").last().previous_value == "good"  # type: ignore[union-attr]


def test_closed_tickets_can_be_rated(personas):
    ticket = solved_ticket(personas)
    update_ticket(ticket, actor=personas.alice, data=TicketData(status="closed"))
    assert rate_ticket(ticket=ticket, actor=personas.bob, score="bad").score == "bad"


def test_only_the_requester_rates(personas):
    ticket = solved_ticket(personas)
    for someone in (personas.alice, personas.carol, personas.admin):
        with pytest.raises(PermissionDenied):
            rate_ticket(ticket=ticket, actor=someone, score="good")
    assert not SatisfactionRating.objects.exists()


@pytest.mark.parametrize(
    ("score", "field"), [("offered", "score"), ("great", "score"), ("", "score")]
)
def test_requesters_give_good_or_bad_only(personas, score, field):
    ticket = solved_ticket(personas)
    with pytest.raises(ValidationError) as error:
        rate_ticket(ticket=ticket, actor=personas.bob, score=score)
    assert field in error.value.message_dict


def test_unsolved_and_deleted_tickets_cannot_be_rated(personas):
    ticket = create_ticket(
        actor=personas.alice,
        data=TicketData(subject="Open", requester=personas.bob),
        comment=NewComment(body="Help"),
    )
    with pytest.raises(ValidationError) as error:
        rate_ticket(ticket=ticket, actor=personas.bob, score="good")
    assert "ticket_id" in error.value.message_dict
    solved = solved_ticket(personas)
    delete_ticket(solved, actor=personas.alice)
    with pytest.raises(ValidationError):
        rate_ticket(ticket=solved, actor=personas.bob, score="good")
    assert not SatisfactionRating.objects.exists()
    assert not AuditEvent.objects.filter(type="SatisfactionRating").exists()


def test_an_overlong_reason_is_refused(personas):
    ticket = solved_ticket(personas)
    with pytest.raises(ValidationError) as error:
        rate_ticket(ticket=ticket, actor=personas.bob, score="bad", reason="x" * 256)
    assert "reason" in error.value.message_dict


def test_agents_see_ratings_of_tickets_they_see_and_end_users_their_own(personas):
    bobs = rate_ticket(ticket=solved_ticket(personas), actor=personas.bob, score="good")
    carols = rate_ticket(
        ticket=solved_ticket(personas, personas.carol), actor=personas.carol, score="bad"
    )
    assert set(visible_ratings(personas.alice)) == {bobs, carols}
    assert set(visible_ratings(personas.admin)) == {bobs, carols}
    assert list(visible_ratings(personas.bob)) == [bobs]
    with pytest.raises(SatisfactionRating.DoesNotExist):
        access_rating(personas.bob, carols.pk)
