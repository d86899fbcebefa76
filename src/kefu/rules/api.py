"""Rules endpoints: Zendesk's ``triggers``, ``trigger_categories``, ``automations`` and
``webhooks``, plus Kefu's ``notifications``, agent availability, group routing, child tasks
and escalation. Thin: parse, scope with ``access``, call ``actions``. A bad rule is a 422
``RecordInvalid`` whose ``details`` name ``conditions``/``actions`` and the entry at fault."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status

from kefu.accounts.access import visible_groups
from kefu.accounts.models import User
from kefu.accounts.people_schemas import unknown_id
from kefu.api.auth import current_user
from kefu.api.pagination import paginate
from kefu.tickets.access import access_ticket

from . import access, actions
from .models import Trigger, TriggerCategory, WebhookAttempt, WebhookDelivery
from .schemas import (
    AttemptList,
    AutomationEnvelope,
    AutomationInEnvelope,
    AutomationList,
    AvailabilityEnvelope,
    AvailabilityInEnvelope,
    CategoryEnvelope,
    CategoryInEnvelope,
    CategoryList,
    ChildTaskEnvelope,
    ChildTaskInEnvelope,
    ChildTaskList,
    EscalatedEnvelope,
    EscalationInEnvelope,
    GroupRoutingEnvelope,
    GroupRoutingInEnvelope,
    InvocationList,
    NotificationEnvelope,
    NotificationList,
    RuleIn,
    SigningSecretEnvelope,
    TestResponseEnvelope,
    TriggerEnvelope,
    TriggerIn,
    TriggerInEnvelope,
    TriggerList,
    TriggerReorder,
    TriggersUpdateMany,
    WebhookEnvelope,
    WebhookIn,
    WebhookInEnvelope,
    WebhookList,
    WebhookTestIn,
    attempts_json,
    automation_json,
    category_json,
    invocations_json,
    notification_json,
    trigger_json,
    webhook_json,
)

router = Router(tags=["Business rules"])


def _admin(request: HttpRequest) -> User:
    user = current_user(request)
    if not access.can_manage_rules(user):
        raise PermissionDenied(_("Only admins manage business rules."))
    return user


def _changes(data: RuleIn) -> dict[str, Any]:
    """The attributes the client sent (unsent ones stay as they are)."""
    return {name: getattr(data, name) for name in data.model_fields_set if name != "category_id"}


def _category(user: User, value: int | str | None) -> TriggerCategory | None:
    if value in (None, ""):
        return None
    category = (
        access.visible_trigger_categories(user).filter(pk=int(value)).first()
        if str(value).isdigit()
        else None
    )
    if category is None:
        raise unknown_id("category_id", value)
    return category


# --- triggers ---------------------------------------------------------------------------------


@router.get("triggers", response=TriggerList, exclude_unset=True, summary="List triggers")
def list_triggers(request: HttpRequest, active: bool | None = None) -> HttpResponse:
    triggers = access.visible_triggers(_admin(request))
    if active is not None:
        triggers = triggers.filter(active=active)
    return paginate(
        request,
        triggers.order_by("category__position", "position", "id"),
        key="triggers",
        ordering=("category__position", "position", "id"),
        serialize=lambda rows: [trigger_json(request, t) for t in rows],
    )


@router.get("triggers/active", response=TriggerList, exclude_unset=True,
            summary="List active triggers")  # fmt: skip
def list_active_triggers(request: HttpRequest) -> HttpResponse:
    return list_triggers(request, active=True)


@router.get("triggers/{int:trigger_id}", response=TriggerEnvelope, summary="Show a trigger")
def show_trigger(request: HttpRequest, trigger_id: int) -> dict:
    trigger = access.visible_triggers(_admin(request)).get(pk=trigger_id)
    return {"trigger": trigger_json(request, trigger)}


@router.post("triggers", response={201: TriggerEnvelope}, summary="Create a trigger")
def create_trigger(request: HttpRequest, payload: TriggerInEnvelope) -> Status:
    user = _admin(request)
    data = payload.trigger
    trigger = actions.create_trigger(
        actor=user,
        title=data.title or "",
        conditions=data.conditions if data.conditions is not None else {},
        actions=data.actions if data.actions is not None else [],
        category=_category(user, data.category_id),
        position=data.position,
        active=True if data.active is None else data.active,
        description=data.description or "",
    )
    return Status(201, {"trigger": trigger_json(request, trigger)})


def _update_trigger(user: User, trigger: Trigger, data: TriggerIn) -> Trigger:
    changes = _changes(data)
    if "category_id" in data.model_fields_set:
        changes["category"] = _category(user, data.category_id) or trigger.category
    return actions.update_trigger(trigger, actor=user, **changes)


@router.put("triggers/{int:trigger_id}", response=TriggerEnvelope, summary="Update a trigger")
def update_trigger(request: HttpRequest, trigger_id: int, payload: TriggerInEnvelope) -> dict:
    user = _admin(request)
    trigger = access.visible_triggers(user).get(pk=trigger_id)
    return {"trigger": trigger_json(request, _update_trigger(user, trigger, payload.trigger))}


@router.delete("triggers/{int:trigger_id}", response={204: None}, summary="Delete a trigger")
def delete_trigger(request: HttpRequest, trigger_id: int) -> Status:
    user = _admin(request)
    actions.delete_trigger(access.visible_triggers(user).get(pk=trigger_id), actor=user)
    return Status(204, None)


@router.put("triggers/update_many", response=TriggerList, exclude_unset=True,
            summary="Update many triggers (positions, active, category)")  # fmt: skip
def update_many_triggers(request: HttpRequest, payload: TriggersUpdateMany) -> dict:
    user = _admin(request)
    updated = []
    for item in payload.triggers:
        trigger = access.visible_triggers(user).get(pk=item.id)
        updated.append(_update_trigger(user, trigger, TriggerIn(**item.model_dump(
            exclude_unset=True, exclude={"id"}))))  # fmt: skip
    return {"triggers": [trigger_json(request, t) for t in updated]}


@router.put("triggers/reorder", response={200: None}, summary="Reorder triggers")
def reorder_triggers(request: HttpRequest, payload: TriggerReorder) -> Status:
    actions.reorder_triggers(actor=_admin(request), trigger_ids=payload.trigger_ids)
    return Status(200, None)


# --- trigger categories -----------------------------------------------------------------------


@router.get("trigger_categories", response=CategoryList, exclude_unset=True,
            summary="List trigger categories")  # fmt: skip
def list_categories(request: HttpRequest) -> HttpResponse:
    categories = access.visible_trigger_categories(_admin(request))
    return paginate(
        request,
        categories,
        key="trigger_categories",
        ordering=("position", "id"),
        serialize=lambda rows: [category_json(c) for c in rows],
    )


@router.get("trigger_categories/{int:category_id}", response=CategoryEnvelope,
            summary="Show a trigger category")  # fmt: skip
def show_category(request: HttpRequest, category_id: int) -> dict:
    category = access.visible_trigger_categories(_admin(request)).get(pk=category_id)
    return {"trigger_category": category_json(category)}


@router.post("trigger_categories", response={201: CategoryEnvelope},
             summary="Create a trigger category")  # fmt: skip
def create_category(request: HttpRequest, payload: CategoryInEnvelope) -> Status:
    data = payload.trigger_category
    category = actions.create_trigger_category(
        actor=_admin(request), name=data.name or "", position=data.position
    )
    return Status(201, {"trigger_category": category_json(category)})


@router.patch("trigger_categories/{int:category_id}", response=CategoryEnvelope,
              summary="Update a trigger category")  # fmt: skip
def update_category(request: HttpRequest, category_id: int, payload: CategoryInEnvelope) -> dict:
    user = _admin(request)
    category = access.visible_trigger_categories(user).get(pk=category_id)
    data = payload.trigger_category
    category = actions.update_trigger_category(
        category, actor=user, name=data.name, position=data.position
    )
    return {"trigger_category": category_json(category)}


@router.delete("trigger_categories/{int:category_id}", response={204: None},
               summary="Delete a trigger category")  # fmt: skip
def delete_category(request: HttpRequest, category_id: int) -> Status:
    user = _admin(request)
    category = access.visible_trigger_categories(user).get(pk=category_id)
    actions.delete_trigger_category(category, actor=user)
    return Status(204, None)


# --- automations ------------------------------------------------------------------------------


@router.get("automations", response=AutomationList, exclude_unset=True,
            summary="List automations")  # fmt: skip
def list_automations(request: HttpRequest, active: bool | None = None) -> HttpResponse:
    automations = access.visible_automations(_admin(request))
    if active is not None:
        automations = automations.filter(active=active)
    return paginate(
        request,
        automations,
        key="automations",
        ordering=("position", "id"),
        serialize=lambda rows: [automation_json(request, a) for a in rows],
    )


@router.get("automations/active", response=AutomationList, exclude_unset=True,
            summary="List active automations")  # fmt: skip
def list_active_automations(request: HttpRequest) -> HttpResponse:
    return list_automations(request, active=True)


@router.get("automations/{int:automation_id}", response=AutomationEnvelope,
            summary="Show an automation")  # fmt: skip
def show_automation(request: HttpRequest, automation_id: int) -> dict:
    automation = access.visible_automations(_admin(request)).get(pk=automation_id)
    return {"automation": automation_json(request, automation)}


@router.post("automations", response={201: AutomationEnvelope}, summary="Create an automation")
def create_automation(request: HttpRequest, payload: AutomationInEnvelope) -> Status:
    data = payload.automation
    automation = actions.create_automation(
        actor=_admin(request),
        title=data.title or "",
        conditions=data.conditions if data.conditions is not None else {},
        actions=data.actions if data.actions is not None else [],
        position=data.position,
        active=True if data.active is None else data.active,
        description=data.description or "",
    )
    return Status(201, {"automation": automation_json(request, automation)})


@router.put("automations/{int:automation_id}", response=AutomationEnvelope,
            summary="Update an automation")  # fmt: skip
def update_automation(
    request: HttpRequest, automation_id: int, payload: AutomationInEnvelope
) -> dict:
    user = _admin(request)
    automation = access.visible_automations(user).get(pk=automation_id)
    automation = actions.update_automation(automation, actor=user, **_changes(payload.automation))
    return {"automation": automation_json(request, automation)}


@router.delete("automations/{int:automation_id}", response={204: None},
               summary="Delete an automation")  # fmt: skip
def delete_automation(request: HttpRequest, automation_id: int) -> Status:
    user = _admin(request)
    actions.delete_automation(access.visible_automations(user).get(pk=automation_id), actor=user)
    return Status(204, None)


# --- webhooks ---------------------------------------------------------------------------------


def _webhook_values(data: WebhookIn) -> dict[str, Any]:
    values = {
        name: getattr(data, name)
        for name in data.model_fields_set
        if name not in ("authentication", "subscriptions")
    }
    if "authentication" in data.model_fields_set:
        values["authentication"] = (
            data.authentication.model_dump(exclude={"add_position"})
            if data.authentication is not None
            else {}
        )
    return values


@router.get("webhooks", response=WebhookList, exclude_unset=True, summary="List webhooks")
def list_webhooks(request: HttpRequest) -> HttpResponse:
    return paginate(
        request,
        access.visible_webhooks(_admin(request)),
        key="webhooks",
        serialize=lambda rows: [webhook_json(w) for w in rows],
    )


@router.get("webhooks/{int:webhook_id}", response=WebhookEnvelope, summary="Show a webhook")
def show_webhook(request: HttpRequest, webhook_id: int) -> dict:
    return {"webhook": webhook_json(access.visible_webhooks(_admin(request)).get(pk=webhook_id))}


@router.post("webhooks", response={201: WebhookEnvelope}, summary="Create a webhook")
def create_webhook(request: HttpRequest, payload: WebhookInEnvelope) -> Status:
    values = _webhook_values(payload.webhook)
    values.setdefault("name", "")
    values.setdefault("endpoint", "")
    webhook = actions.create_webhook(actor=_admin(request), **values)
    return Status(201, {"webhook": webhook_json(webhook)})


@router.put("webhooks/{int:webhook_id}", response=WebhookEnvelope, summary="Update a webhook")
def update_webhook(request: HttpRequest, webhook_id: int, payload: WebhookInEnvelope) -> dict:
    user = _admin(request)
    webhook = access.visible_webhooks(user).get(pk=webhook_id)
    webhook = actions.update_webhook(webhook, actor=user, **_webhook_values(payload.webhook))
    return {"webhook": webhook_json(webhook)}


@router.patch("webhooks/{int:webhook_id}", response=WebhookEnvelope,
              summary="Patch a webhook")  # fmt: skip
def patch_webhook(request: HttpRequest, webhook_id: int, payload: WebhookInEnvelope) -> dict:
    return update_webhook(request, webhook_id, payload)


@router.delete("webhooks/{int:webhook_id}", response={204: None}, summary="Delete a webhook")
def delete_webhook(request: HttpRequest, webhook_id: int) -> Status:
    user = _admin(request)
    actions.delete_webhook(access.visible_webhooks(user).get(pk=webhook_id), actor=user)
    return Status(204, None)


@router.get("webhooks/{int:webhook_id}/signing_secret", response=SigningSecretEnvelope,
            summary="Show a webhook's signing secret")  # fmt: skip
def signing_secret(request: HttpRequest, webhook_id: int) -> dict:
    webhook = access.visible_webhooks(_admin(request)).get(pk=webhook_id)
    return {"signing_secret": {"secret": webhook.signing_secret, "algorithm": "SHA256"}}


@router.post("webhooks/{int:webhook_id}/test", response=TestResponseEnvelope,
             summary="Send a test request to a webhook")  # fmt: skip
def test_webhook(request: HttpRequest, webhook_id: int, payload: WebhookTestIn) -> dict:
    user = _admin(request)
    webhook = access.visible_webhooks(user).get(pk=webhook_id)
    body = (payload.request or {}).get("payload") or '{"test": true}'
    result = actions.send_test_webhook(actor=user, webhook=webhook, body=str(body))
    return {"response": result}


@router.get("webhooks/{int:webhook_id}/invocations", response=InvocationList,
            exclude_unset=True, summary="List a webhook's deliveries")  # fmt: skip
def list_invocations(request: HttpRequest, webhook_id: int) -> HttpResponse:
    webhook = access.visible_webhooks(_admin(request)).get(pk=webhook_id)
    return paginate(
        request,
        WebhookDelivery.objects.filter(webhook=webhook),
        key="invocations",
        ordering=("-id",),
        serialize=invocations_json,
    )


@router.get("webhooks/{int:webhook_id}/invocations/{int:invocation_id}/attempts",
            response=AttemptList, exclude_unset=True,
            summary="The delivery log of one delivery")  # fmt: skip
def list_attempts(request: HttpRequest, webhook_id: int, invocation_id: int) -> HttpResponse:
    webhook = access.visible_webhooks(_admin(request)).get(pk=webhook_id)
    delivery = WebhookDelivery.objects.get(webhook=webhook, pk=invocation_id)
    return paginate(
        request,
        WebhookAttempt.objects.filter(delivery=delivery),
        key="attempts",
        ordering=("id",),
        serialize=attempts_json,
    )


# --- notifications (Kefu) ---------------------------------------------------------------------


@router.get("notifications", response=NotificationList, exclude_unset=True,
            summary="My notifications, newest first")  # fmt: skip
def list_notifications(request: HttpRequest, unread: bool = False) -> HttpResponse:
    notes = access.my_notifications(current_user(request))
    if unread:
        notes = notes.filter(read_at__isnull=True)
    return paginate(
        request,
        notes,
        key="notifications",
        ordering=("-id",),
        serialize=lambda rows: [notification_json(n) for n in rows],
    )


@router.put("notifications/{int:notification_id}/read", response=NotificationEnvelope,
            summary="Mark a notification read")  # fmt: skip
def read_notification(request: HttpRequest, notification_id: int) -> dict:
    user = current_user(request)
    note = access.my_notifications(user).get(pk=notification_id)
    return {"notification": notification_json(
        actions.mark_notification_read(actor=user, notification=note))}  # fmt: skip


@router.put("notifications/read_all", response={204: None}, summary="Mark all read")
def read_all_notifications(request: HttpRequest) -> Status:
    actions.mark_all_notifications_read(actor=current_user(request))
    return Status(204, None)


# --- routing (Kefu) ---------------------------------------------------------------------------


def _status_json(status: Any) -> dict[str, Any]:
    return {
        "agent_id": status.agent_id,
        "availability": status.availability,
        "capacity": status.capacity,
        "skills": list(status.skills),
    }


@router.put("agent_statuses/{int:user_id}", response=AvailabilityEnvelope,
            summary="Set an agent's availability, capacity and skills")  # fmt: skip
def update_agent_status(
    request: HttpRequest, user_id: int, payload: AvailabilityInEnvelope
) -> dict:
    actor = current_user(request)
    if not actor.is_agent:
        raise PermissionDenied(_("Only agents have a routing status."))
    agent = User.objects.get(pk=user_id, role__in=["agent", "admin"])
    if agent.pk != actor.pk and not actor.is_admin:
        raise PermissionDenied(_("Agents set their own availability."))
    data = payload.agent_status
    status = actions.agent_status(agent)
    if data.capacity is not None or data.skills is not None:
        status = actions.update_agent_routing(
            actor=actor, agent=agent, capacity=data.capacity, skills=data.skills
        )
    if data.availability is not None:
        status = actions.set_agent_availability(
            actor=actor, agent=agent, availability=data.availability
        )
    return {"agent_status": _status_json(status)}


@router.put("groups/{int:group_id}/routing", response=GroupRoutingEnvelope,
            summary="Choose how a group's tickets are routed")  # fmt: skip
def set_group_routing(request: HttpRequest, group_id: int, payload: GroupRoutingInEnvelope) -> dict:
    user = _admin(request)
    group = visible_groups(user).get(pk=group_id)
    routing = actions.set_group_routing(actor=user, group=group, mode=payload.routing.mode)
    return {"routing": {"group_id": group.pk, "mode": routing.mode}}


# --- child tasks and escalation (Kefu) --------------------------------------------------------


def _child_json(ticket: Any) -> dict[str, Any]:
    from kefu.api.formats import timestamp

    return {
        "id": ticket.pk,
        "subject": ticket.subject,
        "status": ticket.status,
        "group_id": ticket.group_id,
        "assignee_id": ticket.assignee_id,
        "created_at": timestamp(ticket.created_at),
    }


@router.get("tickets/{int:ticket_id}/child_tasks", response=ChildTaskList,
            summary="A ticket's child tasks and their state")  # fmt: skip
def list_child_tasks(request: HttpRequest, ticket_id: int) -> dict:
    user = current_user(request)
    if not user.is_agent:  # internal work between departments: customers never see it
        raise PermissionDenied(_("Only agents see child tasks."))
    parent = access_ticket(user, ticket_id)
    return {"child_tasks": [_child_json(t) for t in actions.child_tasks(parent)]}


@router.post("tickets/{int:ticket_id}/child_tasks", response={201: ChildTaskEnvelope},
             summary="Open a child task for another group")  # fmt: skip
def create_child_task(request: HttpRequest, ticket_id: int, payload: ChildTaskInEnvelope) -> Status:
    user = current_user(request)
    parent = access_ticket(user, ticket_id)
    data = payload.child_task
    group = visible_groups(user).filter(pk=data.group_id).first()
    if group is None:
        raise unknown_id("group_id", data.group_id)
    assignee = None
    if data.assignee_id is not None:
        assignee = User.objects.filter(pk=data.assignee_id).first()
        if assignee is None:
            raise unknown_id("assignee_id", data.assignee_id)
    child = actions.open_child_task(
        actor=user, parent=parent, group=group, subject=data.subject, body=data.body,
        assignee=assignee,
    )  # fmt: skip
    return Status(201, {"child_task": _child_json(child)})


@router.post("tickets/{int:ticket_id}/escalate", response=EscalatedEnvelope,
             summary="Escalate a ticket to another group, with the reason")  # fmt: skip
def escalate(request: HttpRequest, ticket_id: int, payload: EscalationInEnvelope) -> dict:
    user = current_user(request)
    ticket = access_ticket(user, ticket_id)
    data = payload.escalation
    group = visible_groups(user).filter(pk=data.group_id).first()
    if group is None:
        raise unknown_id("group_id", data.group_id)
    ticket = actions.escalate_ticket(actor=user, ticket=ticket, group=group, reason=data.reason)
    return {"ticket": _child_json(ticket)}
