"""Telling people: in-app notifications, the ticket's Notification audit event, and email.

Email goes through ONE function, :func:`send_email`, which hands it to the email channel's
public ``send_notification``. Everything here runs inside the ticket's transaction; email
leaves after commit, and a failure to send never fails the change (docs/rules.md,
"Notifications").
"""

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction

from kefu.accounts.models import User
from kefu.tickets.actions import Event, record_events
from kefu.tickets.models import Audit, Ticket

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


def send_email(
    *,
    recipients: Iterable[User],
    subject_template: str,
    body_template: str,
    ticket: Ticket,
    reason: str,
) -> None:
    """THE place rule and notification emails leave from: the email channel's
    ``send_notification`` (admin templates with ``{{ placeholders }}``, rendered per recipient
    in its sandbox, sent after commit with retries). A failure is logged, never raised: an
    email never fails the ticket change that caused it."""
    from kefu.channels.email.actions import send_notification

    people = [u for u in recipients if u.email]
    if not people:
        return
    try:
        with transaction.atomic():
            send_notification(
                ticket=ticket,
                recipients=people,
                subject_template=subject_template,
                body_template=body_template,
                reason=reason[:200],
            )
    except Exception:
        log.exception("notification email about #%s failed (%s)", ticket.pk, reason)


def _safe(value: str) -> str:
    # Values put into a template before the email engine renders it must not add syntax.
    return value.replace("{", "(").replace("}", ")")


def prefill(template: str, values: Mapping[str, str]) -> str:
    """Fill the placeholders only Kefu's rules know (owner, current user) before the email
    engine renders the rest per recipient."""
    own = {key: _safe(values[key]) for key in RULE_ONLY_PLACEHOLDERS if key in values}
    return _PLACEHOLDER.sub(lambda m: own.get(m.group(1), m.group(0)), template)


# Placeholders the email channel's context does not have.
RULE_ONLY_PLACEHOLDERS = ("ticket.owner.name", "current_user.name")


def notification_rows(
    recipients: Iterable[User],
    *,
    kind: str,
    subject: str,
    body: str = "",
    ticket: Ticket | None = None,
    actor: User | None = None,
) -> list[Notification]:
    """The unsaved in-app notifications ``notify_in_app`` inserts: one per agent."""
    people = list({u.pk: u for u in recipients}.values())
    return [
        Notification(
            recipient=user, kind=kind, ticket=ticket, actor=actor, subject=subject[:500], body=body
        )
        for user in people
        if user.is_agent
    ]


def notify_in_app(
    recipients: Iterable[User],
    *,
    kind: str,
    subject: str,
    body: str = "",
    ticket: Ticket | None = None,
    actor: User | None = None,
    email: tuple[str, str] | None = None,
) -> list[Notification]:
    """An in-app notification for each agent in ``recipients``; with ``email`` (subject and
    body templates), an email too (``send_email``)."""
    people = list({u.pk: u for u in recipients}.values())
    rows = notification_rows(
        people, kind=kind, subject=subject, body=body, ticket=ticket, actor=actor
    )
    if email is not None and ticket is not None:
        send_email(
            recipients=people,
            subject_template=email[0],
            body_template=email[1],
            ticket=ticket,
            reason=kind,
        )
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
    if not recipients:
        return
    values = placeholder_values(ticket, current_user=actor)
    subject_template, body_template = prefill(subject, values), prefill(body, values)
    subject, body = render(subject, values), render(body, values)
    if audit is not None:
        # Zendesk records a rule's notification as an event of the same audit.
        record_events(
            ticket,
            [
                Event(
                    "Notification",
                    value={
                        "subject": subject,
                        "body": body,
                        "recipients": sorted(u.pk for u in recipients),
                        "via": {"channel": "rule", "source": via},
                    },
                )
            ],
            actor=actor,
            via_channel="rule",
            via_source=via,
            audit=audit,
        )
    notify_in_app(
        [u for u in recipients if u.is_agent],
        kind=NotificationKind.RULE,
        subject=subject,
        body=body,
        ticket=ticket,
        actor=actor,
    )
    title = via.get("from", {}).get("title", "")
    send_email(
        recipients=recipients,
        subject_template=subject_template,
        body_template=body_template,
        ticket=ticket,
        reason=f"{via.get('rel', 'rule')}: {title}",
    )
