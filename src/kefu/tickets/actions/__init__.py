"""Ticket business operations — the one write path (see each module's docstring)."""

from .attachments import clean_file_name, create_upload, find_upload
from .batch import BATCH_FIELDS, update_tickets
from .data import NewComment, TicketData
from .events import Event, record_events
from .fields import (
    clean_custom_fields,
    clean_field_value,
    create_custom_status,
    create_ticket_field,
    default_custom_status,
    delete_ticket_field,
    update_custom_status,
    update_ticket_field,
)
from .imports import ImportedComment, ImportedTicket, import_tickets
from .lifecycle import close_solved_tickets, delete_ticket, restore_ticket
from .tags import delete_tag, rename_tag, tag_counts
from .tickets import (
    CreatedTicket,
    add_comment,
    create_ticket,
    create_ticket_and_audit,
    update_ticket,
)
from .views import (
    MacroResult,
    apply_macro,
    create_macro,
    create_view,
    delete_macro,
    delete_view,
    record_macro_use,
    update_macro,
    update_view,
    view_count,
    view_tickets,
)

__all__ = [
    "BATCH_FIELDS",
    "CreatedTicket",
    "Event",
    "ImportedComment",
    "ImportedTicket",
    "MacroResult",
    "NewComment",
    "TicketData",
    "add_comment",
    "apply_macro",
    "clean_custom_fields",
    "clean_field_value",
    "clean_file_name",
    "close_solved_tickets",
    "create_custom_status",
    "create_macro",
    "create_ticket",
    "create_ticket_and_audit",
    "create_ticket_field",
    "create_upload",
    "create_view",
    "default_custom_status",
    "delete_macro",
    "delete_tag",
    "delete_ticket",
    "delete_ticket_field",
    "delete_view",
    "find_upload",
    "import_tickets",
    "record_events",
    "record_macro_use",
    "rename_tag",
    "restore_ticket",
    "tag_counts",
    "update_custom_status",
    "update_macro",
    "update_ticket",
    "update_ticket_field",
    "update_tickets",
    "update_view",
    "view_count",
    "view_tickets",
]
