import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from kefu.tickets.actions import ImportedComment, ImportedTicket, import_tickets
from kefu.tickets.models import AuditEvent, Comment, Ticket

WHEN = dt.datetime(2024, 3, 1, 8, 30, tzinfo=dt.UTC)


def test_import_keeps_historical_dates_authors_and_writes_audits(personas):
    [ticket] = import_tickets(
        [
            ImportedTicket(
                subject="旧工单 Old ticket",
                requester=personas.bob,
                assignee=personas.alice,
                group=personas.support,
                status="solved",
                tags=["migrated"],
                created_at=WHEN,
                comments=[
                    ImportedComment(author=personas.bob, body="Broken", created_at=WHEN),
                    ImportedComment(
                        author=personas.alice,
                        body="Fixed",
                        created_at=WHEN + dt.timedelta(hours=3),
                    ),
                ],
            )
        ],
        actor=personas.admin,
    )
    ticket.refresh_from_db()
    assert ticket.created_at == WHEN
    assert ticket.updated_at == WHEN + dt.timedelta(hours=3)
    assert ticket.solved_at == WHEN + dt.timedelta(hours=3)
    assert [c.author for c in ticket.comments.all()] == [personas.bob, personas.alice]
    assert list(ticket.tag_rows.values_list("name", flat=True)) == ["migrated"]
    comment_events = AuditEvent.objects.filter(audit__ticket=ticket, type="Comment")
    assert {e.pk for e in comment_events} == set(ticket.comments.values_list("pk", flat=True))
    assert (
        AuditEvent.objects.filter(audit__ticket=ticket, type="Create", field_name="status")
        .get()
        .value
        == "solved"
    )


def test_a_bad_row_names_the_row_and_field_and_imports_nothing(personas):
    good = ImportedTicket(
        subject="ok",
        requester=personas.bob,
        comments=[ImportedComment(author=personas.bob, body="x")],
    )
    bad = ImportedTicket(
        subject="bad",
        requester=personas.bob,
        status="done",
        comments=[ImportedComment(author=personas.bob, body="x")],
    )
    with pytest.raises(ValidationError) as error:
        import_tickets([good, bad], actor=personas.admin)
    assert "tickets[1].status" in error.value.message_dict
    assert Ticket.objects.count() == 0
    assert Comment.objects.count() == 0


def test_imported_tickets_keep_their_custom_status(personas):
    from kefu.tickets.actions import create_custom_status

    waiting = create_custom_status(status_category="hold", agent_label="Waiting for parts")
    comments = [ImportedComment(author=personas.bob, body="x")]
    [ticket] = import_tickets(
        [
            ImportedTicket(
                subject="s",
                requester=personas.bob,
                status="hold",
                custom_status=waiting,
                comments=comments,
            )
        ],
        actor=personas.admin,
    )
    assert ticket.custom_status == waiting
    with pytest.raises(ValidationError) as error:
        import_tickets(
            [
                ImportedTicket(
                    subject="s",
                    requester=personas.bob,
                    status="open",
                    custom_status=waiting,
                    comments=comments,
                )
            ],
            actor=personas.admin,
        )
    assert "tickets[0].custom_status_id" in error.value.message_dict
