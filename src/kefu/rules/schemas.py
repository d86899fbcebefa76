"""API shapes of the rules resources (Zendesk's ``triggers``, ``trigger_categories``,
``automations``, ``webhooks``) and Kefu's own (``notifications``, routing, child tasks)."""

from collections.abc import Iterable
from typing import Any

from ninja import Schema

from kefu.api.formats import timestamp
from kefu.api.pagination import api_url
from kefu.api.schemas import PageFields

from .models import (
    Automation,
    Notification,
    Trigger,
    TriggerCategory,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)

# --- Triggers and automations -----------------------------------------------------------------


class ConditionOut(Schema):
    field: str
    operator: str
    value: Any = None


class ConditionsOut(Schema):
    all: list[ConditionOut]
    any: list[ConditionOut]


class ActionOut(Schema):
    field: str
    value: Any = None


class TriggerOut(Schema):
    id: int
    url: str
    title: str
    raw_title: str
    description: str
    active: bool
    position: int
    category_id: int
    default: bool
    conditions: ConditionsOut
    actions: list[ActionOut]
    created_at: str
    updated_at: str


class TriggerEnvelope(Schema):
    trigger: TriggerOut


class TriggerList(PageFields):
    triggers: list[TriggerOut]


class RuleIn(Schema):
    """Conditions and actions are validated by the rules actions, which name what is wrong."""

    title: str | None = None
    description: str | None = None
    active: bool | None = None
    position: int | None = None
    conditions: dict[str, Any] | None = None
    actions: list[Any] | None = None


class TriggerIn(RuleIn):
    category_id: int | str | None = None


class TriggerInEnvelope(Schema):
    trigger: TriggerIn


class TriggerPosition(Schema):
    id: int
    position: int | None = None
    active: bool | None = None
    category_id: int | str | None = None


class TriggersUpdateMany(Schema):
    triggers: list[TriggerPosition]


class TriggerReorder(Schema):
    trigger_ids: list[int]


class AutomationOut(Schema):
    id: int
    url: str
    title: str
    raw_title: str
    description: str
    active: bool
    position: int
    default: bool
    conditions: ConditionsOut
    actions: list[ActionOut]
    created_at: str
    updated_at: str


class AutomationEnvelope(Schema):
    automation: AutomationOut


class AutomationList(PageFields):
    automations: list[AutomationOut]


class AutomationInEnvelope(Schema):
    automation: RuleIn


class CategoryOut(Schema):
    id: int
    name: str
    position: int
    created_at: str
    updated_at: str


class CategoryEnvelope(Schema):
    trigger_category: CategoryOut


class CategoryList(PageFields):
    trigger_categories: list[CategoryOut]


class CategoryIn(Schema):
    name: str | None = None
    position: int | None = None


class CategoryInEnvelope(Schema):
    trigger_category: CategoryIn


def _conditions(raw: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {"all": list(raw.get("all") or []), "any": list(raw.get("any") or [])}


def trigger_json(request: Any, trigger: Trigger) -> dict[str, Any]:
    return {
        "id": trigger.pk,
        "url": api_url(request, f"triggers/{trigger.pk}"),
        "title": trigger.title,
        "raw_title": trigger.title,
        "description": trigger.description,
        "active": trigger.active,
        "position": trigger.position,
        "category_id": trigger.category_id,
        "default": False,
        "conditions": _conditions(trigger.conditions),
        "actions": list(trigger.actions),
        "created_at": timestamp(trigger.created_at),
        "updated_at": timestamp(trigger.updated_at),
    }


def automation_json(request: Any, automation: Automation) -> dict[str, Any]:
    return {
        "id": automation.pk,
        "url": api_url(request, f"automations/{automation.pk}"),
        "title": automation.title,
        "raw_title": automation.title,
        "description": automation.description,
        "active": automation.active,
        "position": automation.position,
        "default": False,
        "conditions": _conditions(automation.conditions),
        "actions": list(automation.actions),
        "created_at": timestamp(automation.created_at),
        "updated_at": timestamp(automation.updated_at),
    }


def category_json(category: TriggerCategory) -> dict[str, Any]:
    return {
        "id": category.pk,
        "name": category.name,
        "position": category.position,
        "created_at": timestamp(category.created_at),
        "updated_at": timestamp(category.updated_at),
    }


# --- Webhooks ---------------------------------------------------------------------------------


class AuthenticationOut(Schema):
    type: str
    add_position: str


class WebhookOut(Schema):
    id: int
    name: str
    description: str
    endpoint: str
    http_method: str
    request_format: str
    status: str
    subscriptions: list[str]
    authentication: AuthenticationOut | None = None
    custom_headers: dict[str, str]
    created_at: str
    updated_at: str
    created_by: str | None = None


class WebhookEnvelope(Schema):
    webhook: WebhookOut


class WebhookList(PageFields):
    webhooks: list[WebhookOut]


class AuthenticationIn(Schema):
    type: str
    data: dict[str, Any] | None = None
    add_position: str | None = None


class WebhookIn(Schema):
    name: str | None = None
    description: str | None = None
    endpoint: str | None = None
    http_method: str | None = None
    request_format: str | None = None
    status: str | None = None
    subscriptions: list[str] | None = None
    authentication: AuthenticationIn | None = None
    custom_headers: dict[str, str] | None = None


class WebhookInEnvelope(Schema):
    webhook: WebhookIn


class SigningSecretOut(Schema):
    secret: str
    algorithm: str


class SigningSecretEnvelope(Schema):
    signing_secret: SigningSecretOut


class WebhookTestIn(Schema):
    request: dict[str, Any] | None = None


class TestResponseOut(Schema):
    status: int | None
    body: str
    error: str
    duration_ms: int


class TestResponseEnvelope(Schema):
    response: TestResponseOut


class InvocationOut(Schema):
    id: int
    ticket_id: int | None
    status: str
    attempts: int
    created_at: str
    latest_completed_at: str | None


class InvocationList(PageFields):
    invocations: list[InvocationOut]


class AttemptResponseOut(Schema):
    status: int | None
    body: str


class AttemptOut(Schema):
    id: int
    invocation_id: int
    attempt: int
    status: str
    duration_ms: int
    error: str
    completed_at: str
    response: AttemptResponseOut


class AttemptList(PageFields):
    attempts: list[AttemptOut]


def webhook_json(webhook: Webhook) -> dict[str, Any]:
    auth = webhook.authentication or {}
    return {
        "id": webhook.pk,
        "name": webhook.name,
        "description": webhook.description,
        "endpoint": webhook.endpoint,
        "http_method": webhook.http_method,
        "request_format": webhook.request_format,
        "status": webhook.status,
        "subscriptions": ["conditional_ticket_events"],
        # Credentials are write-only (Zendesk never returns them either).
        "authentication": {"type": auth["type"], "add_position": "header"} if auth else None,
        "custom_headers": dict(webhook.custom_headers or {}),
        "created_at": timestamp(webhook.created_at),
        "updated_at": timestamp(webhook.updated_at),
        "created_by": str(webhook.created_by_id) if webhook.created_by_id else None,
    }


def invocations_json(deliveries: Iterable[WebhookDelivery]) -> list[dict[str, Any]]:
    return [
        {
            "id": d.pk,
            "ticket_id": d.ticket_id,
            "status": d.status,
            "attempts": d.attempts,
            "created_at": timestamp(d.created_at),
            "latest_completed_at": timestamp(d.finished_at),
        }
        for d in deliveries
    ]


def attempts_json(attempts: Iterable[WebhookAttempt]) -> list[dict[str, Any]]:
    return [
        {
            "id": a.pk,
            "invocation_id": a.delivery_id,
            "attempt": a.attempt,
            "status": "success" if a.status_code and 200 <= a.status_code < 300 else "failed",
            "duration_ms": a.duration_ms,
            "error": a.error,
            "completed_at": timestamp(a.created_at),
            "response": {"status": a.status_code, "body": a.response_excerpt},
        }
        for a in attempts
    ]


# --- Notifications, routing, child tasks (Kefu's own) -----------------------------------------


class NotificationOut(Schema):
    id: int
    kind: str
    ticket_id: int | None
    actor_id: int | None
    subject: str
    body: str
    read: bool
    created_at: str


class NotificationEnvelope(Schema):
    notification: NotificationOut


class NotificationList(PageFields):
    notifications: list[NotificationOut]


def notification_json(note: Notification) -> dict[str, Any]:
    return {
        "id": note.pk,
        "kind": note.kind,
        "ticket_id": note.ticket_id,
        "actor_id": note.actor_id,
        "subject": note.subject,
        "body": note.body,
        "read": note.read_at is not None,
        "created_at": timestamp(note.created_at),
    }


class AvailabilityIn(Schema):
    availability: str | None = None
    capacity: int | None = None
    skills: list[str] | None = None


class AvailabilityInEnvelope(Schema):
    agent_status: AvailabilityIn


class AvailabilityOut(Schema):
    agent_id: int
    availability: str
    capacity: int
    skills: list[str]


class AvailabilityEnvelope(Schema):
    agent_status: AvailabilityOut


class GroupRoutingIn(Schema):
    mode: str


class GroupRoutingInEnvelope(Schema):
    routing: GroupRoutingIn


class GroupRoutingOut(Schema):
    group_id: int
    mode: str


class GroupRoutingEnvelope(Schema):
    routing: GroupRoutingOut


class ChildTaskIn(Schema):
    group_id: int
    subject: str
    body: str
    assignee_id: int | None = None


class ChildTaskInEnvelope(Schema):
    child_task: ChildTaskIn


class ChildTaskOut(Schema):
    id: int
    subject: str
    status: str
    group_id: int | None
    assignee_id: int | None
    created_at: str


class ChildTaskEnvelope(Schema):
    child_task: ChildTaskOut


class EscalatedEnvelope(Schema):
    ticket: ChildTaskOut


class ChildTaskList(Schema):
    child_tasks: list[ChildTaskOut]


class EscalationIn(Schema):
    group_id: int
    reason: str


class EscalationInEnvelope(Schema):
    escalation: EscalationIn
