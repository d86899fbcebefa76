"""Rule actions: one registry of what a trigger or automation can do (Zendesk's ``actions``).

Each action is an :class:`ActionSpec` registered by name: ``clean`` validates the value when
the rule is saved (``InvalidValue`` naming it), ``plan`` adds its effect to a :class:`Plan`
when the rule fires. All field changes of one rule are applied as ONE ``update_ticket`` (one
audit, via ``rule``); notifications and webhooks run after it. To add an action, write a spec
and ``register`` it (docs/rules.md, "How to add a rule action").
"""

import contextvars
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.actions import normalize_tags
from kefu.accounts.models import Group, User
from kefu.channels.email.rendering import check_template
from kefu.core.conditions import InvalidValue
from kefu.tickets import hooks
from kefu.tickets.actions import TicketData, clean_field_value, update_ticket
from kefu.tickets.choices import Channel, Priority, Status, TicketType
from kefu.tickets.hooks import TicketChange
from kefu.tickets.models import Audit, Ticket, TicketField

from .models import Escalation, TicketSkills, Webhook

log = logging.getLogger(__name__)

CUSTOM_FIELD_PREFIX = "custom_fields_"


@dataclass(frozen=True)
class RuleContext:
    """Which rule is acting, for whom: ``actor`` is who made the update (``current_user``)."""

    rel: str  # "trigger" | "automation"
    rule_id: int
    rule_title: str
    actor: User | None = None
    audit: Audit | None = None  # the change that fired a trigger

    @property
    def via_source(self) -> dict[str, Any]:
        return {"rel": self.rel, "from": {"id": self.rule_id, "title": self.rule_title}}


Effect = Callable[[Ticket, RuleContext, Audit | None], None]


@dataclass
class Plan:
    """What one rule does to one ticket: field changes for one update, then effects."""

    data: dict[str, Any] = field(default_factory=dict)
    add_tags: list[str] = field(default_factory=list)
    remove_tags: list[str] = field(default_factory=list)
    followers: list[User] = field(default_factory=list)
    email_ccs: list[User] = field(default_factory=list)
    skills: list[str] | None = None
    escalation_reason: str = ""
    effects: list[Effect] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ActionSpec:
    name: str
    clean: Callable[[Any], Any]
    plan: Callable[[Plan, Any, RuleContext, Ticket], None]
    # The ticket condition field this action sets (automation nullification, docs/rules.md).
    sets: str | None = None


class ActionRegistry:
    def __init__(self) -> None:
        self._actions: dict[str, ActionSpec] = {}
        self._prefixes: dict[str, Callable[[str], ActionSpec | None]] = {}

    def register(self, spec: ActionSpec) -> ActionSpec:
        if spec.name in self._actions:
            raise ValueError(f"rule action {spec.name!r} is already registered")
        self._actions[spec.name] = spec
        return spec

    def register_prefix(self, prefix: str, resolve: Callable[[str], ActionSpec | None]) -> None:
        self._prefixes[prefix] = resolve

    def resolve(self, name: str) -> ActionSpec | None:
        if name in self._actions:
            return self._actions[name]
        for prefix, resolve in self._prefixes.items():
            if name.startswith(prefix) and len(name) > len(prefix):
                return resolve(name.removeprefix(prefix))
        return None

    def names(self) -> list[str]:
        return sorted(self._actions)


rule_actions = ActionRegistry()
register = rule_actions.register


@dataclass(frozen=True)
class BoundAction:
    spec: ActionSpec
    value: Any


# --- Validation -------------------------------------------------------------------------------


def bind_actions(actions: Any) -> list[BoundAction]:
    """Validate ``[{"field", "value"}, ...]``; raises ValidationError({"actions": [...]})
    listing every problem with its position and the action at fault."""
    if not isinstance(actions, list):
        raise ValidationError({"actions": [_("Actions must be a list.")]})
    errors: list[str] = []
    bound: list[BoundAction] = []
    for index, action in enumerate(actions):
        if not isinstance(action, dict) or not isinstance(action.get("field"), str):
            errors.append(f"actions[{index}]: " + _("An action needs a field and a value."))
            continue
        name = action["field"]
        try:
            spec = rule_actions.resolve(name)
            if spec is None:
                raise InvalidValue(_("Unknown action: %(field)s") % {"field": name})
            bound.append(BoundAction(spec, spec.clean(action.get("value"))))
        except InvalidValue as exc:
            errors.append(f"actions[{index}]: {exc}")
        except ValidationError as exc:
            errors.extend(f"actions[{index}]: {m}" for m in exc.messages)
    if errors:
        raise ValidationError({"actions": errors})
    return bound


def _bad(name: str, value: Any) -> InvalidValue:
    return InvalidValue(
        _("Invalid value %(value)s for action %(field)s") % {"value": repr(value), "field": name}
    )


def _choice(name: str, choices: Sequence[str], nullable: bool = False) -> Callable[[Any], Any]:
    def clean(value: Any) -> Any:
        if nullable and value in ("", None):
            return None
        if not isinstance(value, str) or value not in choices:
            raise _bad(name, value)
        return value

    return clean


def _id(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _user_ref(name: str, placeholders: Sequence[str] = ("current_user",), nullable: bool = False):
    def clean(value: Any) -> Any:
        if nullable and value in ("", None):
            return None
        if isinstance(value, str) and value in placeholders:
            return value
        pk = _id(value)
        if pk is None or not User.objects.filter(pk=pk).exists():
            raise _bad(name, value)
        return pk

    return clean


def _group_ref(name: str, nullable: bool = True) -> Callable[[Any], Any]:
    def clean(value: Any) -> Any:
        if nullable and value in ("", None):
            return None
        pk = _id(value)
        if pk is None or not Group.objects.filter(pk=pk).exists():
            raise _bad(name, value)
        return pk

    return clean


def _tags(name: str) -> Callable[[Any], Any]:
    def clean(value: Any) -> list[str]:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = " ".join(value)
        if not isinstance(value, str):
            raise _bad(name, value)
        return normalize_tags(value.split())

    return clean


def _message(name: str, *, head: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``[recipient, subject, body]`` (Zendesk's notification actions)."""

    def clean(value: Any) -> Any:
        if (
            not isinstance(value, list)
            or len(value) != 3
            or not all(isinstance(v, str | int) for v in value)
        ):
            raise _bad(name, value)
        subject, body = str(value[1]), str(value[2])
        if not subject.strip() or not body.strip():
            raise InvalidValue(_("Action %(field)s needs a subject and a body") % {"field": name})
        for template in (subject, body):
            try:
                check_template(template, field=name)
            except ValidationError as exc:
                raise InvalidValue(f"{name}: " + "; ".join(exc.messages)) from None
        return [head(value[0]), subject, body]

    return clean


def _resolve_user(ref: Any, ctx: RuleContext, ticket: Ticket) -> User | None:
    if ref == "current_user":
        return ctx.actor
    if ref is None:
        return None
    return User.objects.filter(pk=ref).first()


# --- Ticket fields ----------------------------------------------------------------------------


def _set(attribute: str) -> Callable[[Plan, Any, RuleContext, Ticket], None]:
    def plan(p: Plan, value: Any, ctx: RuleContext, ticket: Ticket) -> None:
        p.data[attribute] = value

    return plan


_SETTABLE_STATUSES = [s for s in Status.values if s != Status.NEW]
register(ActionSpec(name="status", clean=_choice("status", _SETTABLE_STATUSES),
                    plan=_set("status"), sets="status"))  # fmt: skip
register(ActionSpec(name="priority", clean=_choice("priority", Priority.values, nullable=True),
                    plan=_set("priority"), sets="priority"))  # fmt: skip
register(ActionSpec(name="type", clean=_choice("type", TicketType.values, nullable=True),
                    plan=_set("type"), sets="type"))  # fmt: skip


def _plan_group(p: Plan, value: Any, ctx: RuleContext, ticket: Ticket) -> None:
    p.data["group"] = Group.objects.filter(pk=value).first() if value else None


register(ActionSpec(name="group_id", clean=_group_ref("group_id"), plan=_plan_group,
                    sets="group_id"))  # fmt: skip


def _plan_assignee(p: Plan, value: Any, ctx: RuleContext, ticket: Ticket) -> None:
    if value == "current_user" and (ctx.actor is None or not ctx.actor.is_agent):
        return  # no agent made this change: nobody to assign
    p.data["assignee"] = _resolve_user(value, ctx, ticket)


register(ActionSpec(name="assignee_id", clean=_user_ref("assignee_id", nullable=True),
                    plan=_plan_assignee, sets="assignee_id"))  # fmt: skip


def _plan_set_tags(p: Plan, value: Any, ctx: RuleContext, ticket: Ticket) -> None:
    p.data["tags"] = value


def _plan_add_tags(p: Plan, value: Any, ctx: RuleContext, ticket: Ticket) -> None:
    p.add_tags.extend(value)


def _plan_remove_tags(p: Plan, value: Any, ctx: RuleContext, ticket: Ticket) -> None:
    p.remove_tags.extend(value)


register(ActionSpec(name="set_tags", clean=_tags("set_tags"), plan=_plan_set_tags,
                    sets="current_tags"))  # fmt: skip
register(ActionSpec(name="current_tags", clean=_tags("current_tags"), plan=_plan_add_tags,
                    sets="current_tags"))  # fmt: skip
register(ActionSpec(name="remove_tags", clean=_tags("remove_tags"), plan=_plan_remove_tags,
                    sets="current_tags"))  # fmt: skip


def _plan_follower(p: Plan, value: Any, ctx: RuleContext, ticket: Ticket) -> None:
    user = _resolve_user(value, ctx, ticket)
    if user is not None and user.is_agent:
        p.followers.append(user)


def _plan_cc(p: Plan, value: Any, ctx: RuleContext, ticket: Ticket) -> None:
    user = _resolve_user(value, ctx, ticket)
    if user is not None:
        p.email_ccs.append(user)


register(ActionSpec(name="follower", clean=_user_ref("follower"), plan=_plan_follower))
register(ActionSpec(name="cc", clean=_user_ref("cc"), plan=_plan_cc))


def _custom_field_action(rest: str) -> ActionSpec | None:
    if not rest.isascii() or not rest.isdigit():
        return None
    ticket_field = TicketField.objects.filter(pk=int(rest)).first()
    if ticket_field is None:
        return None
    name = CUSTOM_FIELD_PREFIX + rest

    def clean(value: Any) -> Any:
        return clean_field_value(ticket_field, value)

    def plan(p: Plan, value: Any, ctx: RuleContext, ticket: Ticket) -> None:
        p.data.setdefault("custom_fields", {})[ticket_field.pk] = value

    return ActionSpec(name=name, clean=clean, plan=plan, sets=name)


rule_actions.register_prefix(CUSTOM_FIELD_PREFIX, _custom_field_action)


# --- Routing and escalation -------------------------------------------------------------------


def _plan_skills(p: Plan, value: Any, ctx: RuleContext, ticket: Ticket) -> None:
    p.skills = value


register(ActionSpec(name="required_skills", clean=_tags("required_skills"), plan=_plan_skills))


def _clean_schedule(value: Any) -> Any:
    """A schedule of the SLA app (Zendesk's ``set_schedule``)."""
    from kefu.sla.models import Schedule

    pk = _id(value)
    if pk is None or not Schedule.objects.filter(pk=pk).exists():
        raise _bad("set_schedule", value)
    return pk


def _plan_schedule(p: Plan, value: Any, ctx: RuleContext, ticket: Ticket) -> None:
    def effect(ticket: Ticket, ctx: RuleContext, audit: Audit | None) -> None:
        from kefu.sla.actions import set_ticket_schedule
        from kefu.sla.models import Schedule

        schedule = Schedule.objects.filter(pk=value).first()
        if schedule is not None:
            set_ticket_schedule(ticket, schedule=schedule)

    p.effects.append(effect)


register(ActionSpec(name="set_schedule", clean=_clean_schedule, plan=_plan_schedule))


def _clean_escalation(value: Any) -> Any:
    """``[group_id, reason]``: move the ticket to that group and record why."""
    if not isinstance(value, list) or len(value) != 2 or not isinstance(value[1], str):
        raise _bad("escalate_to_group", value)
    group = _group_ref("escalate_to_group", nullable=False)(value[0])
    if not value[1].strip():
        raise InvalidValue(_("An escalation needs a reason"))
    return [group, value[1].strip()]


def _plan_escalation(p: Plan, value: Any, ctx: RuleContext, ticket: Ticket) -> None:
    group = Group.objects.filter(pk=value[0]).first()
    if group is None or group.pk == ticket.group_id:
        return
    p.data["group"] = group
    p.escalation_reason = value[1]


register(ActionSpec(name="escalate_to_group", clean=_clean_escalation, plan=_plan_escalation,
                    sets="group_id"))  # fmt: skip


# --- Notifications and webhooks ---------------------------------------------------------------

USER_RECIPIENTS = ("requester_id", "assignee_id", "current_user", "requester_and_ccs",
                   "followers", "owner")  # fmt: skip


def _recipients_for(ref: Any, ctx: RuleContext, ticket: Ticket) -> list[User]:
    from .models import TicketOwner

    match ref:
        case "requester_id":
            return [ticket.requester]
        case "assignee_id":
            return [ticket.assignee] if ticket.assignee else []
        case "current_user":
            return [ctx.actor] if ctx.actor else []
        case "requester_and_ccs":
            return [ticket.requester, *ticket.email_ccs.all()]
        case "followers":
            return list(ticket.followers.all())
        case "owner":
            owner = TicketOwner.objects.filter(ticket=ticket).select_related("owner").first()
            return [owner.owner] if owner else []
    user = User.objects.filter(pk=ref, is_active=True).first()
    return [user] if user else []


def _notify_effect(recipients: Callable[[Ticket], list[User]], subject: str, body: str) -> Effect:
    def effect(ticket: Ticket, ctx: RuleContext, audit: Audit | None) -> None:
        from .delivery import rule_notification

        people = [u for u in recipients(ticket) if u.is_active and not u.suspended]
        rule_notification(
            ticket=ticket,
            recipients=people,
            subject=subject,
            body=body,
            audit=audit or ctx.audit,
            via=ctx.via_source,
            actor=ctx.actor,
        )

    return effect


def _plan_notify_user(p: Plan, value: Any, ctx: RuleContext, ticket: Ticket) -> None:
    ref, subject, body = value
    p.effects.append(_notify_effect(lambda t: _recipients_for(ref, ctx, t), subject, body))


def _group_members(ref: Any, ticket: Ticket) -> list[User]:
    group_id = ticket.group_id if ref == "group_id" else ref
    if group_id is None:
        return []
    return list(User.objects.filter(agent_groups__id=group_id, is_active=True))


def _plan_notify_group(p: Plan, value: Any, ctx: RuleContext, ticket: Ticket) -> None:
    ref, subject, body = value
    p.effects.append(_notify_effect(lambda t: _group_members(ref, t), subject, body))


def _user_recipient(value: Any) -> Any:
    if isinstance(value, str) and value in USER_RECIPIENTS:
        return value
    return _user_ref("notification_user", placeholders=())(value)


def _group_recipient(value: Any) -> Any:
    return "group_id" if value == "group_id" else _group_ref("notification_group", False)(value)


register(ActionSpec(name="notification_user", clean=_message("notification_user",
                    head=_user_recipient), plan=_plan_notify_user))  # fmt: skip
register(ActionSpec(name="notification_group", clean=_message("notification_group",
                    head=_group_recipient), plan=_plan_notify_group))  # fmt: skip


def _clean_webhook(value: Any) -> Any:
    """``[webhook_id, body]``; the body may use placeholders (``{{ticket.id}}``)."""
    if not isinstance(value, list) or len(value) != 2 or not isinstance(value[1], str):
        raise _bad("notification_webhook", value)
    pk = _id(value[0])
    if pk is None or not Webhook.objects.filter(pk=pk).exists():
        raise _bad("notification_webhook", value[0])
    return [pk, value[1]]


def _plan_webhook(p: Plan, value: Any, ctx: RuleContext, ticket: Ticket) -> None:
    def effect(ticket: Ticket, ctx: RuleContext, audit: Audit | None) -> None:
        from .webhooks import queue_delivery

        queue_delivery(webhook_id=value[0], template=value[1], ticket=ticket, actor=ctx.actor)

    p.effects.append(effect)


register(ActionSpec(name="notification_webhook", clean=_clean_webhook, plan=_plan_webhook))


# --- Applying a rule --------------------------------------------------------------------------


@dataclass
class Applied:
    ticket: Ticket
    change: TicketChange | None  # the update the rule made (None: it changed no field)


# (depth of the update a rule is making, the changes seen at that depth)
_captured: contextvars.ContextVar[tuple[int, list[TicketChange]] | None] = contextvars.ContextVar(
    "kefu_rule_update", default=None
)


def capture(change: TicketChange) -> None:
    """Called by the trigger hook for every change: hands a rule its own update."""
    current = _captured.get()
    if current is not None and change.depth == current[0]:
        current[1].append(change)


def apply_actions(ticket: Ticket, actions: Sequence[BoundAction], ctx: RuleContext) -> Applied:
    """Apply a rule's actions to ``ticket``: one ``update_ticket`` (via rule) for all field
    changes, then notifications and webhooks. A field change the ticket refuses at run time
    (an assignee who left the group) is skipped and logged: a rule never fails the update
    that fired it."""
    plan = Plan()
    for action in actions:
        action.spec.plan(plan, action.value, ctx, ticket)
    changes: dict[str, Any] = dict(plan.data)
    if plan.add_tags:
        changes["add_tags"] = plan.add_tags
    if plan.remove_tags:
        changes["remove_tags"] = plan.remove_tags
    if plan.followers:
        changes["followers"] = [*ticket.followers.all(), *plan.followers]
    if plan.email_ccs:
        changes["email_ccs"] = [*ticket.email_ccs.all(), *plan.email_ccs]
    made: TicketChange | None = None
    if changes:
        via_source = ctx.via_source
        if plan.escalation_reason:
            via_source = {**via_source, "reason": plan.escalation_reason}
        previous_group_id = ticket.group_id
        seen: list[TicketChange] = []
        token = _captured.set((hooks.current_depth(), seen))
        try:
            with transaction.atomic():
                ticket = update_ticket(
                    ticket,
                    actor=None,
                    data=TicketData(**changes, via_channel=Channel.RULE, via_source=via_source),
                )
        except (ValidationError, PermissionDenied) as exc:
            log.warning("%s %s could not change #%s: %s", ctx.rel, ctx.rule_id, ticket.pk, exc)
        finally:
            _captured.reset(token)
        made = seen[0] if seen else None
        if plan.escalation_reason and made is not None and made.changed("group_id"):
            Escalation.objects.create(
                ticket=ticket,
                from_group_id=previous_group_id,
                to_group_id=ticket.group_id,
                reason=plan.escalation_reason,
                source={"rel": ctx.rel, "id": ctx.rule_id, "title": ctx.rule_title},
            )
    if plan.skills is not None:
        TicketSkills.objects.update_or_create(ticket=ticket, defaults={"skills": plan.skills})
    for effect in plan.effects:
        effect(ticket, ctx, made.audit if made else None)
    return Applied(ticket=ticket, change=made)
