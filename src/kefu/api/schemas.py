"""Schemas shared by every resource: page fields and error bodies (for the OpenAPI document)."""

from ninja import Schema


class CursorMeta(Schema):
    has_more: bool
    after_cursor: str | None
    before_cursor: str | None


class CursorLinks(Schema):
    next: str | None
    prev: str | None


class PageFields(Schema):
    """Inherit in a list envelope: ``class TicketList(PageFields): tickets: list[TicketOut]``.

    Offset pages fill ``next_page``/``previous_page``/``count``; cursor pages ``meta``/``links``.
    List endpoints use ``exclude_unset=True`` so each mode shows only its own fields."""

    next_page: str | None = None
    previous_page: str | None = None
    count: int | None = None
    meta: CursorMeta | None = None
    links: CursorLinks | None = None


class ErrorDetail(Schema):
    description: str
    error: str


class ErrorOut(Schema):
    error: str
    description: str | None = None
    details: dict[str, list[ErrorDetail]] | None = None


# Add to an operation's ``response=`` so the OpenAPI document lists the error answers.
ERRORS = {
    frozenset({400, 401, 403, 404, 422, 429}): ErrorOut,
}
