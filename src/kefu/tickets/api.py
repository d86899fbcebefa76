"""Ticket endpoints (Zendesk's ``tickets`` resource): thin — parse, scope, call the action."""

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from kefu.api.auth import current_user
from kefu.api.pagination import paginate

from . import access, actions
from .api_input import first_comment, latest_audit_id, new_comment, ticket_data
from .models import Audit, Ticket
from .schemas import (
    TicketAuditEnvelope,
    TicketEnvelope,
    TicketInEnvelope,
    TicketList,
    audits_json,
    ticket_json,
    tickets_json,
)

router = Router(tags=["Tickets"])


def ticket_and_audit(request: HttpRequest, ticket: Ticket, after_audit_id: int) -> dict:
    """``{"ticket", "audit"}``: the audit is the first one written after ``after_audit_id``
    (the caller's change, not a rule's follow-up)."""
    audit = Audit.objects.filter(ticket=ticket, pk__gt=after_audit_id).order_by("id").first()
    fresh = Ticket.objects.get(pk=ticket.pk)
    return {
        "ticket": ticket_json(request, fresh),
        "audit": audits_json(request, [audit])[0] if audit else None,
    }


@router.get("tickets", response=TicketList, exclude_unset=True, summary="List tickets")
def list_tickets(request: HttpRequest) -> dict:
    tickets = access.visible_tickets(current_user(request))
    return paginate(
        request, tickets, key="tickets", serialize=lambda rows: tickets_json(request, rows)
    )


@router.get("tickets/{int:ticket_id}", response=TicketEnvelope, summary="Show a ticket")
def show_ticket(request: HttpRequest, ticket_id: int) -> dict:
    ticket = access.access_ticket(current_user(request), ticket_id)
    return {"ticket": ticket_json(request, ticket)}


@router.post("tickets", response={201: TicketAuditEnvelope}, summary="Create a ticket")
def create_ticket(request: HttpRequest, payload: TicketInEnvelope) -> Status:
    actor = current_user(request)
    with transaction.atomic():
        ticket = actions.create_ticket(
            actor=actor,
            data=ticket_data(actor, payload.ticket),
            comment=first_comment(actor, payload.ticket),
        )
    return Status(201, ticket_and_audit(request, ticket, 0))


@router.put("tickets/{int:ticket_id}", response=TicketAuditEnvelope, summary="Update a ticket")
def update_ticket(request: HttpRequest, ticket_id: int, payload: TicketInEnvelope) -> dict:
    actor = current_user(request)
    ticket = access.access_ticket(actor, ticket_id)
    before = latest_audit_id(ticket)
    with transaction.atomic():
        ticket = actions.update_ticket(
            ticket,
            actor=actor,
            data=ticket_data(actor, payload.ticket),
            comment=new_comment(actor, payload.ticket.comment),
        )
    return ticket_and_audit(request, ticket, before)
