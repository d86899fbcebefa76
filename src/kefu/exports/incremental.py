"""Incremental exports: what changed since ``start_time``, page by page, as Zendesk does it.

Two kinds, as in Zendesk:

- **Cursor-based** (tickets, users): ordered by ``(updated_at, id)``; each page ends with an
  opaque cursor for "after the last item". At the end of the stream the cursor stays
  valid, so a client polls again later with it and gets only newer changes. No item is
  missed or repeated, however many share a second.
- **Time-based** (organizations, ticket events): ``start_time`` in, ``end_time`` (the Unix
  time of the last item) out; the next page starts at ``end_time``, so items of that last
  second come again (clients drop duplicates by id, as with Zendesk). The stream has ended
  when a page holds fewer than ``per_page`` items. A page whose items all share one second
  is extended to the whole second and ends one second later, so paging always advances.

Items changed during the current, still running second are left out until it is over: a
change committing later in that second would otherwise land behind a cursor already handed
out. Only admins export (Zendesk: "Allowed for: Admins").
"""

import base64
import binascii
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import clock
from kefu.crm.models import Organization
from kefu.tickets.choices import EventType
from kefu.tickets.models import Attachment, Audit, AuditEvent, Comment, Ticket

PER_PAGE = 1000
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

Prepare = Callable[[QuerySet], QuerySet]


@dataclass(frozen=True)
class CursorPage:
    items: list[Any]
    after_cursor: str
    end_of_stream: bool


@dataclass(frozen=True)
class TimePage:
    items: list[Any]
    end_time: int
    end_of_stream: bool

    @property
    def count(self) -> int:
        return len(self.items)


def check_can_export(user: User) -> None:
    if not (user.is_admin and user.is_active and not user.suspended):
        raise PermissionDenied(_("Only admins can use incremental exports."))


def unix_time(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _from_unix(seconds: int) -> dt.datetime:
    return EPOCH + dt.timedelta(seconds=seconds)


def _check_start_time(start_time: Any) -> dt.datetime:
    try:
        seconds = int(start_time)
    except (TypeError, ValueError):
        raise ValidationError(
            {"start_time": [_("start_time is a Unix time in seconds, such as 1767225600.")]}
        ) from None
    if seconds < 0:
        raise ValidationError({"start_time": [_("start_time cannot be negative.")]})
    if seconds > unix_time(clock.now()):
        raise ValidationError({"start_time": [_("start_time is in the future.")]})
    return _from_unix(seconds)


def _horizon() -> dt.datetime:
    """The start of the current second: newer changes wait for the next request."""
    return clock.now().replace(microsecond=0)


def exported_status(ticket: Ticket) -> str:
    """A ticket's status in exports: "deleted" for deleted tickets, as in Zendesk."""
    return "deleted" if ticket.deleted_at is not None else ticket.status


# --- cursor-based -----------------------------------------------------------------------------


def encode_cursor(moment: dt.datetime, pk: int) -> str:
    micros = (moment - EPOCH) // dt.timedelta(microseconds=1)
    return base64.urlsafe_b64encode(f"{micros}.{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        micros, pk = raw.split(".")
        return EPOCH + dt.timedelta(microseconds=int(micros)), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise ValidationError({"cursor": [_("The cursor is not valid.")]}) from None


def _cursor_page(
    queryset: QuerySet,
    *,
    start_time: Any,
    cursor: str | None,
    per_page: int,
    prepare: Prepare | None,
) -> CursorPage:
    if cursor:
        moment, after_pk = decode_cursor(cursor)
    elif start_time is not None:
        moment, after_pk = _check_start_time(start_time), -1
    else:
        raise ValidationError({"start_time": [_("Give start_time or cursor.")]})
    if not 1 <= per_page <= PER_PAGE:
        raise ValidationError(
            {"per_page": [_("per_page is between 1 and %(max)s.") % {"max": PER_PAGE}]}
        )
    after = Q(updated_at__gt=moment) | Q(updated_at=moment, pk__gt=after_pk)
    rows = list(
        queryset.filter(after, updated_at__lt=_horizon())
        .order_by("updated_at", "pk")
        .values_list("updated_at", "pk")[: per_page + 1]
    )
    end_of_stream = len(rows) <= per_page
    rows = rows[:per_page]
    pks = [pk for _moment, pk in rows]
    loaded = queryset.model._default_manager.filter(pk__in=pks)
    if prepare is not None:
        loaded = prepare(loaded)
    by_pk = {obj.pk: obj for obj in loaded}
    next_cursor = encode_cursor(*rows[-1]) if rows else encode_cursor(moment, after_pk)
    return CursorPage(
        items=[by_pk[pk] for pk in pks if pk in by_pk],
        after_cursor=next_cursor,
        end_of_stream=end_of_stream,
    )


def export_tickets(
    *,
    user: User,
    start_time: Any = None,
    cursor: str | None = None,
    per_page: int = PER_PAGE,
    exclude_deleted: bool = False,
    prepare: Prepare | None = None,
) -> CursorPage:
    """Tickets changed at or after ``start_time`` (or after ``cursor``), oldest change first.

    Deleted tickets are included (their deletion is a change) unless ``exclude_deleted``;
    show them with :func:`exported_status`. ``prepare`` adds the caller's
    ``select_related``/``prefetch_related``.
    """
    check_can_export(user)
    tickets = Ticket.objects.all()
    if exclude_deleted:
        tickets = tickets.filter(deleted_at__isnull=True)
    return _cursor_page(
        tickets, start_time=start_time, cursor=cursor, per_page=per_page, prepare=prepare
    )


def export_users(
    *,
    user: User,
    start_time: Any = None,
    cursor: str | None = None,
    per_page: int = PER_PAGE,
    prepare: Prepare | None = None,
) -> CursorPage:
    """People changed at or after ``start_time`` (or after ``cursor``), deleted ones included
    (``is_active`` false)."""
    check_can_export(user)
    return _cursor_page(
        User.objects.all(), start_time=start_time, cursor=cursor, per_page=per_page,
        prepare=prepare,
    )  # fmt: skip


# --- time-based -------------------------------------------------------------------------------


def _time_page(
    queryset: QuerySet, *, field: str, start_time: Any, per_page: int
) -> tuple[list[int], int, bool]:
    """(ids in order, end_time, end_of_stream) for rows with ``field`` in [start, horizon)."""
    start = _check_start_time(start_time)
    if not 1 <= per_page <= PER_PAGE:
        raise ValidationError(
            {"per_page": [_("per_page is between 1 and %(max)s.") % {"max": PER_PAGE}]}
        )
    window = queryset.filter(**{f"{field}__gte": start, f"{field}__lt": _horizon()})
    rows = list(window.order_by(field, "pk").values_list(field, "pk")[: per_page + 1])
    if len(rows) <= per_page:
        end_time = unix_time(rows[-1][0]) if rows else unix_time(start)
        return [pk for _m, pk in rows], end_time, True
    rows = rows[:per_page]
    last_second = unix_time(rows[-1][0])
    if unix_time(rows[0][0]) < last_second:
        return [pk for _m, pk in rows], last_second, False
    # One second holds a whole page: take all of that second so the next page moves on.
    second = _from_unix(last_second)
    same = window.filter(**{f"{field}__lt": second + dt.timedelta(seconds=1)})
    return list(same.order_by(field, "pk").values_list("pk", flat=True)), last_second + 1, False


def export_organizations(
    *, user: User, start_time: Any, per_page: int = PER_PAGE, prepare: Prepare | None = None
) -> TimePage:
    """Organizations changed at or after ``start_time`` (time-based)."""
    check_can_export(user)
    pks, end_time, end_of_stream = _time_page(
        Organization.objects.all(), field="updated_at", start_time=start_time, per_page=per_page
    )
    loaded: QuerySet = Organization.objects.filter(pk__in=pks)
    if prepare is not None:
        loaded = prepare(loaded)
    by_pk = {org.pk: org for org in loaded}
    return TimePage(
        items=[by_pk[pk] for pk in pks if pk in by_pk],
        end_time=end_time,
        end_of_stream=end_of_stream,
    )


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _child_event(
    event: dict[str, Any], audit: dict[str, Any], comment: dict[str, Any] | None
) -> dict[str, Any]:
    # Events a business rule added to someone else's change carry their own via.
    own_via = event.get("via") or {}
    source = own_via.get("source") or {}
    child: dict[str, Any] = {
        "id": event["id"],
        "via": own_via.get("channel") or audit["via_channel"],
        "via_reference_id": (source.get("from") or {}).get("id") or source.get("id"),
        "event_type": event["type"],
    }
    if event["type"] == EventType.COMMENT and comment is not None:
        child.update(
            comment_present=True,
            comment_public=comment["public"],
            body=comment["body"],
            html_body=comment["html_body"],
            public=comment["public"],
            author_id=comment["author_id"],
            created_at=_iso(comment["created_at"]),
            attachments=comment["attachments"],
        )
        return child
    field_name, value, previous = event["field_name"], event["value"], event["previous_value"]
    if field_name:
        child["field_name"] = field_name
        child[field_name] = value
        if event["type"] == EventType.CHANGE or previous is not None:
            child["previous_value"] = previous
        if field_name == "tags":
            new, old = set(value or []), set(previous or [])
            child["added_tags"] = sorted(new - old)
            child["removed_tags"] = sorted(old - new)
    else:
        child["value"] = value
    return child


def ticket_event(
    audit: dict[str, Any],
    events: list[dict[str, Any]],
    comments: dict[int, dict[str, Any]],
    *,
    include_comments: bool,
) -> dict[str, Any]:
    """One audit (a ``values()`` row) in Zendesk's ``ticket_events`` shape, its events as
    ``child_events``; ``comments`` maps comment ids to their rows."""
    said = [comments[e["comment_id"]] for e in events if e["comment_id"] in comments]
    shown = events if include_comments else [e for e in events if e["type"] != EventType.COMMENT]
    return {
        "id": audit["id"],
        "ticket_id": audit["ticket_id"],
        "timestamp": unix_time(audit["created_at"]),
        "created_at": _iso(audit["created_at"]),
        "updater_id": audit["author_id"] if audit["author_id"] is not None else -1,
        "via": audit["via_channel"],
        "system": (audit["metadata"] or {}).get("system", {}),
        "metadata": audit["metadata"] or {},
        "event_type": "Audit",
        "merged_ticket_ids": [],
        "comment_present": bool(said),
        "comment_public": any(c["public"] for c in said),
        "child_events": [_child_event(e, audit, comments.get(e["comment_id"])) for e in shown],
    }


def export_ticket_events(
    *, user: User, start_time: Any, include_comments: bool = False, per_page: int = PER_PAGE
) -> TimePage:
    """Every audit written at or after ``start_time`` (time-based), as ``ticket_events``.

    Comment events (body, author, attachments) are included with ``include_comments``
    (Zendesk's ``include=comment_events``). Five queries per page.
    """
    check_can_export(user)
    pks, end_time, end_of_stream = _time_page(
        Audit.objects.all(), field="created_at", start_time=start_time, per_page=per_page
    )
    # Plain rows, not model instances: a page is thousands of events, and building objects
    # (and prefetch bookkeeping) would cost more than the queries.
    audits = {
        row["id"]: dict(row)
        for row in Audit.objects.filter(pk__in=pks).values(
            "id", "ticket_id", "author_id", "via_channel", "metadata", "created_at"
        )
    }
    events_by_audit: dict[int, list[dict[str, Any]]] = {pk: [] for pk in pks}
    for event in (
        AuditEvent.objects.filter(audit_id__in=pks)
        .order_by("pk")
        .values(
            "id", "audit_id", "type", "field_name", "value", "previous_value", "comment_id", "via"
        )
    ):
        events_by_audit[event["audit_id"]].append(dict(event))
    comment_ids = [
        e["comment_id"] for events in events_by_audit.values() for e in events if e["comment_id"]
    ]
    comments: dict[int, dict[str, Any]] = {}
    if include_comments:
        for comment in Comment.objects.filter(pk__in=comment_ids).values(
            "id", "body", "html_body", "public", "author_id", "created_at"
        ):
            comments[comment["id"]] = {**comment, "attachments": []}
        for attachment in Attachment.objects.filter(comment_id__in=comment_ids).values(
            "id", "comment_id", "file_name", "content_type", "size", "inline"
        ):
            row: dict[str, Any] = dict(attachment)
            comments[row.pop("comment_id")]["attachments"].append(row)
    else:
        comments = {
            row["id"]: dict(row)
            for row in Comment.objects.filter(pk__in=comment_ids).values("id", "public")
        }
    return TimePage(
        items=[
            ticket_event(
                audits[pk], events_by_audit[pk], comments, include_comments=include_comments
            )
            for pk in pks
            if pk in audits
        ],
        end_time=end_time,
        end_of_stream=end_of_stream,
    )
