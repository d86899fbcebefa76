"""Zendesk's search syntax, parsed into a small tree that every search backend compiles.

A query is a list of terms, all of which must match (Zendesk's AND semantics; one keyword
repeated with ``:`` matches any of its values, ``status:open status:pending``)::

    退款 "printer offline" type:ticket status<solved priority>=high tags:vip
    requester:bob@acme.test assignee:none -group:Billing created>2026-11-01 updated<2days

- free text (``退款``) and quoted phrases (``"printer offline"``);
- ``keyword:value`` and, for ordered values and dates, ``keyword<value``, ``>``, ``<=``,
  ``>=``; values with spaces in double quotes (``organization:"Acme Inc"``);
- ``-`` before any term negates it (``-tags:spam``, ``-"out of office"``);
- ``type:`` picks the kinds of records (ticket, user, organization, group);
- ``order_by:`` and ``sort:`` set the order, like the API's ``sort_by``/``sort_order``.

Parsing validates everything it can without the database (unknown keywords, unknown
statuses, malformed dates) and raises :class:`SearchSyntaxError` with a message for people.
Dates stay unresolved (:class:`DateValue`) until a backend compiles them with "now" and the
searcher's time zone.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal

from django.utils.translation import gettext as _

from kefu.tickets.choices import PRIORITY_ORDER, STATUS_ORDER, TicketType

ResultType = Literal["ticket", "user", "organization", "group"]
RESULT_TYPES: tuple[ResultType, ...] = ("ticket", "user", "organization", "group")

Operator = Literal[":", "<", ">", "<=", ">="]
COMPARISONS = ("<=", ">=", "<", ">", ":")


class SearchSyntaxError(ValueError):
    """A query people wrote that cannot be run; ``str(error)`` says what to fix."""


@dataclass(frozen=True)
class DateValue:
    """A date keyword's value: a calendar day, an exact moment, or a time ago (``2days``)."""

    kind: Literal["day", "moment", "ago"]
    day: dt.date | None = None
    moment: dt.datetime | None = None
    ago: dt.timedelta | None = None


@dataclass(frozen=True)
class Text:
    """Free text or a quoted phrase; matches the record's text fields."""

    value: str
    phrase: bool = False
    negated: bool = False


@dataclass(frozen=True)
class Property:
    """``keyword<op>value``. ``values`` holds several values for ``tags:"a b"`` (any of them)."""

    keyword: str
    operator: Operator
    values: tuple[str, ...]
    negated: bool = False
    date: DateValue | None = None

    @property
    def value(self) -> str:
        return self.values[0]


Term = Text | Property


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[Term, ...] = ()
    # From type: terms (minus -type: terms); empty means every type.
    types: frozenset[str] = field(default_factory=frozenset)
    order_by: str | None = None
    sort: Literal["asc", "desc"] | None = None


# --- keywords ---------------------------------------------------------------------------------

T, U, ORG, G = "ticket", "user", "organization", "group"

# keyword -> the record types it applies to
KEYWORDS: dict[str, frozenset[str]] = {
    "status": frozenset({T}),
    "priority": frozenset({T}),
    "ticket_type": frozenset({T}),
    "requester": frozenset({T}),
    "assignee": frozenset({T}),
    "submitter": frozenset({T}),
    "subject": frozenset({T}),
    "description": frozenset({T}),
    "comment": frozenset({T}),
    "solved": frozenset({T}),
    "due_date": frozenset({T}),
    "group": frozenset({T, U}),
    "organization": frozenset({T, U}),
    "tags": frozenset({T, U, ORG}),
    "external_id": frozenset({T, U, ORG}),
    "notes": frozenset({U, ORG}),
    "details": frozenset({U, ORG}),
    "name": frozenset({U, ORG, G}),
    "email": frozenset({U}),
    "phone": frozenset({U}),
    "role": frozenset({U}),
    "created": frozenset({T, U, ORG, G}),
    "updated": frozenset({T, U, ORG, G}),
}
ALIASES = {
    "tag": "tags",
    "type_of_ticket": "ticket_type",
    "org": "organization",
    "due": "due_date",
    "created_at": "created",
    "updated_at": "updated",
    "solved_at": "solved",
    "user": "requester",
}
DATE_KEYWORDS = {"created", "updated", "solved", "due_date"}
ORDERED = {"status": STATUS_ORDER, "priority": PRIORITY_ORDER}
CHOICES: dict[str, list[str]] = {
    "status": STATUS_ORDER,
    "priority": [*PRIORITY_ORDER, "none"],
    "ticket_type": [*TicketType.values, "none"],
    "role": ["end-user", "end_user", "agent", "admin"],
}
SORT_FIELDS = {
    "created": "created_at",
    "created_at": "created_at",
    "updated": "updated_at",
    "updated_at": "updated_at",
    "priority": "priority",
    "status": "status",
    "ticket_type": "ticket_type",
}

_KEYWORD_RE = re.compile(r"([A-Za-z_]+)(<=|>=|<|>|:)")
_AGO_RE = re.compile(r"^(\d+)\s*(minute|hour|day|week|month|year)s?$", re.IGNORECASE)
_AGO_UNITS = {
    "minute": dt.timedelta(minutes=1),
    "hour": dt.timedelta(hours=1),
    "day": dt.timedelta(days=1),
    "week": dt.timedelta(weeks=1),
    "month": dt.timedelta(days=30),
    "year": dt.timedelta(days=365),
}


def parse_date(value: str) -> DateValue:
    """``2026-11-01``, ``2026-11-01T08:00:00Z`` (or with an offset), or ``4hours``/``2days``."""
    if match := _AGO_RE.match(value):
        return DateValue(kind="ago", ago=int(match[1]) * _AGO_UNITS[match[2].lower()])
    try:
        if len(value) == 10:
            return DateValue(kind="day", day=dt.date.fromisoformat(value))
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise SearchSyntaxError(
            _("“%(value)s” is not a date; use 2026-11-01, 2026-11-01T08:00:00Z or 2days.")
            % {"value": value}
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return DateValue(kind="moment", moment=moment)


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """The text between the quote at ``start`` and its closing quote, and the index after."""
    end = text.find('"', start + 1)
    if end == -1:
        raise SearchSyntaxError(_('A quote is not closed: add the closing " .'))
    return text[start + 1 : end], end + 1


def _read_word(text: str, start: int) -> tuple[str, int]:
    end = start
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[start:end], end


def _property(keyword: str, operator: str, raw: str, *, quoted: bool, negated: bool) -> Property:
    name = ALIASES.get(keyword.lower(), keyword.lower())
    value = raw.strip()
    if not value:
        raise SearchSyntaxError(_("“%(keyword)s” needs a value.") % {"keyword": keyword})
    date = None
    if name in DATE_KEYWORDS:
        date = parse_date(value)
    elif operator != ":" and name not in ORDERED:
        raise SearchSyntaxError(
            _("“%(keyword)s” can only be compared with “:”.") % {"keyword": keyword}
        )
    values = tuple(value.lower().split()) if name == "tags" else (value,)
    if name in CHOICES:
        value = value.lower()
        if name == "role" and value == "end_user":
            value = "end-user"
        if value not in CHOICES[name]:
            raise SearchSyntaxError(
                _("“%(value)s” is not a valid %(keyword)s; use one of: %(choices)s.")
                % {"value": raw, "keyword": keyword, "choices": ", ".join(CHOICES[name])}
            )
        if operator != ":" and value == "none":
            raise SearchSyntaxError(_("“none” can only be compared with “:”."))
        values = (value,)
    return Property(
        keyword=name,
        operator=operator,  # type: ignore[arg-type]
        values=values,
        negated=negated,
        date=date,
    )


def parse(text: str) -> SearchQuery:
    """Parse a Zendesk-style query. Raises :class:`SearchSyntaxError` for what cannot run."""
    terms: list[Term] = []
    types: set[str] = set()
    excluded: set[str] = set()
    order_by: str | None = None
    sort: str | None = None
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        negated = False
        if text[i] == "-" and i + 1 < len(text) and not text[i + 1].isspace():
            negated = True
            i += 1
        if text[i] == '"':
            phrase, i = _read_quoted(text, i)
            if phrase.strip():
                terms.append(Text(phrase.strip(), phrase=True, negated=negated))
            continue
        match = _KEYWORD_RE.match(text, i)
        if match is None or "://" in text[i : i + 12]:
            word, i = _read_word(text, i)
            word = word.strip("*")
            if word:
                terms.append(Text(word, negated=negated))
            continue
        keyword, operator = match[1], match[2]
        name = ALIASES.get(keyword.lower(), keyword.lower())
        i = match.end()
        if i < len(text) and text[i] == '"':
            raw, i = _read_quoted(text, i)
            quoted = True
        else:
            raw, i = _read_word(text, i)
            quoted = False
        if name == "type":
            kind = raw.strip().lower()
            if operator != ":" or kind not in RESULT_TYPES:
                raise SearchSyntaxError(
                    _("“type” takes one of: %(types)s.") % {"types": ", ".join(RESULT_TYPES)}
                )
            (excluded if negated else types).add(kind)
            continue
        if name == "order_by":
            order_by = SORT_FIELDS.get(raw.strip().lower())
            if order_by is None:
                raise SearchSyntaxError(
                    _("Results can be sorted by: %(fields)s.")
                    % {"fields": "created, updated, priority, status, ticket_type"}
                )
            continue
        if name == "sort":
            sort = raw.strip().lower()
            if sort not in ("asc", "desc"):
                raise SearchSyntaxError(_("“sort” is asc or desc."))
            continue
        if name not in KEYWORDS:
            raise SearchSyntaxError(
                _("Unknown keyword “%(keyword)s”. Known keywords: %(keywords)s.")
                % {"keyword": keyword, "keywords": ", ".join(["type", *sorted(KEYWORDS)])}
            )
        terms.append(_property(keyword, operator, raw, quoted=quoted, negated=negated))
    if excluded:
        types = (types or set(RESULT_TYPES)) - excluded
        if not types:
            raise SearchSyntaxError(_("These type: terms exclude every kind of record."))
    return SearchQuery(
        terms=tuple(terms),
        types=frozenset(types),
        order_by=order_by,
        sort=sort,  # type: ignore[arg-type]
    )


def date_range(
    value: DateValue, operator: Operator, *, now: dt.datetime, tz: dt.tzinfo
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The half-open interval [low, high) of moments a date term accepts (None: unbounded).

    A day is the searcher's calendar day. A time ago (``2days``) is a moment, so
    ``created>2days`` means "created after two days ago" — within the last two days — and
    ``created<2days`` "before two days ago"; ``created:2days`` is the same as ``>=``.
    """
    if value.kind == "day":
        assert value.day is not None
        start = dt.datetime.combine(value.day, dt.time(), tzinfo=tz)
        end = start + dt.timedelta(days=1)
    else:
        moment = value.moment if value.kind == "moment" else now - value.ago  # type: ignore[operator]
        assert moment is not None
        start = moment
        end = moment + dt.timedelta(seconds=1)
        if value.kind == "ago" and operator == ":":
            return start, None
    return {
        ":": (start, end),
        ">": (end, None),
        ">=": (start, None),
        "<": (None, start),
        "<=": (None, end),
    }[operator]
