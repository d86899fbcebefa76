"""The SLA evaluation's reads, as plain SQL (the hook runs on every ticket update).

Each function is one round trip and returns plain values; the ORM's query building cost more
than the queries themselves here. JSON columns come back as text, datetimes as text on
SQLite — ``_json`` and ``_dt`` even that out.
"""

import datetime as dt
import functools
import json
from collections.abc import Iterable
from typing import Any, NamedTuple

from django.db import connection
from django.utils.dateparse import parse_datetime

from kefu.accounts.choices import Role
from kefu.tickets.models import Ticket

from .choices import AUDIT_POLICY
from .engine import AGENT, END_USER, Moment


def _json(value: Any) -> Any:
    # Both backends hand JSON columns to a plain cursor as text (Django decodes them only
    # in the ORM's from_db_value); a driver that decodes them itself gives Python values.
    if isinstance(value, str):
        return json.loads(value)
    return value


def _dt(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value
    try:
        # SQLite's text ("2026-11-02 01:00:00[.ffffff]"): ISO 8601, parsed in C. Django's
        # regex parser below (other shapes) cost a fifth of a batch re-evaluation's reads.
        parsed: dt.datetime | None = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        parsed = parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"not a datetime: {value!r}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def _as_text(column: str) -> str:
    """A datetime column for ``_dt``. On SQLite, as its stored text: the driver would otherwise
    convert it with Django's regex parser (registered for declared datetime columns), which cost
    more than the rest of reading a batch's metric rows; ``_dt`` parses the text in C."""
    if connection.vendor == "sqlite":
        return f"CAST({column} AS TEXT)"
    return column


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # psycopg's own timestamptz loader (C), not Django's Python wrapper around it:
            # both give the instant in the session's time zone, which Django sets to UTC; the
            # wrapper cost half of reading a re-evaluation batch's metric rows.
            cursor.cursor.adapters.register_loader("timestamptz", _tz_loader())
        cursor.execute(sql, params)
        return cursor.fetchall()


@functools.cache
def _tz_loader() -> Any:
    from django.db.backends.postgresql.psycopg_any import orig_tz_loader_cls

    return orig_tz_loader_cls


def ticket(ticket_id: int) -> Ticket:
    """The ticket as stored (raises ``Ticket.DoesNotExist``), read with a ready-made SELECT:
    ``Ticket.objects.get`` spent two thirds of its time building the query (the hook reads the
    ticket again on every update). ``raw`` still converts each column as the ORM does."""
    found = list(Ticket.objects.raw(_ticket_sql(), [ticket_id]))
    if not found:
        raise Ticket.DoesNotExist(f"Ticket {ticket_id} does not exist")
    return found[0]


@functools.cache
def _ticket_sql() -> str:
    meta = Ticket._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in meta.concrete_fields)
    return f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {quote(str(meta.pk.column))} = %s"  # noqa: S608 - quoted names


def policies() -> list[tuple[Any, ...]]:
    """(id, title, description, warning_minutes, filter, policy_metrics), in order."""
    rows = _fetch(
        "SELECT id, title, description, warning_minutes, filter, policy_metrics "
        "FROM sla_slapolicy ORDER BY position, id",
        [],
    )
    return [(r[0], r[1], r[2], r[3], _json(r[4]), _json(r[5])) for r in rows]


class TicketContext(NamedTuple):
    has_state: bool
    policy_id: int | None
    schedule_id: int | None
    revision: str
    next_breach_at: dt.datetime | None
    breached: bool
    # The fingerprint stored by the last full evaluation (``retarget.py``) and how many audit
    # events the ticket has now (``ticket_contexts`` only).
    fast_key: str = ""
    audits: int = 0
    deleted: bool = False  # ``ticket_contexts`` only
    audit_rows: int = 0  # how many audits (``ticket_contexts``, ``ticket_versions``)
    next_event_at: dt.datetime | None = None  # the scheduler's due time (the state row's)


def ticket_context(ticket_id: int, group_id: int | None) -> TicketContext:
    """The ticket's state row (whether there is one, its policy, next breach, breached) and
    the schedule to use with its revision.

    The schedule: the ticket's override, else its group's, else the default (or the first)."""
    rows = _fetch(
        "SELECT st.ticket_id, st.policy_id, sc.id, sc.revision, st.next_breach_at, st.breached, "
        "st.next_event_at FROM (SELECT 1 AS one) AS base "
        "LEFT JOIN sla_slaticketstate st ON st.ticket_id = %s "
        "LEFT JOIN sla_schedule sc ON sc.id = COALESCE("
        "  st.schedule_override_id,"
        "  (SELECT schedule_id FROM sla_groupschedule WHERE group_id = %s),"
        "  (SELECT id FROM sla_schedule ORDER BY is_default DESC, id LIMIT 1))",
        [ticket_id, group_id],
    )
    has_state, policy_id, schedule_id, revision, next_breach_at, breached, next_event_at = rows[0]
    return TicketContext(
        has_state is not None, policy_id, schedule_id, revision or "", _dt(next_breach_at),
        bool(breached), next_event_at=_dt(next_event_at),
    )  # fmt: skip


def open_deadlines(ticket_ids: list[int]) -> list[tuple[Any, ...]]:
    """The deadlines still to meet of many tickets, in one query (badges on a list page):
    ``(ticket id, metric, stage, business_hours, breach_at, schedule id, revision)`` for each
    active, or breached and unfulfilled, metric — with the schedule ``ticket_context`` picks."""
    if not ticket_ids:
        return []
    marks = ", ".join("%s" for _ in ticket_ids)
    rows = _fetch(
        "SELECT m.ticket_id, m.metric, m.stage, m.business_hours, m.breach_at, sc.id, "  # noqa: S608 - placeholders only
        "sc.revision FROM sla_slametricstate m "
        "JOIN tickets_ticket t ON t.id = m.ticket_id "
        "LEFT JOIN sla_slaticketstate st ON st.ticket_id = m.ticket_id "
        "LEFT JOIN sla_schedule sc ON sc.id = COALESCE("
        "  st.schedule_override_id,"
        "  (SELECT schedule_id FROM sla_groupschedule g WHERE g.group_id = t.group_id),"
        "  (SELECT id FROM sla_schedule ORDER BY is_default DESC, id LIMIT 1)) "
        f"WHERE m.ticket_id IN ({marks}) AND m.stage IN ('active', 'breached') "
        "AND m.fulfilled_at IS NULL AND m.breach_at IS NOT NULL",
        list(ticket_ids),
    )
    return [
        (ticket_id, metric, stage, bool(business), _dt(breach_at), schedule_id, revision or "")
        for ticket_id, metric, stage, business, breach_at, schedule_id, revision in rows
    ]


_HISTORY_SQL = (
    "SELECT a.ticket_id, e.audit_id, a.created_at, e.type, e.field_name, e.value, c.public, "
    "u.role "
    "FROM tickets_auditevent e "
    "JOIN tickets_audit a ON a.id = e.audit_id "
    "LEFT JOIN tickets_comment c ON c.id = e.comment_id "
    "LEFT JOIN accounts_user u ON u.id = c.author_id "
    "WHERE {where} AND ("
    "  (e.type IN ('Create', 'Change') AND e.field_name IN "
    "   ('status', 'priority', 'group_id', 'assignee_id'))"
    "  OR e.type = 'Comment' OR e.type = %s) "
    "ORDER BY a.ticket_id, a.created_at, e.audit_id, e.id"
)


def moments(ticket_id: int) -> list[Moment]:
    """The ticket's history, one Moment per audit: status, priority, group and assignee
    values, public comments with their author's role, the SLA policy the engine applied."""
    rows = _fetch(_HISTORY_SQL.format(where="a.ticket_id = %s"), [ticket_id, AUDIT_POLICY])
    return _moments(rows)


def moments_many(ticket_ids: list[int]) -> dict[int, list[Moment]]:
    """``moments`` of many tickets in one query."""
    if not ticket_ids:
        return {}
    where, params = _in("a.ticket_id", ticket_ids)
    rows = _fetch(_HISTORY_SQL.format(where=where), [*params, AUDIT_POLICY])
    grouped: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    return {ticket_id: _moments(items) for ticket_id, items in grouped.items()}


def _marks(values: list[Any]) -> str:
    return ", ".join("%s" for _ in values)


def int_array(values: Iterable[int]) -> str:
    """PostgreSQL's text of an array of integers, for a ``%s::bigint[]`` parameter: psycopg
    dumps a Python list item by item in Python (0.6 against 0.2 ms of CPU for 1,000 ids)."""
    return "{" + ",".join(map(str, map(int, values))) + "}"


def _in(column: str, values: list[Any]) -> tuple[str, list[Any]]:
    """``column IN (values)`` and its parameters. On PostgreSQL ``= ANY`` of one array: the
    client cursor writes each parameter into the statement, and planning an IN list of 1,000
    literals took as long as running the query (10 ms per batch of the re-evaluation)."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])", [int_array(values)]
    return f"{column} IN ({_marks(values)})", list(values)


def _moments(rows: list[tuple[Any, ...]]) -> list[Moment]:
    result: list[Moment] = []
    current: dict[str, Any] | None = None
    for _ticket_id, audit_id, created_at, type_, field_name, value, public, role in rows:
        if current is None or current["audit_id"] != audit_id:
            if current is not None:
                result.append(Moment(**current))
            current = {"time": _dt(created_at), "audit_id": audit_id}
        value = _json(value)
        if type_ == "Create":
            current["created"] = True
        if type_ in ("Create", "Change"):
            if field_name == "status":
                current["status"] = value
            elif field_name == "priority":
                current["priority_set"], current["priority"] = True, value
            elif field_name == "group_id":
                current["group_set"], current["group_id"] = True, value
            elif field_name == "assignee_id":
                current["assignee_set"], current["assignee_id"] = True, value
        elif type_ == "Comment":
            if public:
                current["comment"] = END_USER if role == Role.END_USER else AGENT
            else:
                current["private_comment"] = True
        elif type_ == AUDIT_POLICY:
            current["policy_set"] = True
            current["policy_id"] = value.get("id") if isinstance(value, dict) else None
    if current is not None:
        result.append(Moment(**current))
    return result


def ticket_contexts(ticket_ids: list[int]) -> dict[int, TicketContext]:
    """``ticket_context`` of many tickets in one query (the group is read with the ticket),
    with each ticket's audit-event and audit counts and whether it is deleted."""
    return _contexts(ticket_ids, events=True)


def ticket_versions(ticket_ids: list[int]) -> dict[int, TicketContext]:
    """``ticket_contexts`` without the audit-event count (``audits`` is 0): what the write of a
    batch judged earlier compares (``reevaluation.write_rejudged``). Every change of a ticket
    adds an audit, and so does a warning or breach the scheduler records, so the audit count moves
    with the event count; counting audits alone reads no audit events (on PostgreSQL the
    event count was a third of the batch's reads)."""
    return _contexts(ticket_ids, events=False)


def _contexts(ticket_ids: list[int], *, events: bool) -> dict[int, TicketContext]:
    if not ticket_ids:
        return {}
    ids = list(ticket_ids)
    tickets_where, tickets_params = _in("t.id", ids)
    states_where, states_params = _in("st.ticket_id", ids)
    if events:
        # Events counted per audit (an index-only count each) and summed per ticket: no
        # join of every event to sort and group (PostgreSQL sorted ~14 rows per ticket).
        counts = (
            "COUNT(*) AS audits, SUM(("
            "  SELECT COUNT(*) FROM tickets_auditevent e WHERE e.audit_id = a.id)) AS n "
        )
    else:
        counts = "COUNT(*) AS audits, 0 AS n "
    if connection.vendor == "postgresql":
        # Counted per ticket through the (ticket, created_at) index. The batch's audits
        # grouped once (below) made PostgreSQL scan the whole audit table for 1,000 tickets,
        # in parallel with a worker process it started: 25-45 ms against 7-12 ms per batch,
        # twice per batch of a re-evaluation (bench/RESULTS.md).
        audit_counts = (
            f"LEFT JOIN LATERAL (SELECT {counts} FROM tickets_audit a "  # noqa: S608 - constants
            "WHERE a.ticket_id = t.id) ac ON true"
        )
        audits_params: list[Any] = []
    else:
        audits_where, audits_params = _in("a.ticket_id", ids)
        # The audit(-event) counts of the batch, grouped once. (A COUNT subquery per ticket
        # with a join of the events let PostgreSQL, with statistics not yet gathered after a
        # load, scan every audit event once per ticket: 7 s per 1,000 tickets.)
        audit_counts = (
            f"LEFT JOIN (SELECT a.ticket_id AS ticket_id, {counts} FROM tickets_audit a "  # noqa: S608 - placeholders
            f"WHERE {audits_where} GROUP BY a.ticket_id) ac "
            "ON ac.ticket_id = t.id"
        )
    rows = _fetch(
        "SELECT t.id, st.ticket_id, st.policy_id, sc.id, sc.revision, "  # noqa: S608 - placeholders only
        f"{_as_text('st.next_breach_at')}, st.breached, st.fast_key, t.deleted_at IS NOT NULL, "
        f"COALESCE(ac.n, 0), COALESCE(ac.audits, 0), {_as_text('st.next_event_at')} "
        "FROM tickets_ticket t "
        # The batch's ids on the state rows too: PostgreSQL then reads them through the primary
        # key instead of scanning every state row for a hash join.
        f"LEFT JOIN sla_slaticketstate st ON st.ticket_id = t.id AND {states_where} "
        "LEFT JOIN sla_schedule sc ON sc.id = COALESCE("
        "  st.schedule_override_id,"
        "  (SELECT schedule_id FROM sla_groupschedule g WHERE g.group_id = t.group_id),"
        "  (SELECT id FROM sla_schedule ORDER BY is_default DESC, id LIMIT 1)) "
        f"{audit_counts} WHERE {tickets_where}",
        [*states_params, *audits_params, *tickets_params],
    )
    result = {}
    for (ticket_id, has_state, policy_id, schedule_id, revision, next_breach_at, breached,
         fast_key, deleted, audit_events, audits, next_event_at) in rows:  # fmt: skip
        result[ticket_id] = TicketContext(
            has_state is not None,
            policy_id,
            schedule_id,
            revision or "",
            _dt(next_breach_at),
            bool(breached),
            fast_key or "",
            audit_events,
            bool(deleted),
            audits,
            _dt(next_event_at),
        )
    return result


STATE_COLUMNS = (
    "id", "ticket_id", "warned_at", "breach_recorded_at", "metric", "instance_id", "policy_id",
    "stage", "target_minutes", "business_hours",
    "started_at", "resumed_at", "elapsed_minutes", "breach_at", "warn_at", "fulfilled_at",
    "segments",
)  # fmt: skip
_DATETIMES = {"started_at", "resumed_at", "breach_at", "warn_at", "fulfilled_at", "warned_at",
              "breach_recorded_at"}  # fmt: skip


def metric_states(ticket_id: int) -> dict[str, dict[str, Any]]:
    return metric_states_many([ticket_id]).get(ticket_id, {})


def metric_states_many(ticket_ids: list[int]) -> dict[int, dict[str, dict[str, Any]]]:
    """{ticket id: {metric: the stored SlaMetricState row as a dict}}, one query."""
    if not ticket_ids:
        return {}
    columns = ", ".join(_as_text(c) if c in _DATETIMES else c for c in STATE_COLUMNS)
    where, params = _in("ticket_id", ticket_ids)
    rows = _fetch(f"SELECT {columns} FROM sla_slametricstate WHERE {where}", params)  # noqa: S608 - constants
    result: dict[int, dict[str, dict[str, Any]]] = {}
    dates = [(index, name) for index, name in enumerate(STATE_COLUMNS) if name in _DATETIMES]
    fromisoformat = dt.datetime.fromisoformat
    for row in rows:
        values = dict(zip(STATE_COLUMNS, row, strict=True))
        for index, name in dates:
            value = row[index]
            if value is None:
                continue
            if value.__class__ is str and len(value) in (19, 26):
                # SQLite's text of a UTC datetime, "YYYY-MM-DD HH:MM:SS[.ffffff]": the
                # common case, parsed aware in one C call (``_dt`` does the rest).
                values[name] = fromisoformat(value + "+00:00")
            else:
                values[name] = _dt(value)
        values["business_hours"] = bool(values["business_hours"])
        result.setdefault(values["ticket_id"], {})[values["metric"]] = values
    return result


def metric_event_keys_many(
    ticket_ids: list[int],
) -> dict[int, set[tuple[str, int, str, dt.datetime]]]:
    if not ticket_ids:
        return {}
    where, params = _in("ticket_id", ticket_ids)
    rows = _fetch(
        "SELECT ticket_id, metric, instance_id, type, time FROM sla_ticketmetricevent "  # noqa: S608 - placeholders only
        f"WHERE {where}",
        params,
    )
    result: dict[int, set[tuple[str, int, str, dt.datetime]]] = {}
    for ticket_id, m, i, t, time in rows:
        result.setdefault(ticket_id, set()).add((m, i, t, _dt(time)))  # type: ignore[arg-type]
    return result


def metric_sets_many(ticket_ids: list[int], columns: tuple[str, ...]) -> dict[int, dict[str, Any]]:
    if not ticket_ids:
        return {}
    where, params = _in("ticket_id", ticket_ids)
    rows = _fetch(
        f"SELECT ticket_id, id, {', '.join(columns)} FROM sla_ticketmetricset WHERE {where}",  # noqa: S608 - constant columns
        params,
    )
    result = {}
    for row in rows:
        values = dict(zip(("id", *columns), row[1:], strict=True))
        for name, value in values.items():
            if name.endswith("_at"):
                values[name] = _dt(value)
            elif name == "first_contact_resolution":
                values[name] = bool(value)
        result[row[0]] = values
    return result


def metric_event_keys(ticket_id: int) -> set[tuple[str, int, str, dt.datetime]]:
    rows = _fetch(
        "SELECT metric, instance_id, type, time FROM sla_ticketmetricevent WHERE ticket_id = %s",
        [ticket_id],
    )
    return {(m, i, t, _dt(time)) for m, i, t, time in rows}  # type: ignore[misc]


def metric_set(ticket_id: int, columns: tuple[str, ...]) -> dict[str, Any] | None:
    rows = _fetch(
        f"SELECT id, {', '.join(columns)} FROM sla_ticketmetricset WHERE ticket_id = %s",  # noqa: S608 - constant columns
        [ticket_id],
    )
    if not rows:
        return None
    values = dict(zip(("id", *columns), rows[0], strict=True))
    for name, value in values.items():
        if name.endswith("_at"):
            values[name] = _dt(value)
        elif name == "first_contact_resolution":
            values[name] = bool(value)
    return values
