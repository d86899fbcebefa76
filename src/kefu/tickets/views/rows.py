"""The cells of a view's ticket table, rendered in Python.

A view list draws 30 rows × up to 10 columns; a template ``if``/``elif`` chain per cell made that
the slowest part of the page (bench/RESULTS.md, issue 4). Each column here is one small
function producing escaped HTML (``format_html``); the template only loops over rows.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from ..models import Ticket

if TYPE_CHECKING:
    from .nav import ViewPlace

EMPTY = mark_safe('<span class="subtle">—</span>')


@dataclass
class Row:
    id: int
    checkbox_label: str
    cells: SafeString


def _time(value: dt.datetime | None, short: str = "SHORT_DATETIME_FORMAT") -> SafeString:
    if value is None:
        return format_html('<td class="nowrap">{}</td>', EMPTY)
    local = timezone.localtime(value)
    return format_html(
        '<td class="nowrap"><time datetime="{}" title="{}">{}</time></td>',
        local.isoformat(),
        date_format(local, "DATETIME_FORMAT"),
        date_format(local, short),
    )


def _name(person: object | None) -> SafeString:
    name = getattr(person, "name", None)
    return format_html("<td>{}</td>", name) if name else format_html("<td>{}</td>", EMPTY)


Cell = Callable[[Ticket, str], SafeString]

CELLS: dict[str, Cell] = {
    "id": lambda t, url: format_html('<td class="num"><a href="{}">#{}</a></td>', url, t.id),
    "subject": lambda t, url: format_html(
        '<td class="wrap"><a class="row-link" href="{}">{}</a></td>', url, t.subject
    ),
    "status": lambda t, url: format_html(
        '<td><span class="badge badge--{}">{}</span></td>',
        t.status,
        t.custom_status.label_for_agent(),
    ),
    "priority": lambda t, url: (
        format_html(
            '<td><span class="badge badge--{}">{}</span></td>',
            t.priority,
            t.get_priority_display(),
        )
        if t.priority
        else format_html("<td>{}</td>", EMPTY)
    ),
    "requester": lambda t, url: format_html(
        '<td class="wrap cell--person">{}</td>', t.requester.name
    ),
    "assignee": lambda t, url: _name(t.assignee),
    "group": lambda t, url: _name(t.group),
    "created_at": lambda t, url: _time(t.created_at),
    "updated_at": lambda t, url: _time(t.updated_at),
    "due_at": lambda t, url: _time(t.due_at, "SHORT_DATE_FORMAT"),
}


# Columns other apps add (the sla app's "Next SLA breach"): ``prepare(tickets)`` runs once
# per page before the cells, so a column can load what it shows for all rows in one query.
PREPARE: dict[str, Callable[[list[Ticket]], None]] = {}


def register_column(
    name: str,
    *,
    label: Promise,
    cell: Cell,
    sort_key: str,
    prepare: Callable[[list[Ticket]], None] | None = None,
    nullable: bool = True,
    default: bool = False,
) -> None:
    """Add a view column (sortable by ``sort_key``, an ORM path) from another app.
    ``default``: shown in views created without columns, after the subject."""
    from ..actions import views as view_actions
    from . import lists

    CELLS[name] = cell
    view_actions.SORTABLE[name] = sort_key
    if nullable:
        view_actions.NULLABLE_SORTS.add(name)
    lists.COLUMN_LABELS[name] = label  # type: ignore[assignment]
    if prepare is not None:
        PREPARE[name] = prepare
    if default and name not in view_actions.DEFAULT_COLUMNS:
        view_actions.DEFAULT_COLUMNS.insert(view_actions.DEFAULT_COLUMNS.index("subject") + 1, name)


def rows(
    tickets: list[Ticket], columns: list[str], *, ticket_url: str, place: "ViewPlace"
) -> list[Row]:
    """``ticket_url`` is the ticket page's URL with ``{id}`` for the number; ``place`` is the
    view, its order and the first row's position (each link carries its own, for j/k)."""
    label = _("Select ticket #%(id)s")
    for column in columns:
        if column in PREPARE:
            PREPARE[column](tickets)
    cells = [CELLS[c] for c in columns]
    result = []
    query = place.query().removesuffix(str(place.pos))  # "view=..&order=..&pos=", once
    for index, ticket in enumerate(tickets):
        url = f"{ticket_url.format(id=ticket.id)}?{query}{place.pos + index}"
        html = mark_safe("".join(cell(ticket, url) for cell in cells))  # noqa: S308  (escaped)
        result.append(Row(ticket.id, label % {"id": ticket.id}, html))
    return result
