import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kefu.accounts import actions as accounts
from kefu.accounts.choices import Role
from kefu.accounts.models import User
from kefu.core import clock
from kefu.core.ids import OBJECT_ID_START
from kefu.tickets import hooks
from kefu.tickets.actions import (
    NewComment,
    TicketData,
    add_comment,
    close_solved_tickets,
    create_custom_status,
    create_ticket,
    create_ticket_field,
    delete_ticket,
    update_custom_status,
    update_ticket,
    update_ticket_field,
)
from kefu.tickets.models import Audit, AuditEvent, Comment, Ticket, TicketTag

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def counts() -> tuple[int, int, int, int, int]:
    return (
        Ticket.objects.count(),
        Comment.objects.count(),
        Audit.objects.count(),
        AuditEvent.objects.count(),
        TicketTag.objects.count(),
    )


def new_ticket(p, **data) -> Ticket:  # type: ignore[no-untyped-def]
    data.setdefault("subject", "打印机无法连接 / Printer offline")
    data.setdefault("requester", p.bob)
    return create_ticket(
        actor=p.alice, data=TicketData(**data), comment=NewComment(body="It stopped working.")
    )


def test_agent_creates_ticket_with_description_and_create_audit(personas):
    # when
    ticket = new_ticket(personas, priority="high", tags=["VIP", "退货"])
    # then
    ticket.refresh_from_db()
    assert ticket.status == "new"
    assert ticket.custom_status.status_category == "new"
    assert ticket.description == "It stopped working."
    assert ticket.organization == personas.acme  # the requester's organization
    assert ticket.tags == ["vip", "退货"]
    assert set(ticket.tag_rows.values_list("name", flat=True)) == {"vip", "退货"}
    audit = ticket.audits.get()
    created = {e.field_name: e.value for e in audit.events.filter(type="Create")}
    assert created["status"] == "new"
    assert created["priority"] == "high"
    assert created["requester_id"] == personas.bob.pk
    comment = ticket.comments.get()
    comment_event = audit.events.get(type="Comment")
    assert comment_event.pk == comment.pk  # Zendesk: the comment is the event
    assert comment.public is True


def test_ticket_ids_are_sequential_and_other_ids_never_equal_them(personas):
    first = new_ticket(personas)
    second = new_ticket(personas)
    assert second.pk == first.pk + 1
    other_ids = [
        personas.bob.pk,
        personas.acme.pk,
        personas.support.pk,
        first.comments.get().pk,
        first.audits.get().pk,
    ]
    assert min(other_ids) >= OBJECT_ID_START
    assert len(set(other_ids)) == len(other_ids)


def test_subject_defaults_to_first_line_of_description(personas):
    ticket = create_ticket(
        actor=personas.bob,
        data=TicketData(),
        comment=NewComment(body="快递还没到\n订单号 123"),
    )
    assert ticket.subject == "快递还没到"
    assert ticket.requester == personas.bob


def test_assigning_a_new_ticket_opens_it_and_puts_it_in_the_agents_group(personas):
    ticket = new_ticket(personas)
    update_ticket(ticket, actor=personas.alice, data=TicketData(assignee=personas.alice))
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.group == personas.support
    assert ticket.assigned_at is not None


def test_assigning_to_an_agent_outside_the_tickets_group_is_refused(personas):
    billing = accounts.create_group(name="Billing 账务")
    dave = accounts.create_user(
        name="Dave", email="dave@kefu.test", role=Role.AGENT, groups=[billing]
    )
    ticket = new_ticket(personas, group=personas.support)
    before = counts()
    with pytest.raises(ValidationError) as error:
        update_ticket(ticket, actor=personas.alice, data=TicketData(assignee=dave))
    assert "assignee_id" in error.value.message_dict
    assert counts() == before
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_end_user_reply_reopens_a_solved_ticket(personas):
    ticket = new_ticket(personas, assignee=personas.alice)
    update_ticket(ticket, actor=personas.alice, data=TicketData(status="solved"))
    add_comment(ticket, actor=personas.bob, body="还是不行 / Still broken")
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.solved_at is None
    change = AuditEvent.objects.filter(audit__ticket=ticket, field_name="status").last()
    assert (change.previous_value, change.value) == ("solved", "open")


def test_end_user_reply_reopens_a_pending_ticket(personas):
    ticket = new_ticket(personas, assignee=personas.alice, status="pending")
    add_comment(ticket, actor=personas.bob, body="Here is the photo.")
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_agent_internal_note_keeps_a_pending_ticket_pending(personas):
    ticket = new_ticket(personas, assignee=personas.alice, status="pending")
    add_comment(ticket, actor=personas.alice, body="Asked logistics.", public=False)
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    assert ticket.comments.filter(public=False).count() == 1


def test_end_user_comments_are_always_public(personas):
    ticket = new_ticket(personas)
    comment = add_comment(ticket, actor=personas.bob, body="hi", public=False)
    assert comment.public is True


def test_closed_tickets_are_read_only_even_for_the_requesters_reply(personas):
    ticket = new_ticket(personas, assignee=personas.alice, status="solved")
    with clock.frozen_at(clock.now() + dt.timedelta(days=5)):
        close_solved_tickets()
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    before = counts()
    with pytest.raises(ValidationError):
        add_comment(ticket, actor=personas.bob, body="Reopen please")
    with pytest.raises(ValidationError):
        update_ticket(ticket, actor=personas.admin, data=TicketData(priority="low"))
    assert counts() == before


def test_solved_tickets_close_after_the_configured_days_only(personas):
    accounts.update_account_settings(auto_close_days=2)
    with clock.frozen_at(T0):
        old = new_ticket(personas, assignee=personas.alice, status="solved")
    with clock.frozen_at(T0 + dt.timedelta(days=1, hours=12)):
        recent = new_ticket(personas, assignee=personas.alice, status="solved")
    with clock.frozen_at(T0 + dt.timedelta(days=2, hours=1)):
        closed = close_solved_tickets()
        again = close_solved_tickets()
    assert (closed, again) == (1, 0)
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, recent.status) == ("closed", "solved")
    assert old.audits.last().author is None  # the system did it


def test_solving_without_an_assignee_assigns_the_solving_agent(personas):
    ticket = new_ticket(personas, group=personas.support)
    update_ticket(ticket, actor=personas.alice, data=TicketData(status="solved"))
    ticket.refresh_from_db()
    assert ticket.assignee == personas.alice
    assert ticket.solved_at is not None


def test_unknown_status_names_the_field_and_saves_nothing(personas):
    before = counts()
    with pytest.raises(ValidationError) as error:
        new_ticket(personas, status="finished")
    assert "status" in error.value.message_dict
    assert counts() == before


def test_requester_that_does_not_exist_is_refused(personas):
    ghost = User(name="Ghost", email="ghost@example.com")
    before = counts()
    with pytest.raises(ValidationError) as error:
        new_ticket(personas, requester=ghost)
    assert "requester_id" in error.value.message_dict
    assert counts() == before


def test_a_failure_after_validation_leaves_no_partial_ticket(personas, monkeypatch):
    # given the audit write fails after the ticket and comment rows were inserted
    from kefu.tickets.actions.audit import AuditWriter

    def broken_save(self):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(AuditWriter, "save", broken_save)
    before = counts()
    # when
    with pytest.raises(RuntimeError):
        new_ticket(personas, tags=["x"])
    # then the transaction took everything back
    assert counts() == before


def test_an_upload_that_does_not_exist_is_refused(personas):
    from kefu.tickets.models import Attachment

    phantom = Attachment(id=123, file_name="x.txt", content_type="text/plain", size=1)
    before = counts()
    with pytest.raises(ValidationError) as error:
        create_ticket(
            actor=personas.alice,
            data=TicketData(subject="s", requester=personas.bob),
            comment=NewComment(body="b", attachments=[phantom]),
        )
    assert "uploads" in error.value.message_dict
    assert counts() == before


def test_dropdown_value_not_in_options_is_refused_and_a_valid_one_sets_its_tag(personas):
    product = create_ticket_field(
        type="tagger", title="产品 Product", options=[("手机 Phone", "phone"), ("Laptop", "laptop")]
    )
    before = counts()
    with pytest.raises(ValidationError) as error:
        new_ticket(personas, custom_fields={product.pk: "tablet"})
    assert f"custom_fields_{product.pk}" in error.value.message_dict
    assert counts() == before

    ticket = new_ticket(personas, custom_fields={product.pk: "phone"})
    assert ticket.field_value(product.pk) == "phone"
    assert "phone" in ticket.tags
    update_ticket(
        ticket, actor=personas.alice, data=TicketData(custom_fields={product.pk: "laptop"})
    )
    ticket.refresh_from_db()
    assert "laptop" in ticket.tags and "phone" not in ticket.tags
    # removing the option's tag clears the field, as in Zendesk
    update_ticket(ticket, actor=personas.alice, data=TicketData(remove_tags=["laptop"]))
    ticket.refresh_from_db()
    assert ticket.field_value(product.pk) is None


def test_regexp_field_that_does_not_match_is_refused(personas):
    order = create_ticket_field(
        type="regexp", title="订单号 Order", regexp_for_validation=r"[A-Z]{2}\d{6}"
    )
    with pytest.raises(ValidationError) as error:
        new_ticket(personas, custom_fields={order.pk: "12345"})
    assert f"custom_fields_{order.pk}" in error.value.message_dict
    ticket = new_ticket(personas, custom_fields={order.pk: "CN123456"})
    assert ticket.field_value(order.pk) == "CN123456"


@pytest.mark.parametrize(
    ("type", "good", "stored", "bad"),
    [
        ("integer", "42", 42, "4.5"),
        ("decimal", "9.75", 9.75, "abc"),
        ("date", "2026-11-22", "2026-11-22", "22/11/2026"),
        ("checkbox", True, True, "maybe"),
        ("text", "一行", "一行", "two\nlines"),
    ],
)
def test_custom_field_values_are_validated_by_type(personas, type, good, stored, bad):
    field = create_ticket_field(type=type, title=f"Field {type}", tag="ticked")
    with pytest.raises(ValidationError):
        new_ticket(personas, custom_fields={field.pk: bad})
    ticket = new_ticket(personas, custom_fields={field.pk: good})
    assert ticket.field_value(field.pk) == stored


def test_unknown_custom_field_is_refused(personas):
    with pytest.raises(ValidationError) as error:
        new_ticket(personas, custom_fields={999: "x"})
    assert "custom_fields_999" in error.value.message_dict


def test_solving_needs_the_fields_required_to_solve(personas):
    cause = create_ticket_field(type="text", title="Root cause", required=True)
    ticket = new_ticket(personas, assignee=personas.alice)
    with pytest.raises(ValidationError) as error:
        update_ticket(ticket, actor=personas.alice, data=TicketData(status="solved"))
    assert f"custom_fields_{cause.pk}" in error.value.message_dict
    update_ticket(
        ticket,
        actor=personas.alice,
        data=TicketData(status="solved", custom_fields={cause.pk: "Firmware"}),
    )
    ticket.refresh_from_db()
    assert ticket.status == "solved"


def test_customers_must_fill_fields_required_in_portal(personas):
    model = create_ticket_field(type="text", title="型号 Model", required_in_portal=True)
    with pytest.raises(ValidationError):
        create_ticket(
            actor=personas.bob, data=TicketData(subject="s"), comment=NewComment(body="b")
        )
    ticket = create_ticket(
        actor=personas.bob,
        data=TicketData(subject="s", custom_fields={model.pk: "X1"}),
        comment=NewComment(body="b"),
    )
    assert ticket.field_value(model.pk) == "X1"


def test_customers_cannot_set_agent_fields(personas):
    with pytest.raises(PermissionDenied):
        create_ticket(
            actor=personas.bob,
            data=TicketData(subject="s", assignee=personas.alice),
            comment=NewComment(body="b"),
        )
    ticket = new_ticket(personas)
    with pytest.raises(PermissionDenied):
        update_ticket(ticket, actor=personas.bob, data=TicketData(priority="urgent"))


def test_change_events_record_previous_and_new_values(personas):
    ticket = new_ticket(personas, priority="low")
    update_ticket(
        ticket,
        actor=personas.alice,
        data=TicketData(priority="urgent", add_tags=["escalated"], subject="New subject"),
    )
    audit = ticket.audits.order_by("created_at", "id").last()
    changes = {e.field_name: (e.previous_value, e.value) for e in audit.events.all()}
    assert changes["priority"] == ("low", "urgent")
    assert changes["subject"] == ("打印机无法连接 / Printer offline", "New subject")
    assert changes["tags"] == ([], ["escalated"])
    assert audit.author == personas.alice


def test_an_update_that_changes_nothing_writes_no_audit(personas):
    ticket = new_ticket(personas, priority="low")
    before = counts()
    update_ticket(ticket, actor=personas.alice, data=TicketData(priority="low"))
    assert counts() == before


def test_html_comments_are_sanitized(personas):
    ticket = new_ticket(personas)
    update_ticket(
        ticket,
        actor=personas.alice,
        comment=NewComment(html_body='<p onclick="x()">你好<script>alert(1)</script></p>'),
    )
    comment = ticket.comments.order_by("created_at", "id").last()
    assert "<script" not in comment.html_body and "onclick" not in comment.html_body
    assert comment.body == "你好"


def test_custom_status_sets_the_category_and_people_see_its_label(personas):
    waiting = create_custom_status(
        status_category="hold",
        agent_label="Waiting for parts",
        end_user_label="Waiting for parts",
        translations={"zh-hans": {"agent_label": "等待配件", "end_user_label": "等待配件"}},
    )
    ticket = new_ticket(personas, assignee=personas.alice)
    update_ticket(ticket, actor=personas.alice, data=TicketData(custom_status=waiting))
    ticket.refresh_from_db()
    assert ticket.status == "hold"
    assert ticket.custom_status.label_for_agent("zh-hans") == "等待配件"
    assert ticket.custom_status.label_for_end_user("en") == "Waiting for parts"
    # setting the category alone goes back to that category's default status
    update_ticket(ticket, actor=personas.alice, data=TicketData(status="open"))
    ticket.refresh_from_db()
    assert ticket.custom_status.default is True


def test_the_default_custom_status_cannot_be_deactivated(personas):
    ticket = new_ticket(personas)
    with pytest.raises(ValidationError):
        update_custom_status(ticket.custom_status, active=False)


def test_changing_options_keeps_the_ids_of_options_that_stay(personas):
    field = create_ticket_field(type="tagger", title="Size", options=[("S", "s"), ("M", "m")])
    m_id = field.options.get(value="m").pk
    update_ticket_field(field, options=[("Medium", "m"), ("Large", "l")])
    assert sorted(field.options.values_list("value", flat=True)) == ["l", "m"]
    assert field.options.get(value="m").pk == m_id


def test_deleted_tickets_leave_the_scopes_and_refuse_updates(personas):
    from kefu.tickets.access import visible_tickets

    ticket = new_ticket(personas)
    delete_ticket(ticket, actor=personas.alice)
    assert not visible_tickets(personas.admin).filter(pk=ticket.pk).exists()
    with pytest.raises(ValidationError):
        update_ticket(ticket, actor=personas.alice, data=TicketData(priority="low"))
    assert AuditEvent.objects.filter(audit__ticket=ticket, type="Delete").count() == 1


def test_followers_and_ccs_are_recorded(personas):
    ticket = new_ticket(personas, followers=[personas.alice], email_ccs=[personas.carol])
    assert list(ticket.followers.all()) == [personas.alice]
    update_ticket(ticket, actor=personas.alice, data=TicketData(email_ccs=[]))
    assert ticket.email_ccs.count() == 0
    event = AuditEvent.objects.get(audit__ticket=ticket, field_name="email_cc_ids")
    assert event.previous_value == [personas.carol.pk]


def test_incidents_link_to_problems_and_tasks_take_due_dates(personas):
    problem = new_ticket(personas, type="problem")
    incident = new_ticket(personas, type="incident", problem=problem)
    assert list(problem.incidents.all()) == [incident]
    with pytest.raises(ValidationError):
        new_ticket(personas, type="question", problem=problem)
    with pytest.raises(ValidationError):
        update_ticket(incident, actor=personas.alice, data=TicketData(problem=incident))
    task = new_ticket(personas, type="task", due_at=T0)
    assert task.due_at == T0
    with pytest.raises(ValidationError):
        new_ticket(personas, type="question", due_at=T0)
    # a task that stops being a task loses its due date
    update_ticket(task, actor=personas.alice, data=TicketData(type="question"))
    task.refresh_from_db()
    assert task.due_at is None


def test_changing_the_requester_moves_the_ticket_to_their_organization(personas):
    ticket = new_ticket(personas)
    update_ticket(ticket, actor=personas.alice, data=TicketData(requester=personas.carol))
    ticket.refresh_from_db()
    assert (ticket.requester, ticket.organization) == (personas.carol, personas.globex)
    with pytest.raises(ValidationError):
        update_ticket(ticket, actor=personas.alice, data=TicketData(requester=None))


def test_moving_a_ticket_to_another_group_drops_an_assignee_outside_it(personas):
    billing = accounts.create_group(name="Billing")
    ticket = new_ticket(personas, assignee=personas.alice)
    update_ticket(ticket, actor=personas.alice, data=TicketData(group=billing))
    ticket.refresh_from_db()
    assert (ticket.group, ticket.assignee) == (billing, None)
    event = AuditEvent.objects.get(audit__ticket=ticket, type="Change", field_name="assignee_id")
    assert event.previous_value == personas.alice.pk


def test_a_ticket_never_goes_back_to_new_and_only_solved_tickets_close(personas):
    ticket = new_ticket(personas, assignee=personas.alice)
    with pytest.raises(ValidationError):
        update_ticket(ticket, actor=personas.alice, data=TicketData(status="new"))
    with pytest.raises(ValidationError):
        update_ticket(ticket, actor=personas.alice, data=TicketData(status="closed"))


def test_customers_may_mark_their_own_request_solved_but_not_set_other_statuses(personas):
    ticket = new_ticket(personas, assignee=personas.alice)
    with pytest.raises(PermissionDenied):
        update_ticket(ticket, actor=personas.bob, data=TicketData(status="pending"))
    update_ticket(ticket, actor=personas.bob, data=TicketData(status="solved"))
    ticket.refresh_from_db()
    assert ticket.status == "solved"


def test_deleted_tickets_can_be_restored(personas):
    from kefu.tickets.access import visible_tickets
    from kefu.tickets.actions import restore_ticket

    ticket = new_ticket(personas)
    delete_ticket(ticket, actor=personas.alice)
    restore_ticket(ticket, actor=personas.alice)
    assert visible_tickets(personas.bob).filter(pk=ticket.pk).exists()
    restored = AuditEvent.objects.get(audit__ticket=ticket, type="Restore")
    assert (restored.previous_value, restored.value) == ("deleted", "new")
    with pytest.raises(PermissionDenied):
        delete_ticket(ticket, actor=personas.bob)


def test_deleting_a_field_keeps_its_history(personas):
    from kefu.tickets.actions import delete_ticket_field

    field = create_ticket_field(type="text", title="Serial")
    field_id = field.pk
    ticket = new_ticket(personas, custom_fields={field_id: "SN1"})
    delete_ticket_field(field)
    created = AuditEvent.objects.get(audit__ticket=ticket, type="Create", field_name=str(field_id))
    assert created.value == "SN1"
    with pytest.raises(ValidationError):
        update_ticket(ticket, actor=personas.alice, data=TicketData(custom_fields={field_id: "x"}))


def test_bad_field_definitions_are_refused(personas):
    with pytest.raises(ValidationError):
        create_ticket_field(type="tagger", title="Empty", options=[])
    with pytest.raises(ValidationError):
        create_ticket_field(type="tagger", title="Dupes", options=[("A", "a"), ("B", "a")])
    with pytest.raises(ValidationError):
        create_ticket_field(type="regexp", title="Bad", regexp_for_validation="([")
    with pytest.raises(ValidationError):
        create_ticket_field(type="colour", title="Nope")
    with pytest.raises(ValidationError):
        create_custom_status(status_category="waiting", agent_label="x")


def test_creating_and_updating_a_ticket_take_a_fixed_number_of_queries(
    personas, django_assert_max_num_queries
):
    # given a field and earlier tickets, so nothing is cached by accident
    create_ticket_field(type="tagger", title="Product", options=[("Phone", "phone")])
    new_ticket(personas)
    # then a customer's request and an agent's update each cost a bounded number of queries
    # (the ticket actions' own; each hook counts its queries in its app's tests). The ticket
    # fields and default statuses come from the per-process configuration cache, checked by
    # one fingerprint statement (kefu.core.configcache).
    with hooks.paused(), django_assert_max_num_queries(9):
        ticket = create_ticket(
            actor=personas.bob, data=TicketData(subject="s"), comment=NewComment(body="b")
        )
    with hooks.paused(), django_assert_max_num_queries(11):
        update_ticket(
            ticket,
            actor=personas.alice,
            data=TicketData(assignee=personas.alice, priority="high", add_tags=["x"]),
            comment=NewComment(body="On it", public=False),
        )


def test_update_locks_only_the_ticket_row(personas):
    """On PostgreSQL the update's row lock names the ticket table alone: locking the joined
    custom status too would make every update of tickets in the same status wait for each
    other. (SQLite has one writer and no row locks.)"""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    ticket = create_ticket(actor=personas.bob, data=TicketData(subject="Lock"),
                           comment=NewComment(body="x"))  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        update_ticket(ticket, actor=personas.alice, data=TicketData(priority="high"))
    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert locks and all('FOR UPDATE OF "tickets_ticket"' in sql for sql in locks), locks
