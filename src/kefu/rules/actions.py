"""Business operations of the rules app — the one write path for the API, the UI and tests.

Every function validates first (``ValidationError`` naming the field, ``PermissionDenied``),
then writes in one transaction. Rule configuration (triggers, categories, automations,
routing, webhooks) is for admins; availability is set by agents for themselves (or an admin).
"""

import secrets
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from kefu.accounts.models import Group, User
from kefu.core import clock
from kefu.core.conditions import ConditionError
from kefu.tickets.actions import NewComment, TicketData, create_ticket, update_ticket
from kefu.tickets.choices import Channel, TicketType
from kefu.tickets.models import Ticket

from .automations import check_automation
from .choices import (
    AuthenticationType,
    Availability,
    HttpMethod,
    RequestFormat,
    RoutingMode,
    WebhookStatus,
)
from .conditions import parse_trigger_conditions
from .engine import rules_changed
from .models import (
    AgentStatus,
    Automation,
    ChildTask,
    Escalation,
    GroupRouting,
    Notification,
    Trigger,
    TriggerCategory,
    Webhook,
)
from .rule_actions import bind_actions
from .webhooks import check_endpoint, send

UNSET: Any = object()


def _check_admin(actor: User | None) -> None:
    if actor is not None and not actor.is_admin:
        raise PermissionDenied(_("Only admins manage business rules."))


def _title(value: str) -> str:
    title = (value or "").strip()
    if not title:
        raise ValidationError({"title": [_("A rule needs a title.")]})
    return title[:255]


def _trigger_rules(conditions: Any, actions: Any) -> tuple[dict[str, Any], list[Any]]:
    try:
        parsed = parse_trigger_conditions(conditions)
    except ConditionError as exc:
        raise ValidationError({"conditions": exc.descriptions}) from None
    if not parsed.all and not parsed.any:
        raise ValidationError({"conditions": [_("A trigger needs at least one condition.")]})
    if not bind_actions(actions):
        raise ValidationError({"actions": [_("A trigger needs at least one action.")]})
    return parsed.model_dump(), list(actions)


def _change_rule(
    rule: Trigger | Automation, *, title: str, position: int, active: bool, description: str
) -> None:
    """The attributes triggers and automations share (``UNSET``: leave as is); not saved."""
    if title is not UNSET:
        rule.title = _title(title)
    if position is not UNSET:
        rule.position = position
    if active is not UNSET:
        rule.active = bool(active)
    if description is not UNSET:
        rule.description = description or ""
    rule.updated_at = clock.now()


# --- Trigger categories -----------------------------------------------------------------------


@transaction.atomic
def create_trigger_category(
    *, actor: User | None, name: str, position: int | None = None
) -> TriggerCategory:
    _check_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("A category needs a name.")]})
    if position is None:
        position = (TriggerCategory.objects.aggregate(p=Max("position"))["p"] or 0) + 1
    return TriggerCategory.objects.create(name=name[:255], position=position)


@transaction.atomic
def update_trigger_category(
    category: TriggerCategory, *, actor: User | None, name: str | None = None,
    position: int | None = None,
) -> TriggerCategory:  # fmt: skip
    _check_admin(actor)
    if name is not None:
        if not name.strip():
            raise ValidationError({"name": [_("A category needs a name.")]})
        category.name = name.strip()[:255]
    if position is not None:
        category.position = position
    category.save()
    rules_changed()
    return category


@transaction.atomic
def delete_trigger_category(category: TriggerCategory, *, actor: User | None) -> None:
    _check_admin(actor)
    if Trigger.objects.filter(category=category).exists():
        raise ValidationError(
            {"category_id": [_("Move or delete this category's triggers first.")]}
        )
    category.delete()


def default_category() -> TriggerCategory:
    category = TriggerCategory.objects.order_by("position", "id").first()
    if category is None:
        category = TriggerCategory.objects.create(name="Default", position=1)
    return category


# --- Triggers ---------------------------------------------------------------------------------


@transaction.atomic
def create_trigger(
    *,
    actor: User | None,
    title: str,
    conditions: Any,
    actions: Any,
    category: TriggerCategory | None = None,
    position: int | None = None,
    active: bool = True,
    description: str = "",
) -> Trigger:
    """Create a trigger (Zendesk's shape). Raises ValidationError naming ``title``,
    ``conditions`` (unknown field/operator, bad value) or ``actions`` (unknown action, bad
    value); writes nothing then."""
    _check_admin(actor)
    title = _title(title)
    stored_conditions, stored_actions = _trigger_rules(conditions, actions)
    category = category or default_category()
    if position is None:
        position = (
            Trigger.objects.filter(category=category).aggregate(p=Max("position"))["p"] or 0
        ) + 1
    now = clock.now()
    trigger = Trigger.objects.create(
        title=title,
        description=description or "",
        active=active,
        position=position,
        category=category,
        conditions=stored_conditions,
        actions=stored_actions,
        created_at=now,
        updated_at=now,
    )
    rules_changed()
    return trigger


@transaction.atomic
def update_trigger(
    trigger: Trigger,
    *,
    actor: User | None,
    title: str = UNSET,
    conditions: Any = UNSET,
    actions: Any = UNSET,
    category: TriggerCategory = UNSET,
    position: int = UNSET,
    active: bool = UNSET,
    description: str = UNSET,
) -> Trigger:
    """Change the given attributes of a trigger (the others stay)."""
    _check_admin(actor)
    _change_rule(trigger, title=title, position=position, active=active,
                 description=description)  # fmt: skip
    if conditions is not UNSET or actions is not UNSET:
        trigger.conditions, trigger.actions = _trigger_rules(
            trigger.conditions if conditions is UNSET else conditions,
            trigger.actions if actions is UNSET else actions,
        )
    if category is not UNSET:
        trigger.category = category
    trigger.save()
    rules_changed()
    return trigger


@transaction.atomic
def delete_trigger(trigger: Trigger, *, actor: User | None) -> None:
    _check_admin(actor)
    trigger.delete()
    rules_changed()


@transaction.atomic
def reorder_triggers(*, actor: User | None, trigger_ids: Sequence[int]) -> None:
    """Positions 1..n in the given order (Zendesk's ``triggers/update_many`` positions)."""
    _check_admin(actor)
    found = set(Trigger.objects.filter(pk__in=trigger_ids).values_list("pk", flat=True))
    missing = [pk for pk in trigger_ids if pk not in found]
    if missing:
        raise ValidationError({"ids": [_("Unknown trigger: %(id)s") % {"id": missing[0]}]})
    now = clock.now()
    for position, pk in enumerate(trigger_ids, start=1):
        Trigger.objects.filter(pk=pk).update(position=position, updated_at=now)
    rules_changed()


# --- Automations ------------------------------------------------------------------------------


@transaction.atomic
def create_automation(
    *,
    actor: User | None,
    title: str,
    conditions: Any,
    actions: Any,
    position: int | None = None,
    active: bool = True,
    description: str = "",
) -> Automation:
    """Create an automation; refused (ValidationError naming ``conditions``) without a
    time-based condition or without a condition its actions nullify (Zendesk's rule)."""
    _check_admin(actor)
    title = _title(title)
    check_automation(conditions, actions)
    if position is None:
        position = (Automation.objects.aggregate(p=Max("position"))["p"] or 0) + 1
    now = clock.now()
    return Automation.objects.create(
        title=title,
        description=description or "",
        active=active,
        position=position,
        conditions=dict(conditions),
        actions=list(actions),
        created_at=now,
        updated_at=now,
    )


@transaction.atomic
def update_automation(
    automation: Automation,
    *,
    actor: User | None,
    title: str = UNSET,
    conditions: Any = UNSET,
    actions: Any = UNSET,
    position: int = UNSET,
    active: bool = UNSET,
    description: str = UNSET,
) -> Automation:
    """Change the given attributes of an automation (the others stay)."""
    _check_admin(actor)
    _change_rule(automation, title=title, position=position, active=active,
                 description=description)  # fmt: skip
    if conditions is not UNSET or actions is not UNSET:
        new_conditions = automation.conditions if conditions is UNSET else conditions
        new_actions = automation.actions if actions is UNSET else actions
        check_automation(new_conditions, new_actions)
        automation.conditions, automation.actions = dict(new_conditions), list(new_actions)
    automation.save()
    return automation


@transaction.atomic
def delete_automation(automation: Automation, *, actor: User | None) -> None:
    _check_admin(actor)
    automation.delete()


# --- Routing ----------------------------------------------------------------------------------


@transaction.atomic
def set_group_routing(*, actor: User | None, group: Group, mode: str) -> GroupRouting:
    """Choose how the group's new tickets are assigned; a routed group's queue moves at once
    (after commit)."""
    _check_admin(actor)
    if mode not in RoutingMode.values:
        raise ValidationError({"mode": [_("Unknown routing mode: %(m)s") % {"m": mode}]})
    routing, _created = GroupRouting.objects.update_or_create(group=group, defaults={"mode": mode})
    if mode != RoutingMode.MANUAL:
        from .routing import safe_enqueue
        from .tasks import drain_queue_task

        group_id = group.pk
        transaction.on_commit(lambda: safe_enqueue(drain_queue_task, group_id))
    return routing


def agent_status(agent: User) -> AgentStatus:
    status, _created = AgentStatus.objects.get_or_create(agent=agent)
    return status


def _check_self_or_admin(actor: User | None, agent: User) -> None:
    if not agent.is_agent:
        raise ValidationError({"agent_id": [_("%(name)s is not an agent.") % {"name": agent.name}]})
    if actor is not None and actor.pk != agent.pk and not actor.is_admin:
        raise PermissionDenied(_("Agents set their own availability."))


@transaction.atomic
def update_agent_routing(
    *, actor: User | None, agent: User, capacity: int | None = None,
    skills: Sequence[str] | None = None,
) -> AgentStatus:  # fmt: skip
    """An agent's capacity and skills (admins)."""
    _check_admin(actor)
    _check_self_or_admin(actor, agent)
    status = agent_status(agent)
    if capacity is not None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or not 0 <= capacity <= 1000:
            raise ValidationError({"capacity": [_("Capacity is a whole number from 0 to 1000.")]})
        status.capacity = capacity
    if skills is not None:
        from kefu.accounts.actions import normalize_tags

        status.skills = normalize_tags(list(skills))
    status.save()
    return status


def set_agent_availability(*, actor: User | None, agent: User, availability: str) -> AgentStatus:
    """Set online/away/offline. Coming online routes the waiting tickets of the agent's
    routed groups (each in its own transaction)."""
    _check_self_or_admin(actor, agent)
    if availability not in Availability.values:
        raise ValidationError(
            {"availability": [_("Unknown availability: %(a)s") % {"a": availability}]}
        )
    with transaction.atomic():
        status = agent_status(agent)
        status.availability = availability
        status.save(update_fields=["availability", "updated_at"])
    if availability == Availability.ONLINE:
        from .routing import safe_enqueue
        from .tasks import drain_agent_groups_task

        agent_id = agent.pk
        transaction.on_commit(lambda: safe_enqueue(drain_agent_groups_task, agent_id))
    return status


# --- Escalation and child tasks ---------------------------------------------------------------


@transaction.atomic
def escalate_ticket(*, actor: User, ticket: Ticket, group: Group, reason: str) -> Ticket:
    """Move a ticket up to ``group`` with a reason (an agent's escalation). The reason is in
    the audit (``via_source.reason``) and an ``Escalation`` row; the owner stays as a
    follower (ownership hook)."""
    if not actor.is_full_agent:
        raise PermissionDenied(_("Only agents escalate tickets."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("An escalation needs a reason.")]})
    if group.pk == ticket.group_id:
        raise ValidationError({"group_id": [_("The ticket is already in this group.")]})
    previous = ticket.group_id
    ticket = update_ticket(
        ticket,
        actor=actor,
        data=TicketData(group=group, via_source={"rel": "escalation", "reason": reason}),
    )
    Escalation.objects.create(
        ticket=ticket,
        from_group_id=previous,
        to_group=group,
        reason=reason[:500],
        source={"rel": "agent", "id": actor.pk},
    )
    return ticket


@transaction.atomic
def open_child_task(
    *,
    actor: User,
    parent: Ticket,
    group: Group,
    subject: str,
    body: str,
    assignee: User | None = None,
) -> Ticket:
    """Open a task ticket for another group, linked to ``parent`` (``ChildTask``). The task's
    requester is the agent who opens it (it is internal work: the customer gets no email);
    the parent gets an internal note naming it. When all of a parent's tasks are solved,
    the parent's assignee (or owner) is notified."""
    if not actor.is_full_agent:
        raise PermissionDenied(_("Only agents open child tasks."))
    child = create_ticket(
        actor=actor,
        data=TicketData(
            subject=subject,
            type=TicketType.TASK,
            group=group,
            assignee=assignee,
            requester=actor,
            via_channel=Channel.WEB,
            via_source={"rel": "child_task", "parent_id": parent.pk},
        ),
        comment=NewComment(body=body, public=False),
    )
    ChildTask.objects.create(parent=parent, child=child, created_by=actor)
    update_ticket(
        parent,
        actor=actor,
        comment=NewComment(
            body=_("Opened child task #%(id)s for %(group)s: %(subject)s")
            % {"id": child.pk, "group": group.name, "subject": child.subject},
            public=False,
        ),
    )
    child.refresh_from_db()  # rules and routing may have changed it since it was created
    return child


def child_tasks(parent: Ticket) -> list[Ticket]:
    """The parent's tasks with their state (group and assignee loaded)."""
    ids = ChildTask.objects.filter(parent=parent).values("child_id")
    return list(
        Ticket.objects.filter(pk__in=ids).select_related("group", "assignee").order_by("pk")
    )


# --- Notifications ----------------------------------------------------------------------------


def mark_notification_read(*, actor: User, notification: Notification) -> Notification:
    if notification.recipient_id != actor.pk:
        raise Notification.DoesNotExist
    if notification.read_at is None:
        notification.read_at = clock.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_notifications_read(*, actor: User) -> int:
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=clock.now()
    )


# --- Webhooks ---------------------------------------------------------------------------------


def _clean_webhook(
    *, name: str, endpoint: str, http_method: str, request_format: str, status: str,
    authentication: dict[str, Any] | None, custom_headers: dict[str, Any] | None,
) -> dict[str, Any]:  # fmt: skip
    if not (name or "").strip():
        raise ValidationError({"name": [_("A webhook needs a name.")]})
    check_endpoint(endpoint)
    if http_method not in HttpMethod.values:
        raise ValidationError(
            {"http_method": [_("Unknown HTTP method: %(m)s") % {"m": http_method}]}
        )
    if request_format not in RequestFormat.values:
        raise ValidationError(
            {"request_format": [_("Unknown request format: %(f)s") % {"f": request_format}]}
        )
    if status not in WebhookStatus.values:
        raise ValidationError({"status": [_("Unknown status: %(s)s") % {"s": status}]})
    auth = dict(authentication or {})
    kind = auth.get("type", AuthenticationType.NONE)
    data = auth.get("data") or {}
    if kind not in AuthenticationType.values or not isinstance(data, dict):
        raise ValidationError(
            {"authentication": [_("Unknown authentication: %(t)s") % {"t": kind}]}
        )
    if kind == AuthenticationType.BASIC and not data.get("username"):
        raise ValidationError({"authentication": [_("Basic authentication needs a username.")]})
    if kind == AuthenticationType.BEARER and not data.get("token"):
        raise ValidationError({"authentication": [_("A bearer token is missing.")]})
    headers = dict(custom_headers or {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise ValidationError({"custom_headers": [_("Header names and values are text.")]})
    return {
        "name": name.strip()[:255],
        "endpoint": endpoint,
        "http_method": http_method,
        "request_format": request_format,
        "status": status,
        "authentication": {"type": kind, "data": data} if kind != "none" else {},
        "custom_headers": headers,
    }


@transaction.atomic
def create_webhook(
    *,
    actor: User | None,
    name: str,
    endpoint: str,
    http_method: str = "POST",
    request_format: str = RequestFormat.JSON,
    status: str = WebhookStatus.ACTIVE,
    authentication: dict[str, Any] | None = None,
    custom_headers: dict[str, Any] | None = None,
    description: str = "",
) -> Webhook:
    """Create a webhook; refuses a malformed URL or one that resolves to a private address
    (``endpoint``). The signing secret is generated here."""
    _check_admin(actor)
    values = _clean_webhook(
        name=name, endpoint=endpoint, http_method=http_method, request_format=request_format,
        status=status, authentication=authentication, custom_headers=custom_headers,
    )  # fmt: skip
    return Webhook.objects.create(
        **values,
        description=description or "",
        signing_secret=secrets.token_urlsafe(32),
        created_by=actor,
    )


@transaction.atomic
def update_webhook(webhook: Webhook, *, actor: User | None, **changes: Any) -> Webhook:
    """Change name, endpoint, http_method, request_format, status, authentication,
    custom_headers or description. Setting status active again clears the failure count."""
    _check_admin(actor)
    allowed = {"name", "endpoint", "http_method", "request_format", "status", "authentication",
               "custom_headers", "description"}  # fmt: skip
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({sorted(unknown)[0]: [_("This field cannot be changed.")]})
    current = {
        "name": webhook.name, "endpoint": webhook.endpoint, "http_method": webhook.http_method,
        "request_format": webhook.request_format, "status": webhook.status,
        "authentication": webhook.authentication, "custom_headers": webhook.custom_headers,
    }  # fmt: skip
    if changes.get("authentication") is None:
        changes.pop("authentication", None)
    current.update({k: v for k, v in changes.items() if k != "description"})
    values = _clean_webhook(**current)
    reactivated = values["status"] == WebhookStatus.ACTIVE and webhook.status != values["status"]
    for key, value in values.items():
        setattr(webhook, key, value)
    if "description" in changes:
        webhook.description = changes["description"] or ""
    if reactivated:
        webhook.consecutive_failures, webhook.paused_at = 0, None
    webhook.updated_at = clock.now()
    webhook.save()
    return webhook


@transaction.atomic
def delete_webhook(webhook: Webhook, *, actor: User | None) -> None:
    _check_admin(actor)
    webhook.delete()


def send_test_webhook(*, actor: User | None, webhook: Webhook, body: str) -> dict[str, Any]:
    """Send ``body`` once, now, and report the response (Zendesk's ``webhooks/test``)."""
    _check_admin(actor)
    status_code, duration, excerpt, error = send(webhook, body)
    return {"status": status_code, "duration_ms": duration, "body": excerpt, "error": error}
