"""What one item of a bulk ticket request does (run by ``kefu.api.jobs`` in a task).

Each returns Zendesk's per-item result; raising ValidationError / DoesNotExist /
PermissionDenied makes it an error result and the other items still run.
"""

from typing import Any

from kefu.api.models import JobStatus

from . import access, actions
from .api_input import first_comment, new_comment, ticket_data
from .schemas import TicketIn


def create_one(job: JobStatus, index: int, item: dict[str, Any]) -> dict[str, Any]:
    actor = job.user
    payload = TicketIn.model_validate(item)
    ticket = actions.create_ticket(
        actor=actor, data=ticket_data(actor, payload), comment=first_comment(actor, payload)
    )
    return {"index": index, "id": ticket.pk, "action": "create", "success": True,
            "status": "Created"}  # fmt: skip


def update_one(job: JobStatus, index: int, item: dict[str, Any]) -> dict[str, Any]:
    actor = job.user
    ticket_id = int(item["id"])
    payload = TicketIn.model_validate(item["ticket"])
    ticket = access.access_ticket(actor, ticket_id)
    actions.update_ticket(
        ticket,
        actor=actor,
        data=ticket_data(actor, payload),
        comment=new_comment(actor, payload.comment),
    )
    return {"index": index, "id": ticket_id, "action": "update", "success": True,
            "status": "Updated"}  # fmt: skip


def destroy_one(job: JobStatus, index: int, item: Any) -> dict[str, Any]:
    ticket = access.access_ticket(job.user, int(item))
    actions.delete_ticket(ticket, actor=job.user)
    return {"index": index, "id": ticket.pk, "action": "delete", "success": True,
            "status": "Deleted"}  # fmt: skip


def import_one(job: JobStatus, index: int, item: dict[str, Any]) -> dict[str, Any]:
    from .api_imports import imported_ticket

    [ticket] = actions.import_tickets([imported_ticket(item)], actor=job.user)
    return {"index": index, "id": ticket.pk, "action": "create", "success": True,
            "status": "Created"}  # fmt: skip
