"""Telling people: in-app notifications, the ticket's Notification audit event, and email.

Email goes through ONE function, :func:`send_email`. Until the email channel's public
``send_notification`` is on main it only logs; swapping it in is a change to that function
only. Everything here runs inside the ticket's transaction; email leaves after commit and a
failure to send never fails the change (docs/rules.md, "Notifications").
"""

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction

from kefu.accounts.models import User
from kefu.tickets.models import Audit, AuditEvent, Ticket

from .choices import NotificationKind
from .models import Notification, TicketOwner

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_]+)*)\s*\}\}")


def placeholder_values(ticket: Ticket, *, current_user: User | None = None) -> dict[str, str]:
    """The values ``{{ticket.id}}``-style placeholders stand for (Zendesk's names)."""
    latest = ticket.comments.order_by("-created_at", "-id").first()
    public = ticket.comments.filter(public=True).order_by("-created_at", "-id").first()
    owner = TicketOwner.objects.filter(ticket=ticket).select_related("owner").first()
    values = {
        "ticket.id": str(ticket.pk),
        "ticket.title": ticket.subject,
        "ticket.subject": ticket.subject,
        "ticket.status": ticket.status,
        "ticket.priority": ticket.priority or "",
        "ticket.type": ticket.type or "",
        "ticket.url": f"{settings.BASE_URL}/tickets/{ticket.pk}",
        "ticket.description": ticket.description,
        "ticket.requester.name": ticket.requester.name,
        "ticket.requester.email": ticket.requester.email or "",
        "ticket.assignee.name": ticket.assignee.name if ticket.assignee else "",
        "ticket.group.name": ticket.group.name if ticket.group else "",
        "ticket.owner.name": owner.owner.name if owner else "",
        "ticket.latest_comment": latest.body if latest else "",
        "ticket.latest_public_comment": public.body if public else "",
        "ticket.tags": " ".join(ticket.tags),
        "current_user.name": current_user.name if current_user else "",
    }
    return values


def render(template: str, values: Mapping[str, str]) -> str:
    """Replace ``{{ name }}`` placeholders; unknown ones are left as written. Plain text in,
    plain text out: nothing here is evaluated (the email channel's engine will replace this)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def send_email(*, recipient: User, subject: str, body: str, ticket: Ticket | None) -> None:
    """THE place email notifications leave from (after commit, never raising).

    Swap in ``kefu.channels.email.actions.send_notification`` when the email channel lands."""
    if not recipient.email:
        return
    try:
        log.info("notification email to %s: %s", recipient.email, subject)
    except Exception:  # pragma: no cover - a failing email never fails the change
        log.exception("notification email to %s failed", recipient.email)


def email_after_commit(*, recipient: User, subject: str, body: str, ticket: Ticket | None) -> None:
    transaction.on_commit(
        lambda: send_email(recipient=recipient, subject=subject, body=body, ticket=ticket)
    )


def notify_in_app(
    recipients: Iterable[User],
    *,
    kind: str,
    subject: str,
    body: str = "",
    ticket: Ticket | None = None,
    actor: User | None = None,
    email: bool = True,
) -> list[Notification]:
    """An in-app notification for each agent in ``recipients`` (and the email, after commit).
    End users get only the email."""
    rows = []
    for user in {u.pk: u for u in recipients}.values():
        if user.is_agent:
            rows.append(
                Notification(
                    recipient=user,
                    kind=kind,
                    ticket=ticket,
                    actor=actor,
                    subject=subject[:500],
                    body=body,
                )
            )
        if email:
            email_after_commit(recipient=user, subject=subject, body=body, ticket=ticket)
    return Notification.objects.bulk_create(rows)


def rule_notification(
    *,
    ticket: Ticket,
    recipients: list[User],
    subject: str,
    body: str,
    audit: Audit | None,
    via: dict[str, Any],
    actor: User | None,
) -> None:
    """A trigger's/automation's email: rendered, recorded as a Notification audit event on
    ``audit`` (Zendesk shows it in the ticket's history), sent in-app and by email."""
    values = placeholder_values(ticket, current_user=actor)
    subject, body = render(subject, values), render(body, values)
    if not recipients:
        return
    if audit is not None:
        # Zendesk records a rule's notification as an event of the same audit.
        AuditEvent.objects.create(
            audit=audit,
            type="Notification",
            value={
                "subject": subject,
                "body": body,
                "recipients": sorted(u.pk for u in recipients),
                "via": {"channel": "rule", "source": via},
            },
        )
    notify_in_app(
        recipients,
        kind=NotificationKind.RULE,
        subject=subject,
        body=body,
        ticket=ticket,
        actor=actor,
    )
