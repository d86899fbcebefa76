import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.accounts import actions as accounts
from kefu.accounts.choices import Role
from kefu.tickets.access import visible_macros, visible_views
from kefu.tickets.actions import (
    NewComment,
    TicketData,
    apply_macro,
    create_macro,
    create_ticket,
    create_view,
    update_ticket,
    view_count,
    view_tickets,
)
from kefu.tickets.models import Audit, Ticket

UNSOLVED = {"all": [{"field": "status", "operator": "less_than", "value": "solved"}], "any": []}


def make_tickets(p, n, **data):  # type: ignore[no-untyped-def]
    return [
        create_ticket(
            actor=p.alice,
            data=TicketData(subject=f"Ticket {i}", requester=p.bob, **data),
            comment=NewComment(body="body"),
        )
        for i in range(n)
    ]


def test_a_view_lists_and_counts_matching_tickets_the_agent_may_see(personas):
    open_ones = make_tickets(personas, 3, group=personas.support, priority="high")
    solved = make_tickets(
        personas, 1, group=personas.support, assignee=personas.alice, status="solved"
    )
    billing = accounts.create_group(name="Billing")
    hidden = make_tickets(personas, 2, group=billing)
    view = create_view(actor=personas.admin, title="未解决 Unsolved", conditions=UNSOLVED)

    assert view_count(view, user=personas.alice) == 3
    assert set(view_tickets(view, user=personas.alice)) == set(open_ones)
    assert view_count(view, user=personas.admin) == 5
    assert not set(view_tickets(view, user=personas.alice)) & set(hidden + solved)


def test_view_order_follows_its_execution_settings(personas):
    low, urgent, normal = (
        make_tickets(personas, 1, priority=p)[0] for p in ("low", "urgent", "normal")
    )
    view = create_view(
        actor=personas.admin,
        title="By priority",
        conditions=UNSOLVED,
        execution={"sort_by": "priority", "sort_order": "desc"},
    )
    assert list(view_tickets(view, user=personas.admin)) == [urgent, normal, low]


def test_the_view_list_page_takes_a_fixed_number_of_queries(personas):
    view = create_view(actor=personas.admin, title="All open", conditions=UNSOLVED)
    make_tickets(personas, 3, group=personas.support, assignee=personas.alice)

    def first_page() -> list[tuple[str, str, str]]:
        page = view_tickets(view, user=personas.alice).select_related(
            "requester", "assignee", "group", "custom_status"
        )[:25]
        return [(t.requester.name, t.assignee.name, t.custom_status.agent_label) for t in page]

    with CaptureQueriesContext(connection) as few:
        first_page()
    make_tickets(personas, 20, group=personas.support, assignee=personas.alice)
    with CaptureQueriesContext(connection) as many:
        rows = first_page()
    assert len(rows) == 23
    assert len(many) == len(few) <= 3


def test_a_view_with_an_unknown_field_or_operator_is_refused(personas):
    with pytest.raises(ValidationError) as error:
        create_view(
            actor=personas.admin,
            title="Bad",
            conditions={"all": [{"field": "mood", "operator": "is", "value": "happy"}]},
        )
    assert "mood" in str(error.value)
    with pytest.raises(ValidationError):
        create_view(
            actor=personas.admin,
            title="Bad",
            conditions={"all": [{"field": "status", "operator": "resembles", "value": "open"}]},
        )


def test_agents_keep_personal_views_and_only_admins_share(personas):
    with pytest.raises(PermissionDenied):
        create_view(actor=personas.alice, title="Shared", conditions=UNSOLVED)
    mine = create_view(actor=personas.alice, title="Mine", conditions=UNSOLVED, restriction="User")
    frank = accounts.create_user(name="Frank", email="frank@kefu.test", role=Role.AGENT)
    assert list(visible_views(personas.alice)) == [mine]
    assert not visible_views(frank).exists()
    assert not visible_views(personas.bob).exists()


def test_applying_a_macro_previews_changes_without_saving(personas):
    [ticket] = make_tickets(personas, 1, group=personas.support)
    macro = create_macro(
        actor=personas.admin,
        title="退款已处理 Refund done",
        actions=[
            {"field": "status", "value": "solved"},
            {"field": "assignee_id", "value": "current_user"},
            {"field": "current_tags", "value": "refund"},
            {"field": "comment_value", "value": "您的退款已处理。Your refund is done."},
        ],
    )
    audits_before = Audit.objects.count()
    result = apply_macro(ticket, macro, actor=personas.alice)
    ticket.refresh_from_db()
    assert ticket.status == "new" and Audit.objects.count() == audits_before
    assert result.data.status == "solved" and result.data.assignee == personas.alice
    assert result.comment is not None and result.comment.public is True

    update_ticket(ticket, actor=personas.alice, data=result.data, comment=result.comment)
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.status, ticket.assignee, ticket.tags) == ("solved", personas.alice, ["refund"])
    assert ticket.comments.last().body == "您的退款已处理。Your refund is done."
    assert list(visible_macros(personas.alice)) == [macro]


def test_a_macro_with_an_unknown_action_or_bad_value_is_refused(personas):
    with pytest.raises(ValidationError) as error:
        create_macro(actor=personas.admin, title="x", actions=[{"field": "teleport", "value": 1}])
    assert "teleport" in str(error.value)
    with pytest.raises(ValidationError):
        create_macro(
            actor=personas.admin, title="x", actions=[{"field": "status", "value": "gone"}]
        )


def test_current_user_in_a_view_means_the_agent_looking_at_it(personas):
    # given Zendesk's default "Your unsolved tickets" view, shared by everyone
    grace = accounts.create_user(
        name="Grace 郭", email="grace@kefu.test", role=Role.AGENT, groups=[personas.support]
    )
    [alices] = make_tickets(personas, 1, assignee=personas.alice)
    [graces] = make_tickets(personas, 1, assignee=grace)
    make_tickets(personas, 1, group=personas.support)  # unassigned
    view = create_view(
        actor=personas.admin,
        title="Your unsolved tickets",
        conditions={
            "all": [
                {"field": "status", "operator": "less_than", "value": "solved"},
                {"field": "assignee_id", "operator": "is", "value": "current_user"},
            ]
        },
    )
    # then each agent sees their own
    assert list(view_tickets(view, user=personas.alice)) == [alices]
    assert list(view_tickets(view, user=grace)) == [graces]
    assert view_count(view, user=personas.admin) == 0


def test_views_and_macros_are_changed_and_deleted_only_by_whoever_owns_them(personas):
    from kefu.tickets.actions import delete_macro, delete_view, update_macro, update_view

    shared = create_view(actor=personas.admin, title="Shared", conditions=UNSOLVED)
    mine = create_view(actor=personas.alice, title="Mine", conditions=UNSOLVED, restriction="User")
    with pytest.raises(PermissionDenied):
        update_view(shared, actor=personas.alice, title="Hijacked")
    update_view(
        mine,
        actor=personas.alice,
        title="我的视图",
        execution={"sort_by": "created_at", "sort_order": "asc", "columns": ["id", "subject"]},
    )
    assert (mine.title, mine.execution["sort_by"]) == ("我的视图", "created_at")
    with pytest.raises(ValidationError):
        update_view(mine, actor=personas.alice, execution={"sort_by": "mood"})
    update_view(
        shared, actor=personas.admin, restriction="Group", restriction_group=personas.support
    )
    assert shared.restriction_group == personas.support
    delete_view(mine, actor=personas.alice)

    macro = create_macro(
        actor=personas.admin, title="Close", actions=[{"field": "status", "value": "solved"}]
    )
    with pytest.raises(PermissionDenied):
        delete_macro(macro, actor=personas.alice)
    update_macro(macro, actor=personas.admin, actions=[{"field": "priority", "value": "high"}])
    with pytest.raises(ValidationError):
        update_macro(macro, actor=personas.admin, actions=[])
    delete_macro(macro, actor=personas.admin)


def test_a_macro_can_set_custom_fields_and_counts_its_uses(personas):
    from kefu.tickets.actions import create_ticket_field, record_macro_use

    product = create_ticket_field(type="tagger", title="Product", options=[("Phone", "phone")])
    macro = create_macro(
        actor=personas.admin,
        title="Phone issue",
        actions=[
            {"field": f"custom_fields_{product.pk}", "value": "phone"},
            {"field": "group_id", "value": str(personas.support.pk)},
            {"field": "comment_value_html", "value": "<b>内部</b>"},
            {"field": "comment_mode_is_public", "value": "false"},
        ],
    )
    [ticket] = make_tickets(personas, 1)
    result = apply_macro(ticket, macro, actor=personas.alice)
    assert result.data.custom_fields == {product.pk: "phone"}
    assert result.data.group == personas.support
    assert result.comment is not None and result.comment.public is False
    record_macro_use(macro)
    macro.refresh_from_db()
    assert macro.usage_count == 1
    with pytest.raises(ValidationError):
        create_macro(
            actor=personas.admin,
            title="Bad option",
            actions=[{"field": f"custom_fields_{product.pk}", "value": "tablet"}],
        )
