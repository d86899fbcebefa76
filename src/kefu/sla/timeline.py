"""A ticket's history as the SLA engine sees it: one :class:`~.engine.Moment` per audit.

One query reads the audit events that matter (status, priority, group and assignee
values, comments with their author's role, the SLA policy the engine applied).
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from kefu.accounts.choices import Role
from kefu.tickets.choices import EventType
from kefu.tickets.models import AuditEvent

from .choices import AUDIT_POLICY
from .engine import AGENT, END_USER, Moment

FIELDS = ("status", "priority", "group_id", "assignee_id")


def ticket_moments(ticket_id: int) -> list[Moment]:
    rows = (
        AuditEvent.objects.filter(audit__ticket_id=ticket_id)
        .filter(
            Q(type__in=(EventType.CREATE, EventType.CHANGE), field_name__in=FIELDS)
            | Q(type=EventType.COMMENT)
            | Q(type=AUDIT_POLICY)
        )
        .order_by("audit__created_at", "audit_id", "id")
        .values_list(
            "audit_id",
            "audit__created_at",
            "type",
            "field_name",
            "value",
            "comment__public",
            "comment__author__role",
        )
    )
    return moments_from_rows(rows)


def moments_from_rows(rows: Iterable[tuple[Any, ...]]) -> list[Moment]:
    moments: list[Moment] = []
    current: dict[str, Any] | None = None
    current_audit = None
    for audit_id, created_at, type_, field_name, value, public, role in rows:
        if audit_id != current_audit:
            if current is not None:
                moments.append(Moment(**current))
            current = {"time": created_at, "audit_id": audit_id}
            current_audit = audit_id
        assert current is not None
        if type_ == EventType.CREATE:
            current["created"] = True
        if type_ in (EventType.CREATE, EventType.CHANGE):
            if field_name == "status":
                current["status"] = value
            elif field_name == "priority":
                current["priority_set"], current["priority"] = True, value
            elif field_name == "group_id":
                current["group_set"], current["group_id"] = True, value
            elif field_name == "assignee_id":
                current["assignee_set"], current["assignee_id"] = True, value
        elif type_ == EventType.COMMENT:
            if public:
                current["comment"] = END_USER if role == Role.END_USER else AGENT
            else:
                current["private_comment"] = True
        elif type_ == AUDIT_POLICY:
            current["policy_set"] = True
            current["policy_id"] = value.get("id") if isinstance(value, dict) else None
    if current is not None:
        moments.append(Moment(**current))
    return moments
