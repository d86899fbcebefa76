from django.urls import path

from .views import attachments, history, lists, nav, new, ticket

app_name = "tickets"
urlpatterns = [
    path(
        "attachments/<int:attachment_id>/<path:file_name>",
        attachments.attachment_download,
        name="attachment_download",
    ),
    path("attachments/<int:attachment_id>", attachments.attachment_download),
    # The agent workspace (docs/ui.md)
    path("agent/views/<int:view_id>/", lists.view_list, name="view"),
    path("agent/views/counts/", lists.view_counts, name="view_counts"),
    path("agent/tickets/bulk/", lists.bulk_update, name="bulk_update"),
    path("agent/tickets/new/", new.new_ticket, name="new"),
    path("agent/tickets/new/requesters/", new.requester_suggestions, name="requester_suggestions"),
    path("agent/tickets/<int:ticket_id>/", ticket.ticket_page, name="ticket"),
    path("agent/tickets/<int:ticket_id>/presence/", ticket.ticket_presence, name="presence"),
    path("agent/tickets/<int:ticket_id>/history/", history.ticket_history, name="history"),
    path("agent/tickets/<int:ticket_id>/neighbour/", nav.neighbour, name="neighbour"),
]
