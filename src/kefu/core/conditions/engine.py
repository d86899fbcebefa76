"""The registry of condition fields, and turning a condition set into SQL or a yes/no."""

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import reduce
from operator import and_, or_
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from pydantic import ValidationError

from .schema import Condition, ConditionError, Conditions
from .specs import FieldSpec, InvalidValue, Op, Placeholder, Unresolved

type Resolver = Callable[[str], FieldSpec | None]


class Registry:
    """The condition fields of one kind of object (tickets, later users, organizations...).

    Static fields are registered once at import time; ``register_prefix`` adds fields that
    exist only as data (``custom_fields_<id>``), resolved on demand so a field an admin adds
    is usable at once and a deleted one stops validating.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._fields: dict[str, FieldSpec] = {}
        self._prefixes: dict[str, Resolver] = {}

    def register(self, spec: FieldSpec) -> FieldSpec:
        if spec.name in self._fields:
            raise ValueError(f"{self.name} condition field {spec.name!r} is already registered")
        self._fields[spec.name] = spec
        return spec

    def register_prefix(self, prefix: str, resolve: Resolver) -> None:
        """``resolve(rest)`` gets the name after ``prefix`` and returns its spec or None."""
        if prefix in self._prefixes:
            raise ValueError(f"{self.name} condition prefix {prefix!r} is already registered")
        self._prefixes[prefix] = resolve

    def resolve(self, name: str) -> FieldSpec | None:
        if name in self._fields:
            return self._fields[name]
        for prefix, resolve in self._prefixes.items():
            if name.startswith(prefix) and len(name) > len(prefix):
                return resolve(name.removeprefix(prefix))
        return None

    def __iter__(self) -> Iterator[FieldSpec]:
        """The static fields, in registration order (dynamic ones are data, list them there)."""
        return iter(self._fields.values())


type Context = Mapping[str, Any]


@dataclass(frozen=True)
class Clause:
    """One condition, validated and bound to its field, with its value cleaned."""

    spec: FieldSpec
    operator: Op
    value: Any

    def _value(self, context: Context) -> Any:
        if not isinstance(self.value, Placeholder):
            return self.value
        resolved = context.get(self.value.name)
        return Unresolved.ID if resolved is None else resolved

    def q(self, *, now: dt.datetime, context: Context) -> Q:
        return self.spec.to_q(self.operator, self._value(context), now=now)

    def matches(self, obj: Any, *, now: dt.datetime, context: Context) -> bool:
        return self.spec.matches(obj, self.operator, self._value(context), now=now)


@dataclass(frozen=True)
class BoundConditions:
    """A condition set ready to run. Bind once and reuse it to test many objects: binding
    may query the database (custom fields), running never does beyond ``q`` itself.

    ``context`` gives the values of placeholders such as ``current_user``."""

    all_of: tuple[Clause, ...]
    any_of: tuple[Clause, ...]

    def q(self, *, now: dt.datetime, context: Context | None = None) -> Q:
        _check_aware(now)
        context = context or {}
        q = reduce(and_, (c.q(now=now, context=context) for c in self.all_of), Q())
        if self.any_of:
            q &= reduce(or_, (c.q(now=now, context=context) for c in self.any_of))
        return q

    def matches(self, obj: Any, *, now: dt.datetime, context: Context | None = None) -> bool:
        _check_aware(now)
        context = context or {}
        if not all(c.matches(obj, now=now, context=context) for c in self.all_of):
            return False
        return not self.any_of or any(c.matches(obj, now=now, context=context) for c in self.any_of)


def _check_aware(now: dt.datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("conditions need an aware 'now'")


type ConditionsInput = Conditions | Mapping[str, Any]


def _shape(data: ConditionsInput) -> Conditions:
    if isinstance(data, Conditions):
        return data
    try:
        return Conditions.model_validate(data, strict=True)
    except ValidationError as exc:
        raise ConditionError(
            [
                f"{_location(error['loc'])}: {error['msg']}"
                for error in exc.errors(include_url=False)
            ]
        ) from None


def _location(loc: tuple[int | str, ...]) -> str:
    # ("all", 0, "field") -> "all[0].field", the way the other messages name positions.
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text or "conditions"


def _bind_one(condition: Condition, registry: Registry) -> Clause:
    spec = registry.resolve(condition.field)
    if spec is None:
        raise InvalidValue(_("Unknown field: %(field)s") % {"field": condition.field})
    try:
        operator = Op(condition.operator)
    except ValueError:
        raise InvalidValue(
            _("Unknown operator: %(operator)s") % {"operator": condition.operator}
        ) from None
    if operator not in spec.allowed_operators:
        raise InvalidValue(
            _("Operator %(operator)s is not allowed for field %(field)s (allowed: %(allowed)s)")
            % {
                "operator": operator,
                "field": spec.name,
                "allowed": ", ".join(spec.allowed_operators),
            }
        )
    operator, value = spec.clean(operator, condition.value)
    return Clause(spec, operator, value)


def bind(conditions: ConditionsInput, registry: Registry) -> BoundConditions:
    """Validate ``conditions`` against ``registry`` and bind every condition to its field.

    Raises ``ConditionError`` listing every problem (not just the first), each naming where
    it is (``all[2]``) and the unknown field/operator or the bad value."""
    shaped = _shape(conditions)
    errors: list[str] = []
    bound: dict[str, list[Clause]] = {"all": [], "any": []}
    for group, items in (("all", shaped.all), ("any", shaped.any)):
        for index, condition in enumerate(items):
            try:
                bound[group].append(_bind_one(condition, registry))
            except InvalidValue as exc:
                errors.append(f"{group}[{index}]: {exc}")
    if errors:
        raise ConditionError(errors)
    return BoundConditions(all_of=tuple(bound["all"]), any_of=tuple(bound["any"]))


def parse_conditions(data: ConditionsInput, registry: Registry) -> Conditions:
    """Validate conditions as received (API, admin form) and return them for storing.

    Values are kept as written, so what is stored is what the client sent back."""
    conditions = _shape(data)
    bind(conditions, registry)
    return conditions


def compile_q(
    conditions: ConditionsInput,
    registry: Registry,
    *,
    now: dt.datetime,
    context: Context | None = None,
) -> Q:
    """The conditions as a filter for the registry's model (lists: views, automations)."""
    return bind(conditions, registry).q(now=now, context=context)


def evaluate(
    conditions: ConditionsInput,
    obj: Any,
    registry: Registry,
    *,
    now: dt.datetime,
    context: Context | None = None,
) -> bool:
    """Whether ``obj`` meets the conditions, in Python (rules on one changed object).

    Agrees with ``compile_q`` for every row: ``evaluate(c, row)`` is True exactly when
    ``Model.objects.filter(compile_q(c)).filter(pk=row.pk)`` finds it."""
    return bind(conditions, registry).matches(obj, now=now, context=context)
