import datetime as dt

import pytest

from kefu.accounts import actions as accounts
from kefu.accounts.choices import Role
from kefu.core import clock
from kefu.crm import actions as crm
from kefu.search.service import (
    ResultWindowExceeded,
    count,
    decode_cursor,
    export,
    search,
)
from kefu.search.syntax import SearchSyntaxError
from kefu.tickets.actions import NewComment, TicketData, add_comment, create_ticket, delete_ticket

T0 = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)


def ticket(p, subject, *, requester=None, body="Please help.", at=T0, **data):  # type: ignore[no-untyped-def]
    with clock.frozen_at(at):
        return create_ticket(
            actor=p.alice,
            data=TicketData(subject=subject, requester=requester or p.bob, **data),
            comment=NewComment(body=body),
        )


def found(user, query, **kwargs):  # type: ignore[no-untyped-def]
    return [
        (hit.result_type, hit.object.pk) for hit in search(user=user, query=query, **kwargs).hits
    ]


def ticket_ids(user, query, **kwargs):  # type: ignore[no-untyped-def]
    return {pk for kind, pk in found(user, query, **kwargs) if kind == "ticket"}


def test_chinese_words_are_found_inside_longer_text(personas):
    refund = ticket(personas, "申请退款被拒绝")
    in_comment = ticket(personas, "Order question")
    add_comment(in_comment, actor=personas.alice, body="您的退款已经处理完毕。")
    ticket(personas, "打印机无法连接")
    assert ticket_ids(personas.alice, "退款") == {refund.pk, in_comment.pk}
    assert ticket_ids(personas.alice, "type:ticket 退款 拒绝") == {refund.pk}


def test_bob_never_finds_carols_tickets(personas):
    bobs = ticket(personas, "退款 for Bob")
    carols = ticket(personas, "退款 for Carol", requester=personas.carol)
    assert ticket_ids(personas.bob, "退款") == {bobs.pk}
    assert ticket_ids(personas.carol, "退款") == {carols.pk}
    assert ticket_ids(personas.bob, f"{carols.pk}") == set()
    assert count(user=personas.bob, query="type:ticket") == 1


def test_end_users_do_not_find_tickets_by_words_in_internal_notes(personas):
    note = ticket(personas, "Printer")
    add_comment(note, actor=personas.alice, body="内部备注: VIP refund approved", public=False)
    assert ticket_ids(personas.alice, "内部备注") == {note.pk}
    assert ticket_ids(personas.bob, "内部备注") == set()
    assert ticket_ids(personas.bob, "comment:内部备注") == set()


def test_agents_find_only_tickets_of_their_groups(personas):
    billing = accounts.create_group(name="Billing")
    accounts.create_user(name="Eve", email="eve@kefu.test", role=Role.AGENT, groups=[billing])
    support = ticket(personas, "Refund", group=personas.support)
    other = ticket(personas, "Refund", group=billing)
    assert ticket_ids(personas.alice, "refund") == {support.pk}
    assert ticket_ids(personas.admin, "refund") == {support.pk, other.pk}


def test_status_and_priority_compare_in_zendesks_order(personas):
    new = ticket(personas, "a", priority="low")
    pending = ticket(personas, "b", status="pending", priority="high")
    solved = ticket(personas, "c", status="solved", assignee=personas.alice, priority="urgent")
    nothing = ticket(personas, "d")
    alice = personas.alice
    assert ticket_ids(alice, "status<solved") == {new.pk, pending.pk, nothing.pk}
    assert ticket_ids(alice, "status>=pending") == {pending.pk, solved.pk}
    assert ticket_ids(alice, "status:new") == {new.pk, nothing.pk}
    assert ticket_ids(alice, "-status:new") == {pending.pk, solved.pk}
    assert ticket_ids(alice, "priority>normal") == {pending.pk, solved.pk}
    assert ticket_ids(alice, "priority<=low") == {new.pk}
    assert ticket_ids(alice, "priority:none") == {nothing.pk}
    # one keyword given twice matches either value; different keywords must all match
    assert ticket_ids(alice, "status:new status:pending") == {new.pk, pending.pk, nothing.pk}
    assert ticket_ids(alice, "status:new status:pending priority:low") == {new.pk}
    assert ticket_ids(alice, "-status:new -status:pending") == {solved.pk}


def test_people_keywords_take_email_name_id_me_and_none(personas):
    mine = ticket(personas, "x", assignee=personas.alice)
    unassigned = ticket(personas, "y", requester=personas.carol)
    alice = personas.alice
    assert ticket_ids(alice, "assignee:me") == {mine.pk}
    assert ticket_ids(alice, "assignee:none") == {unassigned.pk}
    assert ticket_ids(alice, "-assignee:alice@kefu.test") == {unassigned.pk}
    assert ticket_ids(alice, "requester:carol@globex.test") == {unassigned.pk}
    assert ticket_ids(alice, f"requester:{personas.bob.pk}") == {mine.pk}
    assert ticket_ids(alice, 'requester:"Carol 陈"') == {unassigned.pk}
    assert ticket_ids(alice, "organization:Acme") == {mine.pk}
    assert ticket_ids(alice, "organization:globex") == {unassigned.pk}
    assert ticket_ids(alice, "group:Support") == {mine.pk}
    assert ticket_ids(alice, "group:none") == {unassigned.pk}


def test_tags_subject_description_and_external_id(personas):
    vip = ticket(personas, "打印机 offline", tags=["vip", "退货"], external_id="crm-1")
    plain = ticket(personas, "Invoice", body="发票抬头错误", tags=["billing"])
    alice = personas.alice
    assert ticket_ids(alice, "tags:退货") == {vip.pk}
    assert ticket_ids(alice, 'tags:"billing vip"') == {vip.pk, plain.pk}
    assert ticket_ids(alice, "-tags:vip") == {plain.pk}
    assert ticket_ids(alice, "subject:打印机") == {vip.pk}
    assert ticket_ids(alice, "description:发票") == {plain.pk}
    assert ticket_ids(alice, "external_id:crm-1") == {vip.pk}
    assert ticket_ids(alice, '"打印机 offline"') == {vip.pk}


def test_dates_compare_with_days_and_times_ago(personas):
    old = ticket(personas, "old", at=T0 - dt.timedelta(days=10))
    recent = ticket(personas, "recent", at=T0 - dt.timedelta(hours=2))
    with clock.frozen_at(T0):
        assert ticket_ids(personas.alice, "created>1days") == {recent.pk}
        assert ticket_ids(personas.alice, "created<1days") == {old.pk}
        assert ticket_ids(personas.alice, "created:2026-10-31") == {old.pk}
        assert ticket_ids(personas.alice, "created>=2026-11-01") == {recent.pk}
        assert ticket_ids(personas.alice, "updated<=2026-10-31") == {old.pk}
        assert ticket_ids(personas.alice, "solved<2026-12-01") == set()


def test_people_organizations_and_groups_are_found_too(personas):
    crm.update_organization(personas.acme, notes="大客户 since 2019", tags=["vip"])
    accounts.update_user(personas.bob, tags=["大客户"])
    alice = personas.alice
    assert ("user", personas.bob.pk) in found(alice, "bob")
    assert found(alice, "type:organization 大客户") == [("organization", personas.acme.pk)]
    assert found(alice, "type:user tags:大客户") == [("user", personas.bob.pk)]
    assert found(alice, "tags:vip") == [("organization", personas.acme.pk)]
    assert found(alice, "type:group support") == [("group", personas.support.pk)]
    assert set(found(alice, "type:user role:agent")) == {("user", personas.alice.pk)}
    assert set(found(alice, "type:user organization:acme")) == {("user", personas.bob.pk)}
    # end users see neither notes nor groups nor other customers
    assert found(personas.bob, "type:organization 大客户") == []
    assert found(personas.bob, "type:group support") == []
    assert found(personas.bob, "type:user carol") == []


def test_a_ticket_only_keyword_limits_results_to_tickets(personas):
    ticket(personas, "Bob's printer")
    kinds = {kind for kind, _pk in found(personas.alice, "bob status<closed")}
    assert kinds == {"ticket"}


def test_deleted_tickets_are_not_found(personas):
    gone = ticket(personas, "退款")
    delete_ticket(gone, actor=personas.alice)
    assert ticket_ids(personas.admin, "退款") == set()


def test_sorting_by_priority_follows_zendesks_order_and_pages_are_stable(personas):
    low = ticket(personas, "s", priority="low")
    urgent = ticket(personas, "s", priority="urgent")
    normal = ticket(personas, "s", priority="normal")
    none = ticket(personas, "s")
    alice = personas.alice
    ordered = [pk for _k, pk in found(alice, "type:ticket", sort_by="priority")]
    assert ordered == [urgent.pk, normal.pk, low.pk, none.pk]
    ascending = [pk for _k, pk in found(alice, "type:ticket order_by:priority sort:asc")]
    assert ascending == [low.pk, normal.pk, urgent.pk, none.pk]
    second_page = found(alice, "type:ticket", sort_by="priority", offset=1, limit=2)
    assert [pk for _k, pk in second_page] == [normal.pk, low.pk]


def test_mixed_results_are_merged_by_the_sort_key(personas):
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    t = ticket(personas, "acme printer", at=later)
    hits = found(personas.alice, "acme", sort_by="created_at")
    assert hits[0] == ("ticket", t.pk)
    assert ("organization", personas.acme.pk) in hits
    assert search(user=personas.alice, query="acme").count == len(hits)


def test_results_beyond_the_first_thousand_are_refused(personas):
    with pytest.raises(ResultWindowExceeded):
        search(user=personas.alice, query="x", offset=950, limit=100)
    search(user=personas.alice, query="x", offset=900, limit=100)


def test_an_unknown_sort_field_is_an_error(personas):
    with pytest.raises(SearchSyntaxError):
        search(user=personas.alice, query="x", sort_by="colour")


def test_export_walks_every_match_with_a_cursor(personas):
    tickets = [ticket(personas, f"批量 {n}") for n in range(5)]
    seen: list[int] = []
    after = None
    while True:
        page = export(user=personas.alice, query="批量", result_type="ticket", after=after, size=2)
        seen += [hit.object.pk for hit in page.hits]
        if not page.has_more:
            break
        after = page.after_cursor
    assert seen == [t.pk for t in tickets]
    assert decode_cursor(page.after_cursor) == tickets[-1].pk  # type: ignore[arg-type]
    with pytest.raises(SearchSyntaxError):
        export(user=personas.alice, query="x", result_type="ticket", after="!!not-a-cursor")


def test_search_loads_each_page_in_a_bounded_number_of_queries(
    personas, django_assert_max_num_queries
):
    for n in range(30):
        ticket(personas, f"退款 {n}")
    with django_assert_max_num_queries(6):
        page = search(user=personas.admin, query="type:ticket 退款", limit=25)
    assert len(page.hits) == 25 and page.count == 30
