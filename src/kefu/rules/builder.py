"""The rule builder of the admin settings: conditions and actions as rows of selects.

It is a view of the two registries, not a second definition of them: the fields come from
``trigger_conditions`` / ``ticket_conditions`` (so a field another app registers — the SLA
conditions — shows up with its operators, with a plain text value if this module has no
better widget for it), the actions from ``rule_actions``. What this module adds is what a
person needs to pick: labels in their language, the operators of the chosen field, and the
widget for its value (a select of groups, a number of hours, ...).

The rows are posted as ``<prefix>-<key>-field``, ``-operator``, ``-value`` (and ``-value_1``,
``-value_2`` for the parts of a notification), ``prefix`` being ``all``, ``any`` or
``actions``; ``key`` is any token, and the rows keep the order in which they were posted.
``read_rules`` turns them back into Zendesk's JSON, which the rules actions validate; their
errors (``all[2]: ...``) are then shown next to the row they name.
"""

import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kefu.core.conditions import (
    BooleanSpec,
    ChoiceSpec,
    FieldSpec,
    ForeignKeySpec,
    HoursSpec,
    NumberSpec,
    Registry,
    TagsSpec,
    TextSpec,
)
from kefu.tickets.choices import Channel, FieldType, Priority, Status, TicketType

from .conditions import CHANGE_FIELDS, CHANGE_OPERATORS, trigger_conditions
from .rule_actions import CUSTOM_FIELD_PREFIX, USER_RECIPIENTS, rule_actions

type Options = list[tuple[str, str]]
type Label = str | Promise

GROUPS = ("all", "any")
NO_VALUE_OPERATORS = {"present", "not_present", "changed", "not_changed"}

OPERATOR_LABELS: dict[str, Label] = {
    "is": _("Is"),
    "is_not": _("Is not"),
    "less_than": _("Less than"),
    "greater_than": _("Greater than"),
    "includes": _("Contains at least one of"),
    "not_includes": _("Contains none of"),
    "present": _("Is present"),
    "not_present": _("Is not present"),
    "changed": _("Changed"),
    "not_changed": _("Not changed"),
    "changed_to": _("Changed to"),
    "not_changed_to": _("Not changed to"),
    "changed_from": _("Changed from"),
    "not_changed_from": _("Not changed from"),
}

CONDITION_LABELS: dict[str, Label] = {
    "update_type": _("Ticket is created or updated"),
    "status": _("Status"),
    "priority": _("Priority"),
    "type": _("Type"),
    "group_id": _("Group"),
    "assignee_id": _("Assignee"),
    "requester_id": _("Requester (user id)"),
    "submitter_id": _("Submitter (user id)"),
    "organization_id": _("Organization"),
    "subject": _("Subject text"),
    "comment_includes_word": _("Comment text"),
    "comment_is_public": _("Comment is"),
    "current_via_id": _("Update via"),
    "via_id": _("Ticket channel"),
    "role": _("Current user is"),
    "current_tags": _("Tags"),
    "requester_tags": _("Requester's tags"),
    "organization_tags": _("Organization's tags"),
    "within_business_hours": _("Within business hours"),
    "custom_status_id": _("Ticket status (custom)"),
    "is_public": _("Ticket is public"),
    "external_id": _("External id"),
    "NEW": _("Hours since created"),
    "OPEN": _("Hours since open"),
    "PENDING": _("Hours since pending"),
    "HOLD": _("Hours since on-hold"),
    "SOLVED": _("Hours since solved"),
    "CLOSED": _("Hours since closed"),
    "assigned_at": _("Hours since assigned"),
    "updated_at": _("Hours since update"),
    "requester_updated_at": _("Hours since requester update"),
    "assignee_updated_at": _("Hours since assignee update"),
    "due_date": _("Hours since due date"),
    "until_due_date": _("Hours until due date"),
    # Registered by the SLA app when it is installed (kefu.sla.conditions).
    "hours_until_next_sla_breach": _("Hours until the next SLA breach"),
    "sla_breached": _("SLA target breached"),
}
# The order of the field select; registered fields not named here follow, then custom fields.
TRIGGER_FIELDS = (
    "update_type",
    "status",
    "priority",
    "type",
    "group_id",
    "assignee_id",
    "organization_id",
    "requester_id",
    "subject",
    "comment_includes_word",
    "comment_is_public",
    "current_via_id",
    "via_id",
    "role",
    "current_tags",
    "requester_tags",
    "organization_tags",
    "within_business_hours",
    "custom_status_id",
    "is_public",
    "submitter_id",
    "external_id",
)
AUTOMATION_FIELDS = (
    "NEW",
    "OPEN",
    "PENDING",
    "HOLD",
    "SOLVED",
    "CLOSED",
    "assigned_at",
    "updated_at",
    "requester_updated_at",
    "assignee_updated_at",
    "due_date",
    "until_due_date",
    "status",
    "priority",
    "type",
    "group_id",
    "assignee_id",
    "organization_id",
    "requester_id",
    "subject",
    "via_id",
    "current_tags",
    "custom_status_id",
    "is_public",
    "submitter_id",
    "external_id",
    "hours_until_next_sla_breach",
    "sla_breached",
)

ACTION_LABELS: dict[str, Label] = {
    "status": _("Set status"),
    "priority": _("Set priority"),
    "type": _("Set type"),
    "group_id": _("Set group"),
    "assignee_id": _("Set assignee"),
    "current_tags": _("Add tags"),
    "remove_tags": _("Remove tags"),
    "set_tags": _("Replace tags with"),
    "follower": _("Add a follower"),
    "cc": _("Add a CC"),
    "required_skills": _("Require skills (routing)"),
    "escalate_to_group": _("Escalate to group"),
    "notification_user": _("Email a person"),
    "notification_group": _("Email a group"),
    "notification_webhook": _("Call a webhook"),
    "set_schedule": _("Set business-hours schedule"),
}
# Actions whose value is a list, one widget per item ([recipient, subject, body], ...).
LIST_ACTIONS = ("escalate_to_group", "notification_user", "notification_group",
                "notification_webhook")  # fmt: skip
ACTION_ORDER = (
    "priority",
    "status",
    "type",
    "group_id",
    "assignee_id",
    "current_tags",
    "remove_tags",
    "set_tags",
    "follower",
    "cc",
    "required_skills",
    "escalate_to_group",
    "notification_user",
    "notification_group",
    "notification_webhook",
    "set_schedule",
)

VALUE_LABELS: dict[str, Label] = {
    "Create": _("Created"),
    "Change": _("Updated"),
    "agent": _("Agent"),
    "end_user": _("End user"),
    "true": _("Yes"),
    "false": _("No"),
    "not_relevant": _("Either (not relevant)"),
    "current_user": _("(current user)"),
    "requester_id": _("(requester)"),
    "assignee_id": _("(assignee)"),
    "requester_and_ccs": _("(requester and CCs)"),
    "followers": _("(followers)"),
    "owner": _("(owner)"),
    "group_id": _("(the ticket's group)"),
}


@dataclass
class Widget:
    """How one value (or one part of it) is entered."""

    kind: str  # "select" | "text" | "number" | "textarea" | "none"
    label: Label = ""
    options: Options = dc_field(default_factory=list)
    placeholder: Label = ""


# --- Options from the database ----------------------------------------------------------------


def _groups() -> Options:
    from kefu.accounts.models import Group

    return [
        (str(pk), name) for pk, name in Group.objects.order_by("name").values_list("pk", "name")
    ]


def _agents() -> Options:
    from kefu.accounts.choices import STAFF_ROLES
    from kefu.accounts.models import User

    people = User.objects.filter(role__in=STAFF_ROLES, is_active=True).order_by("name")
    return [(str(pk), name) for pk, name in people.values_list("pk", "name")]


def _organizations() -> Options:
    from kefu.crm.models import Organization

    rows = Organization.objects.order_by("name").values_list("pk", "name")[:500]
    return [(str(pk), name) for pk, name in rows]


def _custom_statuses() -> Options:
    from kefu.tickets.models import CustomStatus

    return [(str(status.pk), status.label_for_agent()) for status in CustomStatus.objects.all()]


def _webhooks() -> Options:
    from .models import Webhook

    return [
        (str(pk), name) for pk, name in Webhook.objects.order_by("name").values_list("pk", "name")
    ]


def _schedules() -> Options:
    from kefu.sla.models import Schedule

    return [
        (str(pk), name) for pk, name in Schedule.objects.order_by("name").values_list("pk", "name")
    ]


def _labelled(values: Iterable[str], labels: Mapping[str, Label] | None = None) -> Options:
    labels = labels or {}
    return [(v, str(labels.get(v) or VALUE_LABELS.get(v) or v)) for v in values]


def _special(names: Sequence[str]) -> Options:
    return [(name, str(VALUE_LABELS[name])) for name in names]


CHOICE_LABELS: dict[str, Mapping[str, Label]] = {
    "status": dict(Status.choices),
    "priority": dict(Priority.choices),
    "type": dict(TicketType.choices),
    "via_id": dict(Channel.choices),
    "current_via_id": dict(Channel.choices),
}
FOREIGN_OPTIONS: dict[str, Callable[[], Options]] = {
    "group_id": _groups,
    "assignee_id": lambda: _special(["current_user"]) + _agents(),
    "organization_id": _organizations,
    "custom_status_id": _custom_statuses,
}


# --- Conditions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleKind:
    """Triggers or automations: which registry, which fields first, change operators or not."""

    name: str
    registry: Registry
    order: tuple[str, ...]
    change_operators: bool


def trigger_kind() -> RuleKind:
    return RuleKind("trigger", trigger_conditions, TRIGGER_FIELDS, change_operators=True)


def automation_kind() -> RuleKind:
    from kefu.tickets.conditions import ticket_conditions

    return RuleKind("automation", ticket_conditions, AUTOMATION_FIELDS, change_operators=False)


KINDS = {"trigger": trigger_kind, "automation": automation_kind}


def _custom_fields() -> list[tuple[str, str, str]]:
    from kefu.tickets.models import TicketField

    fields = TicketField.objects.filter(active=True).order_by("position", "id")
    return [(f"{CUSTOM_FIELD_PREFIX}{f.pk}", f.title, f.type) for f in fields]


def condition_fields(kind: RuleKind) -> Options:
    """(name, label) of every condition field the builder offers, in display order."""
    names = [name for name in kind.order if kind.registry.resolve(name) is not None]
    registered = [spec.name for spec in kind.registry]
    if isinstance(kind.registry, type(trigger_conditions)):
        registered += [spec.name for spec in trigger_conditions.base]
    names += [n for n in dict.fromkeys(registered) if n not in names and _usable(kind, n)]
    options = [(name, str(CONDITION_LABELS.get(name, name))) for name in names]
    usable = (
        FieldType.DROPDOWN,
        FieldType.TEXT,
        FieldType.TEXTAREA,
        FieldType.REGEXP,
        FieldType.CHECKBOX,
        FieldType.INTEGER,
        FieldType.DECIMAL,
    )
    options += [(name, title) for name, title, type_ in _custom_fields() if type_ in usable]
    return options


def _usable(kind: RuleKind, name: str) -> bool:
    # Automations scan in SQL: fields of the trigger registry (change facts) are not theirs.
    spec = kind.registry.resolve(name)
    if spec is None:
        return False
    return not (kind.name == "automation" and name in CONDITION_LABELS and name not in kind.order)


def condition_operators(kind: RuleKind, name: str) -> Options:
    spec = _resolve(kind, name)
    if spec is None:
        return []
    ops = [str(op) for op in spec.allowed_operators]
    if kind.change_operators and name in CHANGE_FIELDS:
        ops += list(CHANGE_OPERATORS)
    return [(op, str(OPERATOR_LABELS.get(op, op))) for op in ops]


def _resolve(kind: RuleKind, name: str) -> FieldSpec | None:
    try:
        return kind.registry.resolve(name) if name else None
    except Exception:
        return None


def condition_widget(kind: RuleKind, name: str, operator: str) -> Widget:
    spec = _resolve(kind, name)
    if spec is None or operator in NO_VALUE_OPERATORS:
        return Widget("none")
    return spec_widget(name, spec)


def spec_widget(name: str, spec: FieldSpec) -> Widget:
    if name.startswith(CUSTOM_FIELD_PREFIX) and isinstance(spec, ChoiceSpec) and spec.choices:
        return _custom_field_widget(name)  # drop-down options with their names
    if name in FOREIGN_OPTIONS:
        return Widget("select", options=FOREIGN_OPTIONS[name]())
    if name == "comment_is_public":
        return Widget("select", options=_labelled(["true", "false", "not_relevant"]))
    if name in ("within_business_hours", "sla_breached") or isinstance(spec, BooleanSpec):
        return Widget("select", options=_labelled(["true", "false"]))
    if isinstance(spec, ChoiceSpec):
        choices = getattr(spec, "order", None) or spec.choices
        if choices:
            return Widget("select", options=_labelled(choices, CHOICE_LABELS.get(name)))
        return Widget("text")
    if isinstance(spec, HoursSpec):
        return Widget("number", placeholder=_("hours"))
    if isinstance(spec, NumberSpec):
        return Widget("number")
    if isinstance(spec, TagsSpec | TextSpec):
        return Widget("text", placeholder=_("words separated by spaces"))
    if isinstance(spec, ForeignKeySpec):
        return Widget("text", placeholder=_("id or current_user"))
    return Widget("text")


# --- Actions ----------------------------------------------------------------------------------


def action_names() -> Options:
    names = [n for n in ACTION_ORDER if rule_actions.resolve(n) is not None]
    names += [n for n in rule_actions.names() if n not in names]
    options = [(name, str(ACTION_LABELS.get(name, name))) for name in names]
    options += [
        (name, str(_("Set %(field)s") % {"field": title}))
        for name, title, type_ in _custom_fields()
        if type_ != FieldType.MULTISELECT
    ]
    return options


def action_widgets(name: str) -> list[Widget]:
    """The parts of an action's value: one widget, or several for a list value."""
    subject = Widget("text", label=_("Email subject"))
    body = Widget("textarea", label=_("Email body"), placeholder="{{ticket.id}} {{ticket.title}}")
    match name:
        case "status":
            statuses = [s for s in Status.values if s != Status.NEW]
            return [Widget("select", options=_labelled(statuses, dict(Status.choices)))]
        case "priority":
            return [Widget("select", options=_labelled(Priority.values, dict(Priority.choices)))]
        case "type":
            return [
                Widget("select", options=_labelled(TicketType.values, dict(TicketType.choices)))
            ]
        case "group_id":
            return [Widget("select", options=_groups())]
        case "assignee_id" | "follower" | "cc":
            return [Widget("select", options=_special(["current_user"]) + _agents())]
        case "current_tags" | "remove_tags" | "set_tags" | "required_skills":
            return [Widget("text", placeholder=_("words separated by spaces"))]
        case "escalate_to_group":
            return [
                Widget("select", options=_groups()),
                Widget("text", label=_("Reason for the escalation")),
            ]
        case "notification_user":
            people = _special(list(USER_RECIPIENTS)) + _agents()
            return [Widget("select", label=_("Recipient"), options=people), subject, body]
        case "notification_group":
            groups = _special(["group_id"]) + _groups()
            return [Widget("select", label=_("Recipient"), options=groups), subject, body]
        case "notification_webhook":
            return [
                Widget("select", label=_("Webhook"), options=_webhooks()),
                Widget(
                    "textarea", label=_("Request body"), placeholder='{"ticket": {{ticket.id}}}'
                ),
            ]
        case "set_schedule":
            return [Widget("select", options=_schedules())]
    if name.startswith(CUSTOM_FIELD_PREFIX):
        return [_custom_field_widget(name)]
    return [Widget("text")]


def _custom_field_widget(name: str) -> Widget:
    from kefu.tickets.models import TicketField

    rest = name.removeprefix(CUSTOM_FIELD_PREFIX)
    ticket_field = TicketField.objects.filter(pk=int(rest)).first() if rest.isdigit() else None
    if ticket_field is None:
        return Widget("text")
    if ticket_field.type == FieldType.DROPDOWN:
        options = [("", "—"), *ticket_field.options.values_list("value", "name")]
        return Widget("select", options=[(str(v), str(n)) for v, n in options])
    if ticket_field.type == FieldType.CHECKBOX:
        return Widget("select", options=_labelled(["true", "false"]))
    if ticket_field.type in (FieldType.INTEGER, FieldType.DECIMAL):
        return Widget("number")
    return Widget("text")


# --- Rows: building from JSON, reading from a POST --------------------------------------------


def new_key() -> str:
    return secrets.token_hex(4)


@dataclass
class Row:
    """One row of the builder, as shown: a condition (``group`` all/any) or an action."""

    prefix: str
    key: str
    field: str = ""
    operator: str = ""
    values: list[str] = dc_field(default_factory=list)
    errors: list[str] = dc_field(default_factory=list)
    fields: Options = dc_field(default_factory=list)
    operators: Options = dc_field(default_factory=list)
    widgets: list[tuple[Widget, str]] = dc_field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.prefix}-{self.key}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    return str(value)


def condition_row(
    kind: RuleKind,
    prefix: str,
    key: str,
    field_name: str,
    operator: str,
    value: str,
    fields: Options | None = None,
) -> Row:
    """A condition row with its choices filled in; an operator the field lacks becomes the
    field's first one."""
    row = Row(prefix=prefix, key=key, field=field_name, operator=operator, values=[value])
    row.fields = fields if fields is not None else condition_fields(kind)
    row.operators = condition_operators(kind, field_name)
    if row.operators and operator not in {op for op, _label in row.operators}:
        row.operator = row.operators[0][0]
    widget = condition_widget(kind, field_name, row.operator)
    row.widgets = [] if widget.kind == "none" else [(_keeping(widget, value), value)]
    return row


def action_row(
    prefix: str, key: str, field_name: str, values: list[str], fields: Options | None = None
) -> Row:
    row = Row(prefix=prefix, key=key, field=field_name, values=values)
    row.fields = fields if fields is not None else action_names()
    widgets = action_widgets(field_name) if field_name else []
    padded = [*values, *[""] * len(widgets)]
    row.widgets = [(_keeping(w, v), v) for w, v in zip(widgets, padded, strict=False)]
    return row


def _keeping(widget: Widget, value: str) -> Widget:
    """A select that also offers ``value`` if it is not one of its options (a deleted group,
    a mistyped id): the form shows what was stored or sent, next to its error."""
    if widget.kind != "select" or not value or value in {v for v, _label in widget.options}:
        return widget
    return Widget("select", label=widget.label, options=[*widget.options, (value, value)])


def rows_from_rules(
    kind: RuleKind, conditions: Mapping[str, Any] | None, actions: Sequence[Any] | None
) -> dict[str, list[Row]]:
    """The builder's rows for stored conditions and actions (editing a rule)."""
    fields = condition_fields(kind)
    rows: dict[str, list[Row]] = {"all": [], "any": [], "actions": []}
    for group in GROUPS:
        for item in (conditions or {}).get(group) or []:
            if isinstance(item, dict):
                rows[group].append(
                    condition_row(
                        kind,
                        group,
                        new_key(),
                        str(item.get("field", "")),
                        str(item.get("operator", "")),
                        _text(item.get("value")),
                        fields,
                    )
                )
    names = action_names()
    for item in actions or []:
        if isinstance(item, dict):
            value = item.get("value")
            parts = (
                [_text(v) for v in value]
                if isinstance(value, list) and _is_list_action(str(item.get("field", "")))
                else [_text(value)]
            )
            rows["actions"].append(
                action_row("actions", new_key(), str(item.get("field", "")), parts, names)
            )
    return rows


def _is_list_action(name: str) -> bool:
    return name in LIST_ACTIONS


_ROW_FIELD = re.compile(r"^(all|any|actions)-([A-Za-z0-9_]+)-field$")


@dataclass
class PostedRules:
    conditions: dict[str, list[dict[str, Any]]]
    actions: list[dict[str, Any]]
    # Position in the posted JSON -> row key, to put an error next to its row.
    keys: dict[str, list[str]]
    rows: dict[str, list[Row]]


def read_rules(kind: RuleKind, data: Mapping[str, Any]) -> PostedRules:
    """The builder's rows of a POST as Zendesk's conditions and actions (rows without a
    field are left out), and the rows to show again if the rule is refused."""
    conditions: dict[str, list[dict[str, Any]]] = {"all": [], "any": []}
    actions: list[dict[str, Any]] = []
    keys: dict[str, list[str]] = {"all": [], "any": [], "actions": []}
    rows: dict[str, list[Row]] = {"all": [], "any": [], "actions": []}
    fields, names = condition_fields(kind), action_names()
    for name in data:
        match = _ROW_FIELD.match(name)
        if match is None:
            continue
        prefix, key = match.groups()
        base = f"{prefix}-{key}"
        field_name = str(data.get(name) or "")
        if prefix == "actions":
            values = [str(data.get(f"{base}-value") or "")]
            values += [str(data.get(f"{base}-value_{i}") or "") for i in (1, 2)]
            row = action_row(prefix, key, field_name, values, names)
            row.values = [value for _widget, value in row.widgets]
            rows[prefix].append(row)
            if field_name:
                keys[prefix].append(key)
                actions.append({"field": field_name, "value": _action_value(field_name, row)})
            continue
        operator = str(data.get(f"{base}-operator") or "")
        value = str(data.get(f"{base}-value") or "")
        row = condition_row(kind, prefix, key, field_name, operator, value, fields)
        rows[prefix].append(row)
        if field_name:
            keys[prefix].append(key)
            no_value = row.operator in NO_VALUE_OPERATORS
            conditions[prefix].append(
                {
                    "field": field_name,
                    "operator": row.operator or operator,
                    "value": None if no_value else value,
                }
            )
    return PostedRules(conditions=conditions, actions=actions, keys=keys, rows=rows)


def _action_value(name: str, row: Row) -> Any:
    values = [
        value.strip() if widget.kind != "textarea" else value for widget, value in row.widgets
    ]
    if _is_list_action(name):
        return values
    value = values[0] if values else ""
    if name.startswith(CUSTOM_FIELD_PREFIX) and value in ("true", "false"):
        return value == "true"
    return value


_POSITION = re.compile(r"^(all|any|actions)\[(\d+)\]:?\s*")


def place_errors(posted: PostedRules, key: str, messages: Iterable[str]) -> list[str]:
    """Put each ``all[2]: ...`` message on its row; return the ones that name no row."""
    left = []
    by_key = {row.key: row for rows in posted.rows.values() for row in rows}
    for message in messages:
        match = _POSITION.match(message)
        prefix = match.group(1) if match else key
        index = int(match.group(2)) if match else -1
        if match and 0 <= index < len(posted.keys[prefix]):
            by_key[posted.keys[prefix][index]].errors.append(message[match.end() :])
        else:
            left.append(message)
    return left
