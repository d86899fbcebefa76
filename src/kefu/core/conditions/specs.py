"""Field kinds: what each operator means, in SQL and in Python, written side by side.

The one invariant that keeps ``compile_q`` and ``evaluate`` in agreement on empty values:

* every *positive* operator (``is``, ``less_than``, ``greater_than``, ``includes``, ``present``)
  is False in Python when the field is empty (``None``), and is NULL or FALSE in SQL when the
  column is NULL — never NULL otherwise;
* every *negative* operator (``is_not``, ``not_includes``, ``not_present``) is exactly
  ``not positive``: in Python ``not``, in SQL ``NOT positive OR column IS NULL`` (``NOT NULL``
  is NULL, which a WHERE clause would drop).

So ``priority is_not high`` matches tickets without a priority, ``priority less_than high``
never does. ``is ""`` / ``is null`` (the empty value) is rewritten to ``not_present`` when the
condition is cleaned, because "is empty" is the one "is" that is true for NULL.
"""

import datetime as dt
import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from django.db.models import Exists, F, Q
from django.db.models.expressions import Expression
from django.db.models.lookups import (
    Contains,
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
)
from django.utils.translation import gettext as _

from .sources import AsciiLower, Source, ascii_lower


class Op(StrEnum):
    IS = "is"
    IS_NOT = "is_not"
    LESS_THAN = "less_than"
    GREATER_THAN = "greater_than"
    INCLUDES = "includes"
    NOT_INCLUDES = "not_includes"
    PRESENT = "present"
    NOT_PRESENT = "not_present"


# Each negative operator and the positive one it negates (see the module docstring).
NEGATIONS: Mapping[Op, Op] = {
    Op.IS_NOT: Op.IS,
    Op.NOT_INCLUDES: Op.INCLUDES,
    Op.NOT_PRESENT: Op.PRESENT,
}

HOUR = dt.timedelta(hours=1)
# A century of hours: far beyond any rule, and keeps ``now ± hours`` inside datetime's range.
MAX_HOURS = 100 * 366 * 24
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)
_ID = re.compile(r"[0-9]+", re.ASCII)

type Cleaned = tuple[Op, Any]
# What a Source gives SQL: a column reference or an expression.
type Lhs = Expression | F


class InvalidValue(ValueError):
    """A value the field cannot use; the message is shown to whoever wrote the condition."""


def _show(value: Any) -> str:
    """A value as the client wrote it, for error messages ("abc", 12, true, ["a"])."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _bad_value(spec: "FieldSpec", value: Any) -> InvalidValue:
    return InvalidValue(
        _("Invalid value %(value)s for field %(field)s")
        % {"value": _show(value), "field": spec.name}
    )


def _no_value(spec: "FieldSpec", operator: Op, value: Any) -> None:
    # Zendesk sends null (or "") with present/not_present; anything else is a mistake.
    if value not in (None, ""):
        raise InvalidValue(
            _("Operator %(operator)s takes no value, got %(value)s for field %(field)s")
            % {"operator": operator, "value": _show(value), "field": spec.name}
        )


def _needs_value(spec: "FieldSpec", operator: Op) -> InvalidValue:
    return InvalidValue(
        _("Operator %(operator)s needs a value for field %(field)s")
        % {"operator": operator, "field": spec.name}
    )


def _is_empty(value: Any) -> bool:
    return value is None or value == ""


@dataclass(frozen=True, kw_only=True)
class FieldSpec(ABC):
    """One condition field: its name, the operators it allows, and what they mean.

    Subclasses implement ``clean`` (validate + normalize a value), ``to_q`` (SQL) and
    ``matches`` (Python); ``compile_q`` and ``evaluate`` only ever call these three.
    """

    name: str
    # Restrict the kind's operators for this field; empty means all that the kind supports.
    operators: tuple[Op, ...] = ()
    supported: ClassVar[tuple[Op, ...]] = ()

    def __post_init__(self) -> None:
        extra = set(self.operators) - set(self.supported)
        if extra:
            raise ValueError(f"{type(self).__name__} {self.name!r} cannot use {sorted(extra)}")

    @property
    def allowed_operators(self) -> tuple[Op, ...]:
        return self.operators or self.supported

    @abstractmethod
    def clean(self, operator: Op, value: Any) -> Cleaned:
        """Validate ``value`` for ``operator``; return the operator and value to run.

        Raises ``InvalidValue`` naming the field and the value."""

    @abstractmethod
    def to_q(self, operator: Op, value: Any, *, now: dt.datetime) -> Q: ...

    @abstractmethod
    def matches(self, obj: Any, operator: Op, value: Any, *, now: dt.datetime) -> bool: ...


@dataclass(frozen=True, kw_only=True)
class ValueSpec(FieldSpec):
    """A field that is one value per row (a column, a JSON key), read through a ``Source``.

    Subclasses write the positive operators (``_q`` / ``_test``); negatives come from
    ``NEGATIONS`` here, with the NULL handling described in the module docstring.
    """

    source: Source
    # What counts as "no value" when read: text kinds also treat "" as empty.
    empty_string_is_empty: ClassVar[bool] = False

    def to_q(self, operator: Op, value: Any, *, now: dt.datetime) -> Q:
        lhs = self.source.expression()
        if operator == Op.NOT_PRESENT:
            # The exact negation of ``_present_q``, written as IS NULL (OR = '') because
            # SQLite uses an index for that, never for NOT (x IS NOT NULL) OR x IS NULL
            # ("Unassigned" view: 55 ms -> 4 ms on 100k tickets, bench/RESULTS.md).
            absent = Q(IsNull(lhs, True))
            if self.empty_string_is_empty:
                absent |= Q(Exact(lhs, ""))
            return absent
        if operator in NEGATIONS:
            return ~self._q(lhs, NEGATIONS[operator], value, now) | Q(IsNull(lhs, True))
        return self._q(lhs, operator, value, now)

    def matches(self, obj: Any, operator: Op, value: Any, *, now: dt.datetime) -> bool:
        current = self.source.read(obj)
        if operator in NEGATIONS:
            return not self._test(current, NEGATIONS[operator], value, now)
        return self._test(current, operator, value, now)

    def _present_q(self, lhs: Lhs) -> Q:
        # NOT NULL and, for text, not ''. Never NULL itself (FALSE AND NULL is FALSE), so the
        # negation in ``to_q`` stays exact.
        present = Q(IsNull(lhs, False))
        if self.empty_string_is_empty:
            present &= ~Q(Exact(lhs, ""))
        return present

    def _present(self, current: Any) -> bool:
        if self.empty_string_is_empty:
            return not _is_empty(current)
        return current is not None

    @abstractmethod
    def _q(self, lhs: Lhs, operator: Op, value: Any, now: dt.datetime) -> Q: ...

    @abstractmethod
    def _test(self, current: Any, operator: Op, value: Any, now: dt.datetime) -> bool: ...


@dataclass(frozen=True, kw_only=True)
class EqualitySpec(ValueSpec):
    """A value compared whole: ``is`` (and ``present``); negatives come from ValueSpec.

    ``is ""``/``is null`` on a ``nullable`` field means "has no value"; subclasses check a
    real value in ``_clean_value``."""

    nullable: bool = False

    def clean(self, operator: Op, value: Any) -> Cleaned:
        if operator in (Op.PRESENT, Op.NOT_PRESENT):
            _no_value(self, operator, value)
            return operator, None
        if _is_empty(value):
            if not self.nullable:
                raise _needs_value(self, operator)
            return (Op.NOT_PRESENT if operator == Op.IS else Op.PRESENT), None
        return operator, self._clean_value(value)

    @abstractmethod
    def _clean_value(self, value: Any) -> Any: ...

    def _q(self, lhs: Lhs, operator: Op, value: Any, now: dt.datetime) -> Q:
        if operator == Op.PRESENT:
            return self._present_q(lhs)
        return Q(Exact(lhs, value))

    def _test(self, current: Any, operator: Op, value: Any, now: dt.datetime) -> bool:
        if operator == Op.PRESENT:
            return self._present(current)
        return current is not None and current == value


@dataclass(frozen=True, kw_only=True)
class ChoiceSpec(EqualitySpec):
    """Exact string values (type, via, a drop-down or text custom field, external id).

    ``choices``: the valid values (None = any string). ``nullable``: the field can be empty,
    so ``is ""``/``is null`` are valid and mean "has no value" ("" and NULL both count).
    """

    supported: ClassVar[tuple[Op, ...]] = (Op.IS, Op.IS_NOT, Op.PRESENT, Op.NOT_PRESENT)
    empty_string_is_empty = True

    choices: Sequence[str] | None = None

    def _clean_value(self, value: Any) -> Any:
        return self._clean_choice(value)

    def _clean_choice(self, value: Any) -> str:
        if not isinstance(value, str) or (self.choices is not None and value not in self.choices):
            raise _bad_value(self, value)
        return value


@dataclass(frozen=True, kw_only=True)
class OrderedChoiceSpec(ChoiceSpec):
    """Choices with an order (status new < open < ... < closed): adds less/greater than.

    An empty value has no rank, so ``less_than``/``greater_than`` never match it."""

    supported: ClassVar[tuple[Op, ...]] = (*ChoiceSpec.supported, Op.LESS_THAN, Op.GREATER_THAN)

    order: Sequence[str] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.order:
            raise ValueError(f"OrderedChoiceSpec {self.name!r} needs an order")

    def clean(self, operator: Op, value: Any) -> Cleaned:
        if operator in (Op.LESS_THAN, Op.GREATER_THAN):
            if _is_empty(value):
                raise _needs_value(self, operator)
            return operator, self._clean_choice(value)
        return super().clean(operator, value)

    def _clean_choice(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.order:
            raise _bad_value(self, value)
        return value

    def _ranked(self, operator: Op, value: str) -> list[str]:
        rank = self.order.index(value)
        if operator == Op.LESS_THAN:
            return list(self.order[:rank])
        return list(self.order[rank + 1 :])

    def _q(self, lhs: Lhs, operator: Op, value: Any, now: dt.datetime) -> Q:
        if operator in (Op.LESS_THAN, Op.GREATER_THAN):
            # IN (...) rather than a CASE rank: the column's indexes still apply.
            return Q(In(lhs, self._ranked(operator, value)))
        return super()._q(lhs, operator, value, now)

    def _test(self, current: Any, operator: Op, value: Any, now: dt.datetime) -> bool:
        if operator in (Op.LESS_THAN, Op.GREATER_THAN):
            return current in self._ranked(operator, value)
        return super()._test(current, operator, value, now)


@dataclass(frozen=True)
class Placeholder:
    """A value that names something known only when the conditions run, such as Zendesk's
    ``current_user`` (the agent looking at a view, the person making an update). The engine
    resolves it from the ``context`` given to ``q``/``matches``."""

    name: str


class Unresolved:
    """What a placeholder stands for when its context has no value (say, the system made the
    change): an id no row has, so ``is`` matches nothing and ``is_not`` everything."""

    ID = -1


@dataclass(frozen=True, kw_only=True)
class ForeignKeySpec(EqualitySpec):
    """A related object's id (group_id, assignee_id). ``""``/null means "none" if nullable.

    Ids may come as numbers or digit strings: Zendesk clients send both (``"value": "123"``).
    ``placeholders`` lists names accepted instead of an id (``"current_user"``).
    """

    supported: ClassVar[tuple[Op, ...]] = (Op.IS, Op.IS_NOT, Op.PRESENT, Op.NOT_PRESENT)

    placeholders: tuple[str, ...] = ()

    def _clean_value(self, value: Any) -> Any:
        if isinstance(value, str) and value in self.placeholders:
            return Placeholder(value)
        if isinstance(value, str) and _ID.fullmatch(value):
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        raise _bad_value(self, value)


@dataclass(frozen=True, kw_only=True)
class TextSpec(ValueSpec):
    """Free text (subject). Case-insensitive for A–Z (see ``ascii_lower``).

    ``includes`` matches if the text contains at least one of the value's space-separated
    words (as substrings, so "退货" is found in "申请退货"); ``is`` compares the whole text.
    """

    supported: ClassVar[tuple[Op, ...]] = (
        Op.IS,
        Op.IS_NOT,
        Op.INCLUDES,
        Op.NOT_INCLUDES,
        Op.PRESENT,
        Op.NOT_PRESENT,
    )
    empty_string_is_empty = True

    def clean(self, operator: Op, value: Any) -> Cleaned:
        if operator in (Op.PRESENT, Op.NOT_PRESENT):
            _no_value(self, operator, value)
            return operator, None
        if not isinstance(value, str):
            raise _bad_value(self, value)
        if operator in (Op.INCLUDES, Op.NOT_INCLUDES):
            words = tuple(dict.fromkeys(ascii_lower(value).split()))
            if not words:
                raise _needs_value(self, operator)
            return operator, words
        if value == "":
            return (Op.NOT_PRESENT if operator == Op.IS else Op.PRESENT), None
        return operator, ascii_lower(value)

    def _q(self, lhs: Lhs, operator: Op, value: Any, now: dt.datetime) -> Q:
        if operator == Op.PRESENT:
            return self._present_q(lhs)
        folded = AsciiLower(lhs)
        if operator == Op.INCLUDES:
            q = Q()
            for word in value:
                # Django escapes % and _ in the pattern, so words match literally.
                q |= Q(Contains(folded, word))
            return q
        return Q(Exact(folded, value))

    def _test(self, current: Any, operator: Op, value: Any, now: dt.datetime) -> bool:
        if operator == Op.PRESENT:
            return self._present(current)
        if current is None:
            return False
        folded = ascii_lower(current)
        if operator == Op.INCLUDES:
            return any(word in folded for word in value)
        return bool(folded == value)


def _clean_bool(spec: FieldSpec, value: Any) -> bool:
    # Zendesk's UI sends checkbox values as "true"/"false" strings; the API as JSON booleans.
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise _bad_value(spec, value)


@dataclass(frozen=True, kw_only=True)
class BooleanSpec(ValueSpec):
    """A yes/no field. An empty value counts as false (an unticked checkbox)."""

    supported: ClassVar[tuple[Op, ...]] = (Op.IS, Op.IS_NOT)

    def clean(self, operator: Op, value: Any) -> Cleaned:
        wanted = _clean_bool(self, value)
        # "is false" is "is not true", so empty rows count as false on both sides.
        if wanted:
            return operator, True
        return (Op.IS_NOT if operator == Op.IS else Op.IS), True

    def _q(self, lhs: Lhs, operator: Op, value: Any, now: dt.datetime) -> Q:
        return Q(Exact(lhs, True))

    def _test(self, current: Any, operator: Op, value: Any, now: dt.datetime) -> bool:
        return current is True


@dataclass(frozen=True, kw_only=True)
class NumberSpec(ValueSpec):
    """A number (integer/decimal custom fields), compared as a float on both sides."""

    supported: ClassVar[tuple[Op, ...]] = (
        Op.IS,
        Op.IS_NOT,
        Op.LESS_THAN,
        Op.GREATER_THAN,
        Op.PRESENT,
        Op.NOT_PRESENT,
    )

    def clean(self, operator: Op, value: Any) -> Cleaned:
        if operator in (Op.PRESENT, Op.NOT_PRESENT):
            _no_value(self, operator, value)
            return operator, None
        if isinstance(value, str) and _NUMBER.fullmatch(value):
            return operator, float(value)
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if is_number and math.isfinite(value):
            return operator, float(value)
        raise _bad_value(self, value)

    def _q(self, lhs: Lhs, operator: Op, value: Any, now: dt.datetime) -> Q:
        match operator:
            case Op.PRESENT:
                return self._present_q(lhs)
            case Op.LESS_THAN:
                return Q(LessThan(lhs, value))
            case Op.GREATER_THAN:
                return Q(GreaterThan(lhs, value))
        return Q(Exact(lhs, value))

    def _test(self, current: Any, operator: Op, value: Any, now: dt.datetime) -> bool:
        if operator == Op.PRESENT:
            return self._present(current)
        if current is None:
            return False
        match operator:
            case Op.LESS_THAN:
                return bool(current < value)
            case Op.GREATER_THAN:
                return bool(current > value)
        return bool(current == value)


@dataclass(frozen=True, kw_only=True)
class HoursSpec(ValueSpec):
    """Whole hours since (or until) a moment, as in Zendesk automations: the hours are
    ``floor((now - moment) / 1h)`` ("since") or ``floor((moment - now) / 1h)`` ("until"), so
    ``is 24`` means 24 ≤ elapsed < 25 and ``is``/``less_than``/``greater_than`` partition the
    rows that have a moment. Rows without one (NULL) match nothing.

    ``when``: extra column equalities the row must meet, e.g. ``{"status": "pending"}`` for
    "hours since pending" read from ``status_updated_at``.
    """

    supported: ClassVar[tuple[Op, ...]] = (Op.IS, Op.LESS_THAN, Op.GREATER_THAN)

    until: bool = False
    when: Mapping[str, Any] = field(default_factory=dict)

    def clean(self, operator: Op, value: Any) -> Cleaned:
        if isinstance(value, str) and _ID.fullmatch(value):
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_HOURS:
            return operator, value
        raise _bad_value(self, value)

    def _bounds(self, operator: Op, hours: int) -> tuple[int | None, int | None]:
        """Bounds on the elapsed span x, in hours: low ≤ x < high (None = unbounded)."""
        match operator:
            case Op.LESS_THAN:
                return None, hours
            case Op.GREATER_THAN:
                return hours + 1, None
        return hours, hours + 1

    def _q(self, lhs: Lhs, operator: Op, value: Any, now: dt.datetime) -> Q:
        low, high = self._bounds(operator, value)
        q = Q(**self.when)
        if self.until:
            # x = moment - now; low ≤ x < high  ⇔  now + low ≤ moment < now + high
            if low is not None:
                q &= Q(GreaterThanOrEqual(lhs, now + low * HOUR))
            if high is not None:
                q &= Q(LessThan(lhs, now + high * HOUR))
        else:
            # x = now - moment; low ≤ x < high  ⇔  now - high < moment ≤ now - low
            if low is not None:
                q &= Q(LessThanOrEqual(lhs, now - low * HOUR))
            if high is not None:
                q &= Q(GreaterThan(lhs, now - high * HOUR))
        return q

    def matches(self, obj: Any, operator: Op, value: Any, *, now: dt.datetime) -> bool:
        if any(getattr(obj, name) != wanted for name, wanted in self.when.items()):
            return False
        return self._test(self.source.read(obj), operator, value, now)

    def _test(self, current: Any, operator: Op, value: Any, now: dt.datetime) -> bool:
        if current is None:
            return False
        elapsed = (current - now) if self.until else (now - current)
        # Floor division of timedeltas: exact (integer microseconds) and floors negative spans
        # too, matching the half-open bounds used in SQL above.
        hours = elapsed // HOUR
        low, high = self._bounds(operator, value)
        return (low is None or low <= hours) and (high is None or hours < high)


@dataclass(frozen=True, kw_only=True)
class TagsSpec(FieldSpec):
    """A set of tags on the row. The value is space-separated tags (or a list of them);
    ``includes`` = has at least one of them, ``not_includes`` = has none of them.

    ``exists(tags)`` builds the SQL test (an ``Exists`` over a tag table, so no join
    multiplies rows); ``read(obj)`` gives the row's tags in Python.
    """

    supported: ClassVar[tuple[Op, ...]] = (Op.INCLUDES, Op.NOT_INCLUDES)

    exists: Callable[[list[str]], Exists]
    read: Callable[[Any], Iterable[str]]

    def clean(self, operator: Op, value: Any) -> Cleaned:
        if isinstance(value, str):
            parts = value.split()
        elif isinstance(value, list) and all(isinstance(part, str) for part in value):
            parts = [word for part in value for word in part.split()]
        else:
            raise _bad_value(self, value)
        # Tags are stored lower-case (Zendesk's normalization), so compare lower-case.
        tags = list(dict.fromkeys(part.lower() for part in parts))
        if not tags:
            raise _needs_value(self, operator)
        return operator, tags

    def to_q(self, operator: Op, value: Any, *, now: dt.datetime) -> Q:
        # EXISTS is never NULL, so plain NOT is the exact negation here.
        has_any = Q(self.exists(value))
        return ~has_any if operator == Op.NOT_INCLUDES else has_any

    def matches(self, obj: Any, operator: Op, value: Any, *, now: dt.datetime) -> bool:
        has_any = not set(value).isdisjoint(self.read(obj))
        return not has_any if operator == Op.NOT_INCLUDES else has_any
