"""Trigger conditions: every ticket field of ``kefu.tickets.conditions`` plus conditions on the
change itself (Zendesk's ``update_type``, ``status changed_to``, ``comment_is_public``, ...).

Change conditions exist only for one change, so they run in Python only: a trigger is
evaluated against one ticket right after its update. Automations, which scan many tickets in
SQL, use the plain ticket fields.

Zendesk writes "changed" conditions with their own operators (``{"field": "status",
"operator": "changed_to", "value": "solved"}``); the shared condition language has a fixed set
of operators, so ``parse_trigger_conditions`` rewrites them to internal fields
(``status@changed_to`` with ``is``) before binding, and the stored conditions keep Zendesk's
spelling.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db import NotSupportedError
from django.db.models import Q
from django.utils.translation import gettext as _
from pydantic import ValidationError as PydanticError

from kefu.core.conditions import (
    BoundConditions,
    ChoiceSpec,
    Condition,
    ConditionError,
    Conditions,
    ConditionsInput,
    FieldSpec,
    InvalidValue,
    Op,
    Registry,
    TagsSpec,
    TextSpec,
    bind,
)
from kefu.tickets.choices import Channel
from kefu.tickets.conditions import ticket_conditions
from kefu.tickets.hooks import TicketChange
from kefu.tickets.models import Comment, Ticket

CHANGE_OPERATORS = {
    # Zendesk operator: (internal suffix, operator on it)
    "changed": ("changed", Op.IS),
    "not_changed": ("changed", Op.IS_NOT),
    "changed_to": ("changed_to", Op.IS),
    "not_changed_to": ("changed_to", Op.IS_NOT),
    "changed_from": ("changed_from", Op.IS),
    "not_changed_from": ("changed_from", Op.IS_NOT),
}
# Fields whose changes triggers can test; the audit event names them the same way.
CHANGE_FIELDS = ("status", "priority", "type", "assignee_id", "group_id", "organization_id",
                 "requester_id", "custom_status_id")  # fmt: skip


class Subject:
    """What a trigger looks at: the ticket's current values plus the facts of the change.

    Ticket fields read through to the ticket, so the ticket field specs work unchanged."""

    def __init__(self, ticket: Ticket, change: "ChangeFacts") -> None:
        self._ticket = ticket
        self.change = change

    @property
    def ticket(self) -> Ticket:
        return self._ticket

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ticket, name)


@dataclass
class ChangeFacts:
    """One update as triggers see it: the person's change plus what triggers changed since."""

    kind: str  # "create" | "update"
    actor_role: str | None  # "agent" | "end_user" | None (the system)
    via_channel: str
    comment: Comment | None
    changes: dict[str, list[tuple[Any, Any]]]  # field -> [(new, old), ...] in order

    @classmethod
    def of(cls, change: TicketChange) -> "ChangeFacts":
        actor = change.actor
        role = None if actor is None else ("end_user" if actor.is_end_user else "agent")
        facts = cls(
            kind=change.kind,
            actor_role=role,
            via_channel=change.via_channel,
            comment=change.comment,
            changes={},
        )
        facts.add(change)
        return facts

    def add(self, change: TicketChange) -> None:
        for event in change.events:
            if event.type in ("Create", "Change") and event.field_name:
                self.changes.setdefault(event.field_name, []).append(
                    (event.value, event.previous_value)
                )

    @property
    def update_type(self) -> str:
        return "Create" if self.kind == "create" else "Change"

    def changed(self, field: str) -> bool:
        return field in self.changes

    def first_previous(self, field: str) -> Any:
        return self.changes[field][0][1]


@dataclass(frozen=True)
class PythonOnly:
    """A source for change facts: readable in Python, never compiled to SQL."""

    attname: str

    def expression(self) -> Any:
        raise NotSupportedError(f"{self.attname} is a trigger condition and has no SQL form")

    def read(self, obj: Any) -> Any:
        value: Any = obj
        for part in self.attname.split("."):
            value = getattr(value, part, None)
            if value is None:
                return None
        return value


def _no_sql(*args: Any, **kwargs: Any) -> Any:
    raise NotSupportedError("this condition is for triggers only and has no SQL form")


@dataclass(frozen=True, kw_only=True)
class ChangeSpec(FieldSpec):
    """``<field> changed`` / ``changed_to X`` / ``changed_from X`` (and their negations).

    ``base`` is the ticket field's own spec, used to validate X and read the current value.
    A ticket being created counts as changed from nothing to its first values (Zendesk)."""

    supported: ClassVar[tuple[Op, ...]] = (Op.IS, Op.IS_NOT)

    base: FieldSpec
    mode: str  # "changed" | "changed_to" | "changed_from"

    def clean(self, operator: Op, value: Any) -> tuple[Op, Any]:
        if self.mode == "changed":
            return operator, None
        base_op, cleaned = self.base.clean(Op.IS, value)
        # "changed_to ''" means "was cleared": the empty value is None.
        return operator, (None if base_op in (Op.NOT_PRESENT, Op.PRESENT) else cleaned)

    def to_q(self, operator: Op, value: Any, *, now: dt.datetime) -> Q:
        return _no_sql()

    def matches(self, obj: Any, operator: Op, value: Any, *, now: dt.datetime) -> bool:
        facts: ChangeFacts = obj.change
        name = self.base.name
        if not facts.changed(name):
            hit = False
        elif self.mode == "changed":
            hit = True
        elif self.mode == "changed_to":
            hit = _normalize(facts.changes[name][-1][0]) == value
        else:
            hit = _normalize(facts.first_previous(name)) == value
        return hit if operator == Op.IS else not hit


def _normalize(value: Any) -> Any:
    return None if value == "" else value


@dataclass(frozen=True, kw_only=True)
class CommentIsPublicSpec(FieldSpec):
    """``comment_is_public is true|false|not_relevant`` (Zendesk): the update has a public
    reply / an internal note; ``not_relevant`` matches every update."""

    supported: ClassVar[tuple[Op, ...]] = (Op.IS, Op.IS_NOT)

    def clean(self, operator: Op, value: Any) -> tuple[Op, Any]:
        if value in (True, "true"):
            return operator, True
        if value in (False, "false"):
            return operator, False
        if value == "not_relevant":
            return operator, None
        raise InvalidValue(
            _("Invalid value %(value)s for field %(field)s") % {"value": value, "field": self.name}
        )

    def to_q(self, operator: Op, value: Any, *, now: dt.datetime) -> Q:
        return _no_sql()

    def matches(self, obj: Any, operator: Op, value: Any, *, now: dt.datetime) -> bool:
        comment = obj.change.comment
        hit = True if value is None else (comment is not None and comment.public is value)
        return hit if operator == Op.IS else not hit


@dataclass(frozen=True, kw_only=True)
class BusinessHoursSpec(FieldSpec):
    """``within_business_hours is true|false`` (Zendesk): the moment of the update lies in
    the ticket's SLA schedule (its own, its group's or the default; ``kefu.sla``). Without
    any schedule every hour is a business hour."""

    supported: ClassVar[tuple[Op, ...]] = (Op.IS, Op.IS_NOT)

    def clean(self, operator: Op, value: Any) -> tuple[Op, Any]:
        if value in (True, "true"):
            return operator, True
        if value in (False, "false"):
            return operator, False
        raise InvalidValue(
            _("Invalid value %(value)s for field %(field)s") % {"value": value, "field": self.name}
        )

    def to_q(self, operator: Op, value: Any, *, now: dt.datetime) -> Q:
        return _no_sql()

    def matches(self, obj: Any, operator: Op, value: Any, *, now: dt.datetime) -> bool:
        from kefu.sla.actions.schedules import compiled, schedule_for_ticket
        from kefu.sla.business_time import is_business_time
        from kefu.sla.models import SlaTicketState

        ticket = obj.ticket
        state = SlaTicketState.objects.filter(ticket_id=ticket.pk).first()
        inside = is_business_time(compiled(schedule_for_ticket(ticket, state)), now)
        hit = inside is value
        return hit if operator == Op.IS else not hit


class TriggerRegistry(Registry):
    """The ticket fields, plus the change conditions registered here."""

    def __init__(self, base: Registry) -> None:
        super().__init__("trigger")
        self.base = base
        self._internal: dict[str, FieldSpec] = {}

    def add_internal(self, key: str, spec: FieldSpec) -> None:
        self._internal[key] = spec

    def resolve(self, name: str) -> FieldSpec | None:
        if name in self._internal:
            return self._internal[name]
        own = super().resolve(name)
        return own if own is not None else self.base.resolve(name)


trigger_conditions = TriggerRegistry(ticket_conditions)
register = trigger_conditions.register

register(
    ChoiceSpec(
        name="update_type",
        source=PythonOnly("change.update_type"),
        choices=["Create", "Change"],
    )
)
register(CommentIsPublicSpec(name="comment_is_public"))
register(BusinessHoursSpec(name="within_business_hours"))
register(
    TextSpec(
        name="comment_includes_word",
        source=PythonOnly("change.comment.body"),
        operators=(Op.INCLUDES, Op.NOT_INCLUDES, Op.IS, Op.IS_NOT),
    )
)
# The channel of this update (via_id is the channel the ticket was created through).
register(
    ChoiceSpec(name="current_via_id", source=PythonOnly("change.via_channel"),
               choices=Channel.values)
)  # fmt: skip
# Who made the update: "agent" (agents, admins, light agents) or "end_user"; the system
# (an automation, a channel without a person) is neither.
register(
    ChoiceSpec(
        name="role", source=PythonOnly("change.actor_role"), choices=["agent", "end_user"],
        nullable=True,
    )
)  # fmt: skip


def _requester_tags(obj: Any) -> list[str]:
    return list(obj.requester.tags or [])


def _organization_tags(obj: Any) -> list[str]:
    organization = obj.organization
    return list(organization.tags or []) if organization is not None else []


register(TagsSpec(name="requester_tags", exists=_no_sql, read=_requester_tags))
register(TagsSpec(name="organization_tags", exists=_no_sql, read=_organization_tags))

for _field in CHANGE_FIELDS:
    _base = ticket_conditions.resolve(_field)
    assert _base is not None
    for _mode in ("changed", "changed_to", "changed_from"):
        trigger_conditions.add_internal(
            f"{_field}@{_mode}", ChangeSpec(name=_field, base=_base, mode=_mode)
        )


def _shape(data: ConditionsInput) -> Conditions:
    if isinstance(data, Conditions):
        return data
    try:
        return Conditions.model_validate(data, strict=True)
    except PydanticError as exc:
        raise ConditionError(
            [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)]
        ) from None


def _internal(conditions: Conditions) -> tuple[Conditions, list[str]]:
    """Rewrite Zendesk's change operators to internal fields; list misuses."""
    errors: list[str] = []

    def rewrite(group: str, items: Sequence[Condition]) -> list[Condition]:
        out = []
        for index, condition in enumerate(items):
            change = CHANGE_OPERATORS.get(condition.operator)
            if change is None:
                out.append(condition)
                continue
            if condition.field not in CHANGE_FIELDS:
                errors.append(
                    f"{group}[{index}]: "
                    + _("Operator %(operator)s is not allowed for field %(field)s")
                    % {"operator": condition.operator, "field": condition.field}
                )
                continue
            suffix, operator = change
            out.append(
                Condition(
                    field=f"{condition.field}@{suffix}", operator=operator, value=condition.value
                )
            )
        return out

    rewritten = Conditions(all=rewrite("all", conditions.all), any=rewrite("any", conditions.any))
    return rewritten, errors


def bind_trigger_conditions(data: ConditionsInput) -> BoundConditions:
    """Validate trigger conditions; raises ``ConditionError`` naming every problem."""
    shaped = _shape(data)
    rewritten, errors = _internal(shaped)
    try:
        bound = bind(rewritten, trigger_conditions)
    except ConditionError as exc:
        errors.extend(exc.descriptions)
    if errors:
        raise ConditionError(errors)
    return bound


def parse_trigger_conditions(data: ConditionsInput | Mapping[str, Any]) -> Conditions:
    """Validate trigger conditions as received; return them as written, for storing."""
    shaped = _shape(data)
    bind_trigger_conditions(shaped)
    return shaped
