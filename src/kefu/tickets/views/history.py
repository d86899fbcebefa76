"""The ticket's history (its audits), described for people: who changed what, from what to what."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.accounts.models import Group, User
from kefu.crm.models import Organization
from kefu.web.decorators import agent_required

from ..access import access_ticket
from ..choices import EventType, Priority, Status, TicketType
from ..models import Audit, AuditEvent, CustomStatus, Ticket, TicketField

FIELD_LABELS = {
    "subject": gettext_lazy("Subject"),
    "status": gettext_lazy("Status"),
    "custom_status_id": gettext_lazy("Status label"),
    "priority": gettext_lazy("Priority"),
    "type": gettext_lazy("Type"),
    "assignee_id": gettext_lazy("Assignee"),
    "requester_id": gettext_lazy("Requester"),
    "submitter_id": gettext_lazy("Submitter"),
    "group_id": gettext_lazy("Group"),
    "organization_id": gettext_lazy("Organization"),
    "tags": gettext_lazy("Tags"),
    "follower_ids": gettext_lazy("Followers"),
    "email_cc_ids": gettext_lazy("CCs"),
    "is_public": gettext_lazy("Public"),
    "due_at": gettext_lazy("Due"),
    "problem_id": gettext_lazy("Problem"),
    "external_id": gettext_lazy("External id"),
}
PEOPLE = {"assignee_id", "requester_id", "submitter_id"}
PEOPLE_LISTS = {"follower_ids", "email_cc_ids"}


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class Entry:
    audit: Audit
    created: bool = False
    changes: list[Change] = field(default_factory=list)
    comments: list[bool] = field(default_factory=list)  # public flags of comments added
    other: list[str] = field(default_factory=list)


class Names:
    """Resolves ids in events to names with one query per kind."""

    def __init__(self, audits: Iterable[Audit]) -> None:
        users: set[int] = set()
        groups: set[int] = set()
        orgs: set[int] = set()
        statuses: set[int] = set()
        for audit in audits:
            for event in audit.events.all():
                for value in (event.value, event.previous_value):
                    if event.field_name in PEOPLE and isinstance(value, int):
                        users.add(value)
                    elif event.field_name in PEOPLE_LISTS and isinstance(value, list):
                        users.update(v for v in value if isinstance(v, int))
                    elif event.field_name == "group_id" and isinstance(value, int):
                        groups.add(value)
                    elif event.field_name == "organization_id" and isinstance(value, int):
                        orgs.add(value)
                    elif event.field_name == "custom_status_id" and isinstance(value, int):
                        statuses.add(value)
        self.users = dict(User.objects.filter(pk__in=users).values_list("pk", "name"))
        self.groups = dict(Group.objects.filter(pk__in=groups).values_list("pk", "name"))
        self.orgs = dict(Organization.objects.filter(pk__in=orgs).values_list("pk", "name"))
        self.statuses = {s.pk: s for s in CustomStatus.objects.filter(pk__in=statuses)}
        self.fields = {str(f.pk): f for f in TicketField.objects.all()}

    def label(self, name: str) -> str:
        if name in FIELD_LABELS:
            return str(FIELD_LABELS[name])
        if name in self.fields:
            return self.fields[name].title
        return name

    def value(self, name: str, value: Any) -> str:
        if value is None or value == "" or value == []:
            return "—"
        if name in PEOPLE:
            return self.users.get(value, f"#{value}")
        if name in PEOPLE_LISTS:
            return ", ".join(self.users.get(v, f"#{v}") for v in value)
        if name == "group_id":
            return self.groups.get(value, f"#{value}")
        if name == "organization_id":
            return self.orgs.get(value, f"#{value}")
        if name == "custom_status_id":
            status = self.statuses.get(value)
            return status.label_for_agent() if status else f"#{value}"
        if name == "status":
            return str(dict(Status.choices).get(value, value))
        if name == "priority":
            return str(dict(Priority.choices).get(value, value))
        if name == "type":
            return str(dict(TicketType.choices).get(value, value))
        if name == "is_public":
            return _("yes") if value else _("no")
        if isinstance(value, list):
            return " ".join(str(v) for v in value)
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        return str(value)


def describe(audits: list[Audit]) -> list[Entry]:
    names = Names(audits)
    entries = []
    for audit in audits:
        entry = Entry(audit)
        for event in audit.events.all():
            if event.type == EventType.CREATE:
                entry.created = True
            elif event.type == EventType.CHANGE:
                entry.changes.append(
                    Change(
                        names.label(event.field_name),
                        names.value(event.field_name, event.previous_value),
                        names.value(event.field_name, event.value),
                    )
                )
            elif event.type == EventType.COMMENT:
                entry.comments.append(event.comment.public if event.comment else True)
            elif event.type == EventType.MACRO_APPLIED:
                entry.other.append(_("Macro applied"))
            else:
                entry.other.append(str(event.type))
        entries.append(entry)
    return entries


def audits_of(ticket: Ticket, *, since: dt.datetime | None = None) -> QuerySet[Audit]:
    audits = Audit.objects.filter(ticket=ticket)
    if since is not None:
        audits = audits.filter(created_at__gt=since)
    return (
        audits.select_related("author")
        .prefetch_related(
            Prefetch(
                "events",
                AuditEvent.objects.select_related("comment").defer(
                    "comment__body",
                    "comment__html_body",
                    "comment__metadata",
                    "comment__via_source",
                ),
            )
        )
        .order_by("-created_at")
    )


@agent_required
def ticket_history(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The full history; the ticket page loads it into its History tab."""
    try:
        ticket = access_ticket(request.user, ticket_id)  # type: ignore[arg-type]
    except Ticket.DoesNotExist:
        raise Http404 from None
    entries = describe(list(audits_of(ticket)))
    template = "tickets/partials/history.html" if request.htmx else "tickets/history.html"  # type: ignore[attr-defined]
    return render(request, template, {"ticket": ticket, "history": entries})
