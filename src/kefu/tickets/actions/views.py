"""Views (saved ticket lists) and macros (one-click changes) — shared, per group, or personal."""

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils.translation import gettext as _

from kefu.accounts.actions import normalize_tags
from kefu.accounts.models import Group, User
from kefu.core.conditions import ConditionError

from ..access import visible_tickets
from ..choices import PRIORITY_ORDER, STATUS_ORDER, Priority, Restriction, Status, TicketType
from ..conditions import parse_ticket_conditions, ticket_filter
from ..models import Macro, RestrictedModel, Ticket, TicketField, View
from .data import NewComment, TicketData
from .fields import clean_field_value

# --- Restriction ------------------------------------------------------------------------------


def _apply_restriction(
    obj: RestrictedModel, *, actor: User, restriction: str, group: Group | None
) -> None:
    if restriction not in Restriction.values:
        raise ValidationError(
            {"restriction": [_("Unknown restriction: %(r)s") % {"r": restriction}]}
        )
    if not actor.is_agent:
        raise PermissionDenied(_("Only agents have views and macros."))
    if restriction != Restriction.USER and not actor.is_admin:
        raise PermissionDenied(_("Only admins share views and macros."))
    if restriction == Restriction.GROUP and group is None:
        raise ValidationError({"restriction": [_("Choose the group it is for.")]})
    obj.restriction = restriction
    obj.restriction_group = group if restriction == Restriction.GROUP else None
    obj.restriction_user = actor if restriction == Restriction.USER else None


def _check_can_change(obj: RestrictedModel, actor: User) -> None:
    if actor.is_admin:
        return
    if obj.restriction == Restriction.USER and obj.restriction_user_id == actor.pk:
        return
    raise PermissionDenied(_("Only admins change shared views and macros."))


SHARED_ATTRIBUTES = {"title", "description", "active", "position", "restriction",
                     "restriction_group"}  # fmt: skip


def _update_restricted(
    obj: RestrictedModel,
    *,
    actor: User,
    changes: Mapping[str, Any],
    own: Mapping[str, Callable[[Any], Any]],
    title_required: str,
) -> None:
    """Apply the attributes views and macros share, plus ``own`` ({attribute: cleaner}), and
    save. Checks that ``actor`` may change it and that every attribute is known."""
    _check_can_change(obj, actor)
    unknown = set(changes) - SHARED_ATTRIBUTES - set(own)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    if "title" in changes:
        if not str(changes["title"]).strip():
            raise ValidationError({"title": [title_required]})
        obj.title = str(changes["title"]).strip()
    for name in ("description", "active", "position"):
        if name in changes:
            setattr(obj, name, changes[name])
    for name, clean in own.items():
        if name in changes:
            setattr(obj, name, clean(changes[name]))
    if "restriction" in changes or "restriction_group" in changes:
        _apply_restriction(
            obj,
            actor=actor,
            restriction=changes.get("restriction", obj.restriction),
            group=changes.get("restriction_group", obj.restriction_group),
        )
    obj.save()


def _delete_restricted(obj: RestrictedModel, *, actor: User) -> None:
    _check_can_change(obj, actor)
    obj.delete()


# --- Views ------------------------------------------------------------------------------------

SORTABLE = {
    "id": "id",
    "subject": "subject",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "status": "status",
    "priority": "priority",
    "requester": "requester__name",
    "assignee": "assignee__name",
    "group": "group__name",
    "due_at": "due_at",
}
NULLABLE_SORTS = {"assignee", "group", "due_at"}
DEFAULT_COLUMNS = ["id", "subject", "requester", "status", "priority", "updated_at", "assignee"]


def _clean_execution(execution: Mapping[str, Any] | None) -> dict[str, Any]:
    execution = dict(execution or {})
    allowed = {"columns", "sort_by", "sort_order", "group_by", "group_order"}
    unknown = set(execution) - allowed
    if unknown:
        raise ValidationError(
            {"execution": [_("Unknown setting: %(s)s") % {"s": ", ".join(sorted(unknown))}]}
        )
    columns = execution.get("columns") or DEFAULT_COLUMNS
    if not isinstance(columns, list) or any(c not in SORTABLE for c in columns):
        raise ValidationError(
            {"columns": [_("Columns must be among: %(c)s") % {"c": ", ".join(SORTABLE)}]}
        )
    sort_by = execution.get("sort_by") or "updated_at"
    if sort_by not in SORTABLE:
        raise ValidationError({"sort_by": [_("Cannot sort by %(s)s.") % {"s": sort_by}]})
    sort_order = execution.get("sort_order") or "desc"
    if sort_order not in ("asc", "desc"):
        raise ValidationError({"sort_order": [_("Sort order is asc or desc.")]})
    group_by = execution.get("group_by")
    if group_by is not None and group_by not in SORTABLE:
        raise ValidationError({"group_by": [_("Cannot group by %(s)s.") % {"s": group_by}]})
    return {
        "columns": columns,
        "sort_by": sort_by,
        "sort_order": sort_order,
        "group_by": group_by,
        "group_order": execution.get("group_order") or "asc",
    }


def _clean_view_conditions(conditions: Mapping[str, Any]) -> dict[str, Any]:
    try:
        parsed = parse_ticket_conditions(conditions)
    except ConditionError as exc:
        raise ValidationError({"conditions": exc.descriptions}) from None
    if not parsed.all and not parsed.any:
        raise ValidationError({"conditions": [_("A view needs at least one condition.")]})
    return parsed.model_dump(mode="json")


@transaction.atomic
def create_view(
    *,
    actor: User,
    title: str,
    conditions: Mapping[str, Any],
    execution: Mapping[str, Any] | None = None,
    restriction: str = Restriction.SHARED,
    restriction_group: Group | None = None,
    description: str = "",
    active: bool = True,
    position: int = 0,
) -> View:
    if not title.strip():
        raise ValidationError({"title": [_("A view needs a title.")]})
    view = View(title=title.strip(), description=description, active=active, position=position)
    _apply_restriction(view, actor=actor, restriction=restriction, group=restriction_group)
    view.conditions = _clean_view_conditions(conditions)
    view.execution = _clean_execution(execution)
    view.save()
    return view


@transaction.atomic
def update_view(view: View, *, actor: User, **changes: Any) -> View:
    _update_restricted(
        view,
        actor=actor,
        changes=changes,
        own={"conditions": _clean_view_conditions, "execution": _clean_execution},
        title_required=_("A view needs a title."),
    )
    return view


def delete_view(view: View, *, actor: User) -> None:
    _delete_restricted(view, actor=actor)


def _ordering(execution: Mapping[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    sort_by = execution.get("sort_by") or "updated_at"
    descending = (execution.get("sort_order") or "desc") == "desc"
    annotations: dict[str, Any] = {}
    if sort_by in ("status", "priority"):
        order = STATUS_ORDER if sort_by == "status" else PRIORITY_ORDER
        annotations["_rank"] = Case(
            *[When(**{sort_by: value}, then=Value(i)) for i, value in enumerate(order)],
            default=Value(-1),
            output_field=IntegerField(),
        )
        key: Any = models.F("_rank")
    else:
        key = models.F(SORTABLE[sort_by])
    if sort_by in NULLABLE_SORTS:
        key = key.desc(nulls_last=True) if descending else key.asc(nulls_last=True)
    else:
        # No NULLS LAST on columns that are never empty: it would stop PostgreSQL from
        # reading the index backwards (59 ms -> 0.3 ms on 100k tickets, bench/RESULTS.md).
        key = key.desc() if descending else key.asc()
    tie = "-id" if descending else "id"
    return annotations, [key, tie]


def view_tickets(view: View, *, user: User, now: dt.datetime | None = None) -> QuerySet[Ticket]:
    """The tickets of a view that ``user`` may see, in the view's order."""
    annotations, ordering = _ordering(view.execution)
    tickets = visible_tickets(user).filter(ticket_filter(view.conditions, now=now, user=user))
    if annotations:
        tickets = tickets.annotate(**annotations)
    return tickets.order_by(*ordering)


def view_count(view: View, *, user: User, now: dt.datetime | None = None) -> int:
    return visible_tickets(user).filter(ticket_filter(view.conditions, now=now, user=user)).count()


# --- Macros -----------------------------------------------------------------------------------


@dataclass
class MacroResult:
    """What applying a macro would do: submit it with ``update_ticket(data=..., comment=...)``."""

    data: TicketData
    comment: NewComment | None


def _person(value: Any, actor: User, *, field: str) -> User | None:
    if value in (None, ""):
        return None
    if value == "current_user":
        return actor
    try:
        return User.objects.get(pk=int(value))
    except (User.DoesNotExist, TypeError, ValueError):
        raise ValidationError({field: [_("No such agent: %(v)s") % {"v": value}]}) from None


def _group(value: Any, actor: User) -> Group | None:
    if value in (None, ""):
        return None
    if value == "current_groups":
        return actor.default_group
    try:
        return Group.objects.get(pk=int(value))
    except (Group.DoesNotExist, TypeError, ValueError):
        raise ValidationError({"group_id": [_("No such group: %(v)s") % {"v": value}]}) from None


def _choice(choices: list[str]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValidationError({"value": [_("“%(v)s” is not allowed here.") % {"v": value}]})
        return str(value)

    return check


def _tags(value: Any) -> list[str]:
    return normalize_tags(value if isinstance(value, list) else str(value or "").split())


# field -> (validate value, apply to the result being built)
MacroStep = Callable[[dict[str, Any], dict[str, Any], Any, User], None]


def _set(name: str, convert: Callable[[Any], Any]) -> MacroStep:
    def step(data: dict[str, Any], comment: dict[str, Any], value: Any, actor: User) -> None:
        data[name] = convert(value)

    return step


def _step_assignee(data: dict[str, Any], comment: dict[str, Any], value: Any, actor: User) -> None:
    data["assignee"] = _person(value, actor, field="assignee_id")


def _step_group(data: dict[str, Any], comment: dict[str, Any], value: Any, actor: User) -> None:
    data["group"] = _group(value, actor)


def _step_add_tags(data: dict[str, Any], comment: dict[str, Any], value: Any, actor: User) -> None:
    data.setdefault("add_tags", []).extend(_tags(value))


def _step_remove_tags(
    data: dict[str, Any], comment: dict[str, Any], value: Any, actor: User
) -> None:
    data.setdefault("remove_tags", []).extend(_tags(value))


def _step_comment(key: str) -> MacroStep:
    def step(data: dict[str, Any], comment: dict[str, Any], value: Any, actor: User) -> None:
        comment[key] = str(value or "")

    return step


def _step_comment_public(
    data: dict[str, Any], comment: dict[str, Any], value: Any, actor: User
) -> None:
    comment["public"] = value in (True, "true", 1, "1")


MACRO_ACTIONS: dict[str, MacroStep] = {
    "status": _set("status", _choice([s for s in Status.values if s != Status.CLOSED])),
    "priority": _set("priority", _choice(Priority.values)),
    "type": _set("type", _choice(TicketType.values)),
    "subject": _set("subject", str),
    "assignee_id": _step_assignee,
    "group_id": _step_group,
    "set_tags": _set("tags", _tags),
    "current_tags": _step_add_tags,
    "remove_tags": _step_remove_tags,
    "comment_value": _step_comment("body"),
    "comment_value_html": _step_comment("html_body"),
    "comment_mode_is_public": _step_comment_public,
}


def _custom_field_step(field_name: str) -> MacroStep | None:
    if not field_name.startswith("custom_fields_"):
        return None
    try:
        field = TicketField.objects.get(
            pk=int(field_name.removeprefix("custom_fields_")), active=True
        )
    except (TicketField.DoesNotExist, ValueError):
        return None

    def step(data: dict[str, Any], comment: dict[str, Any], value: Any, actor: User) -> None:
        data.setdefault("custom_fields", {})[field.pk] = clean_field_value(field, value)

    return step


def _steps(actions: Any) -> list[tuple[MacroStep, Any, str]]:
    if not isinstance(actions, list) or not actions:
        raise ValidationError({"actions": [_("A macro needs at least one action.")]})
    steps = []
    for index, action in enumerate(actions):
        if not isinstance(action, Mapping) or set(action) != {"field", "value"}:
            raise ValidationError(
                {
                    "actions": [
                        _('Action %(i)s must be {"field": ..., "value": ...}.') % {"i": index}
                    ]
                }
            )
        field_name = str(action["field"])
        step = MACRO_ACTIONS.get(field_name) or _custom_field_step(field_name)
        if step is None:
            raise ValidationError(
                {"actions": [_("Unknown macro action: %(f)s") % {"f": field_name}]}
            )
        steps.append((step, action["value"], field_name))
    return steps


def _build(actions: Any, actor: User) -> MacroResult:
    data: dict[str, Any] = {}
    comment: dict[str, Any] = {}
    for step, value, field_name in _steps(actions):
        try:
            step(data, comment, value, actor)
        except ValidationError as exc:
            messages = [m for ms in exc.message_dict.values() for m in ms]
            raise ValidationError({"actions": [f"{field_name}: {m}" for m in messages]}) from None
    new_comment = None
    if comment.get("body") or comment.get("html_body"):
        new_comment = NewComment(
            body=comment.get("body", ""),
            html_body=comment.get("html_body", ""),
            public=comment.get("public", True),
        )
    return MacroResult(data=TicketData(**data), comment=new_comment)


@transaction.atomic
def create_macro(
    *,
    actor: User,
    title: str,
    actions: list[dict[str, Any]],
    restriction: str = Restriction.SHARED,
    restriction_group: Group | None = None,
    description: str = "",
    active: bool = True,
    position: int = 0,
) -> Macro:
    if not title.strip():
        raise ValidationError({"title": [_("A macro needs a title.")]})
    _build(actions, actor)  # validates every action
    macro = Macro(title=title.strip(), description=description, active=active, position=position,
                  actions=actions)  # fmt: skip
    _apply_restriction(macro, actor=actor, restriction=restriction, group=restriction_group)
    macro.save()
    return macro


@transaction.atomic
def update_macro(macro: Macro, *, actor: User, **changes: Any) -> Macro:
    def clean_actions(actions: Any) -> Any:
        _build(actions, actor)  # validates every action
        return actions

    _update_restricted(
        macro,
        actor=actor,
        changes=changes,
        own={"actions": clean_actions},
        title_required=_("A macro needs a title."),
    )
    return macro


def delete_macro(macro: Macro, *, actor: User) -> None:
    _delete_restricted(macro, actor=actor)


def apply_macro(ticket: Ticket, macro: Macro, *, actor: User) -> MacroResult:
    """What ``macro`` would do to ``ticket`` — nothing is saved. The agent reviews the result
    and submits it through ``update_ticket``."""
    if not actor.is_full_agent:
        raise PermissionDenied(_("Only agents apply macros."))
    return _build(macro.actions, actor)


def record_macro_use(macro: Macro) -> None:
    Macro.objects.filter(pk=macro.pk).update(usage_count=models.F("usage_count") + 1)
