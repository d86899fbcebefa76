"""The demo data: believable, bilingual, and as consistent as data written by the actions."""

import io
import re
from collections import Counter
from dataclasses import dataclass

import pytest

from kefu.accounts import actions as accounts
from kefu.accounts.choices import Role
from kefu.accounts.models import User
from kefu.crm.choices import IdentityType
from kefu.crm.models import Identity
from kefu.demo import generate
from kefu.tickets.actions import view_count, view_tickets
from kefu.tickets.choices import EventType, Restriction, Status
from kefu.tickets.models import AuditEvent, Comment, Macro, Ticket, TicketTag, View

CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Demo:
    admin: User
    summary: dict[str, object]
    output: str


@pytest.fixture
def demo(db) -> Demo:  # type: ignore[no-untyped-def]
    # As with `kefu run --demo`, the first admin exists before the demo data is loaded.
    admin = accounts.create_user(name="Admin", email="admin@kefu.test", role=Role.ADMIN)
    output = io.StringIO()
    summary = generate(customers=30, tickets=120, seed=7, stdout=output)
    return Demo(admin=admin, summary=summary, output=output.getvalue())


def test_demo_reports_what_it_created_and_prints_progress(demo):
    assert demo.summary["tickets"] == Ticket.objects.count() == 120
    assert demo.summary["customers"] == User.objects.filter(role=Role.END_USER).count() == 30
    assert demo.summary["comments"] == Comment.objects.count()
    assert "120/120 tickets" in demo.output


def test_demo_has_tickets_in_every_status(demo):
    assert set(Ticket.objects.values_list("status", flat=True)) == set(Status.values)


def test_demo_tickets_are_in_chinese_and_in_english(demo):
    subjects = list(Ticket.objects.values_list("subject", flat=True))
    assert any(CJK.search(subject) for subject in subjects)
    assert any(not CJK.search(subject) for subject in subjects)


def test_demo_has_public_replies_and_internal_notes(demo):
    assert set(Comment.objects.values_list("public", flat=True)) == {True, False}
    notes = Comment.objects.filter(public=False).select_related("author")
    assert all(note.author.is_agent for note in notes)


def test_every_requester_is_an_end_user_with_an_email_identity(demo):
    requesters = User.objects.filter(requested_tickets__isnull=False).distinct()
    emails = set(Identity.objects.filter(type=IdentityType.EMAIL).values_list("user_id", "value"))
    for requester in requesters:
        assert requester.role == Role.END_USER
        assert (requester.pk, requester.email) in emails


def test_some_customers_share_an_organization_by_email_domain(demo):
    org_tickets = Ticket.objects.filter(organization__isnull=False).select_related(
        "requester", "organization"
    )
    assert org_tickets.exists()
    for ticket in org_tickets:
        domain = ticket.requester.email.rsplit("@", 1)[1]
        assert domain in ticket.organization.domain_names


def test_demo_views_return_tickets_for_the_admin_and_the_agents(demo):
    unassigned = View.objects.get(title="未分配 / Unassigned", restriction=Restriction.SHARED)
    assert view_count(unassigned, user=demo.admin) > 0
    assert all(t.assignee_id is None for t in view_tickets(unassigned, user=demo.admin))
    agent = User.objects.get(email="li.na@kefu-demo.example")
    # one shared view; "current_user" makes it each agent's own
    mine = View.objects.get(title="我的待办 / My open tickets", restriction=Restriction.SHARED)
    mine_tickets = list(view_tickets(mine, user=agent))
    assert mine_tickets
    assert {t.assignee_id for t in mine_tickets} == {agent.pk}
    assert Macro.objects.filter(restriction=Restriction.SHARED).exists()


def test_ticket_tags_match_their_tag_rows(demo):
    rows = Counter(TicketTag.objects.values_list("ticket_id", "name"))
    assert all(count == 1 for count in rows.values())
    expected = {(t.pk, name) for t in Ticket.objects.all() for name in t.tags}
    assert set(rows) == expected


def test_each_comment_has_its_comment_event_and_each_ticket_one_create_audit(demo):
    for ticket in Ticket.objects.all():
        comment_ids = set(ticket.comments.values_list("pk", flat=True))
        events = AuditEvent.objects.filter(audit__ticket=ticket, type=EventType.COMMENT)
        assert set(events.values_list("comment_id", flat=True)) == comment_ids
        assert set(events.values_list("pk", flat=True)) == comment_ids
        creates = AuditEvent.objects.filter(audit__ticket=ticket, type=EventType.CREATE)
        assert creates.get(field_name="status").value == ticket.status
        assert 1 <= len(comment_ids) <= 6


def test_dates_follow_the_conversation(demo):
    for ticket in Ticket.objects.prefetch_related("comments"):
        comments = list(ticket.comments.all())
        assert comments[0].created_at == ticket.created_at
        assert all(c.created_at <= ticket.updated_at for c in comments)
        assert (ticket.solved_at is not None) == (ticket.status in (Status.SOLVED, Status.CLOSED))


def test_new_tickets_are_unassigned_and_open_ones_are_assigned(demo):
    assert not Ticket.objects.filter(status=Status.NEW, assignee__isnull=False).exists()
    assert not Ticket.objects.filter(status=Status.OPEN, assignee__isnull=True).exists()


def test_generating_again_adds_tickets_without_clashing(demo):
    second = generate(customers=5, tickets=12, seed=7)
    assert Ticket.objects.count() == 132
    assert second["views"] == 0
    assert second["macros"] == 0
    assert User.objects.filter(role=Role.END_USER).count() == 35
    assert User.objects.filter(role=Role.AGENT).count() == demo.summary["agents"]


def test_without_an_admin_agents_get_the_views_as_their_own(db):
    generate(customers=5, tickets=12, seed=3)
    assert not View.objects.exclude(restriction=Restriction.USER).exists()
    agent = User.objects.get(email="li.na@kefu-demo.example")
    assert View.objects.filter(restriction_user=agent, title="紧急 / Urgent").exists()


def test_some_demo_tickets_wear_the_demos_custom_statuses(demo):
    custom = Ticket.objects.filter(custom_status__default=False).select_related("custom_status")
    assert custom.exists()
    assert all(t.custom_status.status_category == t.status for t in custom)


def test_demo_has_business_hours_an_sla_policy_and_a_support_address(demo):
    """The SLA badges, the SLA report and the email settings have something to show; a
    second run adds none of them again."""
    from kefu.channels.email.models import SupportAddress
    from kefu.sla.models import Schedule, SlaPolicy, SlaTicketState, TicketMetricEvent

    schedule = Schedule.objects.get(name__contains="Shanghai")
    assert schedule.time_zone == "Asia/Shanghai" and schedule.is_default
    assert schedule.holidays.exists()  # China's holidays (chinesecalendar) for this year
    policy = SlaPolicy.objects.get()
    assert {m["priority"] for m in policy.policy_metrics} == {"urgent", "high", "normal", "low"}
    assert SupportAddress.objects.get().email == "support@kefu-demo.example"
    # The demo ends by enqueueing a rebuild of every ticket's SLA state (the test settings run
    # it at once): solved tickets have fulfilled targets, so the SLA report has figures.
    assert SlaTicketState.objects.filter(policy=policy).exists()
    assert TicketMetricEvent.objects.filter(type="fulfill").exists()
    generate(customers=5, tickets=3, seed=11)
    counts = Schedule.objects.count(), SlaPolicy.objects.count(), SupportAddress.objects.count()
    assert counts == (1, 1, 1)
