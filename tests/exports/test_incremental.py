import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kefu.accounts import actions as accounts
from kefu.accounts.models import User
from kefu.core import clock
from kefu.crm import actions as crm
from kefu.crm.models import Organization
from kefu.exports.incremental import (
    export_organizations,
    export_ticket_events,
    export_tickets,
    export_users,
    exported_status,
    unix_time,
)
from kefu.tickets.actions import (
    NewComment,
    TicketData,
    add_comment,
    create_ticket,
    create_upload,
    delete_ticket,
    update_ticket,
)
from kefu.tickets.models import Audit, Ticket

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
START = unix_time(T0)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def ticket(p, subject: str, when: float) -> Ticket:  # type: ignore[no-untyped-def]
    with clock.frozen_at(at(when)):
        return create_ticket(
            actor=p.alice,
            data=TicketData(subject=subject, requester=p.bob),
            comment=NewComment(body="请帮忙 / Please help"),
        )


def walk_tickets(user, **kwargs):  # type: ignore[no-untyped-def]
    pages = [export_tickets(user=user, **kwargs)]
    while not pages[-1].end_of_stream:
        pages.append(
            export_tickets(user=user, cursor=pages[-1].after_cursor, per_page=kwargs["per_page"])
        )
    return pages


def test_ticket_export_walks_every_change_once_in_order(personas):
    first = ticket(personas, "first", 0)
    # the same instant: the page boundary falls between them, the id breaks the tie
    second = ticket(personas, "same instant a", 1.2)
    third = ticket(personas, "same instant b", 1.2)
    fourth = ticket(personas, "last", 2)
    with clock.frozen_at(at(10)):
        pages = walk_tickets(personas.admin, start_time=START, per_page=2)
    seen = [t.pk for page in pages for t in page.items]
    assert seen == [first.pk, second.pk, third.pk, fourth.pk]
    assert [page.end_of_stream for page in pages] == [False, True]


def test_the_last_cursor_stays_valid_for_the_next_poll(personas):
    early = ticket(personas, "early", 0)
    ticket(personas, "other", 1)
    with clock.frozen_at(at(10)):
        done = export_tickets(user=personas.admin, start_time=START)
    assert done.end_of_stream
    with clock.frozen_at(at(20)):
        update_ticket(early, actor=personas.alice, data=TicketData(priority="high"))
    with clock.frozen_at(at(30)):
        later = export_tickets(user=personas.admin, cursor=done.after_cursor)
        again = export_tickets(user=personas.admin, cursor=later.after_cursor)
    assert [t.pk for t in later.items] == [early.pk]
    assert again.items == [] and again.end_of_stream
    assert again.after_cursor == later.after_cursor


def test_changes_in_the_running_second_wait_for_the_next_request(personas):
    ticket(personas, "now", 5.4)
    with clock.frozen_at(at(5.9)):
        assert export_tickets(user=personas.admin, start_time=START).items == []
    with clock.frozen_at(at(6)):
        assert len(export_tickets(user=personas.admin, start_time=START).items) == 1


def test_deleted_tickets_appear_with_status_deleted_unless_excluded(personas):
    gone = ticket(personas, "gone", 0)
    kept = ticket(personas, "kept", 1)
    with clock.frozen_at(at(2)):
        delete_ticket(gone, actor=personas.alice)
    with clock.frozen_at(at(10)):
        page = export_tickets(user=personas.admin, start_time=START)
        without = export_tickets(user=personas.admin, start_time=START, exclude_deleted=True)
    assert [(t.pk, exported_status(t)) for t in page.items] == [
        (kept.pk, "new"),
        (gone.pk, "deleted"),
    ]
    assert [t.pk for t in without.items] == [kept.pk]


def test_start_time_selects_changes_at_or_after_it(personas):
    ticket(personas, "before", 0)
    after = ticket(personas, "after", 3)
    with clock.frozen_at(at(10)):
        page = export_tickets(user=personas.admin, start_time=START + 3)
    assert [t.pk for t in page.items] == [after.pk]


def test_only_admins_export(personas):
    for someone in (personas.alice, personas.bob):
        with pytest.raises(PermissionDenied):
            export_tickets(user=someone, start_time=START)
        with pytest.raises(PermissionDenied):
            export_ticket_events(user=someone, start_time=START)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start_time": "yesterday"}, "start_time"),
        ({"start_time": -5}, "start_time"),
        ({"start_time": START + 3600}, "start_time"),
        ({}, "start_time"),
        ({"cursor": "not a cursor"}, "cursor"),
        ({"start_time": START, "per_page": 1001}, "per_page"),
    ],
)
def test_bad_parameters_name_the_field(personas, kwargs, field):
    with clock.frozen_at(at(10)), pytest.raises(ValidationError) as error:
        export_tickets(user=personas.admin, **kwargs)
    assert field in error.value.message_dict


def test_user_export_includes_deleted_people(personas):
    User.objects.update(updated_at=at(-100))
    User.objects.filter(pk=personas.carol.pk).update(updated_at=at(1), is_active=False)
    dora = accounts.create_user(name="Dora 赵", email="dora@acme.test")
    User.objects.filter(pk=dora.pk).update(updated_at=at(2))
    with clock.frozen_at(at(10)):
        page = export_users(user=personas.admin, start_time=START, per_page=1)
        rest = export_users(user=personas.admin, cursor=page.after_cursor, per_page=1)
        end = export_users(user=personas.admin, cursor=rest.after_cursor, per_page=1)
    assert [u.pk for u in page.items] == [personas.carol.pk]
    assert not page.items[0].is_active and not page.end_of_stream
    assert [u.pk for u in rest.items] == [dora.pk]
    assert end.items == [] and end.end_of_stream


def test_organization_export_is_time_based_and_repeats_the_last_second(personas):
    Organization.objects.update(updated_at=at(-100))
    a = crm.create_organization(name="A 公司")
    b = crm.create_organization(name="B 公司")
    c = crm.create_organization(name="C 公司")
    Organization.objects.filter(pk=a.pk).update(updated_at=at(1))
    Organization.objects.filter(pk=b.pk).update(updated_at=at(2.5))
    Organization.objects.filter(pk=c.pk).update(updated_at=at(3))
    with clock.frozen_at(at(10)):
        first = export_organizations(user=personas.admin, start_time=START, per_page=2)
        second = export_organizations(user=personas.admin, start_time=first.end_time, per_page=2)
    assert [o.pk for o in first.items] == [a.pk, b.pk]
    assert (first.end_time, first.count, first.end_of_stream) == (START + 2, 2, False)
    # b's second comes again; fewer than per_page items ends the stream
    assert [o.pk for o in second.items] == [b.pk, c.pk]
    assert second.end_time == START + 3
    with clock.frozen_at(at(10)):
        last = export_organizations(user=personas.admin, start_time=second.end_time, per_page=2)
    assert [o.pk for o in last.items] == [c.pk] and last.end_of_stream


def test_a_page_full_of_one_second_takes_the_whole_second_and_moves_on(personas):
    Organization.objects.update(updated_at=at(-100))
    orgs = [crm.create_organization(name=f"同一秒 {n}") for n in range(3)]
    Organization.objects.filter(pk__in=[o.pk for o in orgs]).update(updated_at=at(4))
    with clock.frozen_at(at(10)):
        page = export_organizations(user=personas.admin, start_time=START, per_page=2)
    assert sorted(o.pk for o in page.items) == sorted(o.pk for o in orgs)
    assert page.end_time == START + 5 and not page.end_of_stream


def test_ticket_events_carry_child_events_and_comments_on_request(personas):
    t = ticket(personas, "打印机", 0)
    with clock.frozen_at(at(1)):
        update_ticket(t, actor=personas.alice, data=TicketData(priority="high", tags=["vip"]))
    upload = create_upload(uploader=personas.alice, file_name="发票.txt", content=b"invoice")
    with clock.frozen_at(at(2)):
        add_comment(t, actor=personas.alice, body="内部备注", public=False, attachments=[upload])
    with clock.frozen_at(at(10)):
        bare = export_ticket_events(user=personas.admin, start_time=START)
        full = export_ticket_events(user=personas.admin, start_time=START, include_comments=True)
    created, changed, commented = bare.items
    assert created["event_type"] == "Audit" and created["ticket_id"] == t.pk
    assert created["timestamp"] == START and created["updater_id"] == personas.alice.pk
    creates = {e["field_name"]: e[e["field_name"]] for e in created["child_events"]}
    assert creates["subject"] == "打印机" and creates["status"] == "new"
    assert created["comment_present"] and not any(
        e["event_type"] == "Comment" for e in created["child_events"]
    )
    by_field = {e["field_name"]: e for e in changed["child_events"]}
    assert by_field["priority"]["priority"] == "high"
    assert by_field["priority"]["previous_value"] is None
    assert by_field["tags"]["added_tags"] == ["vip"]
    assert commented["child_events"] == []
    note = next(e for e in full.items[2]["child_events"] if e["event_type"] == "Comment")
    assert (note["body"], note["public"], note["author_id"]) == (
        "内部备注",
        False,
        personas.alice.pk,
    )
    assert full.end_of_stream and full.end_time == START + 2


def test_ticket_events_load_in_a_fixed_number_of_queries(personas, django_assert_max_num_queries):
    for n in range(10):
        t = ticket(personas, f"t{n}", n / 10)
        with clock.frozen_at(at(n / 10)):
            add_comment(t, actor=personas.alice, body="reply")
    with clock.frozen_at(at(10)), django_assert_max_num_queries(6):
        page = export_ticket_events(user=personas.admin, start_time=START, include_comments=True)
    assert page.count == Audit.objects.count() >= 20  # rules may add audits of their own


def test_events_a_trigger_added_name_the_trigger(personas):
    from kefu.rules import actions as rules

    trigger = rules.create_trigger(
        actor=personas.admin,
        title="Tag new tickets",
        conditions={"all": [{"field": "update_type", "operator": "is", "value": "Create"}]},
        actions=[{"field": "current_tags", "value": "自动"}],
    )
    ticket(personas, "打印机", 0)
    with clock.frozen_at(at(10)):
        page = export_ticket_events(user=personas.admin, start_time=START)
    children = [c for item in page.items for c in item["child_events"]]
    tagged = [c for c in children if c.get("field_name") == "tags" and "自动" in (c["tags"] or [])]
    assert tagged, children
    assert (tagged[-1]["via"], tagged[-1]["via_reference_id"]) == ("rule", trigger.pk)
