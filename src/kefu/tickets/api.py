"""Ticket endpoints (Zendesk's ``tickets``, ``uploads`` and ``imports/tickets``): thin —
parse, scope with ``access``, call the actions."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status

from kefu.api import jobs
from kefu.api.api import JobStatusEnvelope
from kefu.api.auth import current_user
from kefu.api.errors import ApiError
from kefu.api.formats import prebuilt
from kefu.api.pagination import paginate
from kefu.core import configcache

from . import access, actions
from .api_imports import ImportEnvelope, ImportManyEnvelope, check_importer, imported_ticket
from .api_input import first_comment, latest_audit_id, new_comment, ticket_data
from .models import Audit, Ticket
from .schemas import (
    TICKET_INCLUDES,
    AuditList,
    CommentList,
    TicketAuditEnvelope,
    TicketEnvelope,
    TicketInEnvelope,
    TicketList,
    TicketsEnvelope,
    TicketShowEnvelope,
    TicketsInEnvelope,
    UpdateManyIn,
    UploadEnvelope,
    audits_json,
    comments_json,
    ticket_json,
    tickets_json,
    upload_json,
)

router = Router(tags=["Tickets"])

BULK_LIMIT = 100


def parse_ids(raw: str | None, *, limit: int = BULK_LIMIT) -> list[int]:
    """``?ids=1,2,3`` -> [1, 2, 3]; 400 when missing, not numbers, or too many."""
    try:
        ids = [int(part) for part in (raw or "").split(",") if part.strip()]
    except ValueError:
        raise ApiError(
            400, {"error": "InvalidValue", "description": "ids must be integers."}
        ) from None
    if not ids:
        raise ApiError(400, {"error": "InvalidValue", "description": "ids is required."})
    if len(ids) > limit:
        raise ApiError(
            400, {"error": "TooManyValues", "description": f"At most {limit} ids at once."}
        )
    return list(dict.fromkeys(ids))


def ticket_and_audit(request: HttpRequest, ticket: Ticket, after_audit_id: int) -> dict:
    """``{"ticket", "audit"}``: the audit is the first one written after ``after_audit_id``
    (the caller's change, not a rule's follow-up)."""
    audit = Audit.objects.filter(ticket=ticket, pk__gt=after_audit_id).order_by("id").first()
    fresh = Ticket.objects.get(pk=ticket.pk)
    return {
        "ticket": ticket_json(request, fresh),
        "audit": (
            audits_json(request, [audit], public_only=not current_user(request).is_agent)[0]
            if audit
            else None
        ),
    }


def created_ticket_and_audit(request: HttpRequest, created: actions.CreatedTicket) -> dict:
    """``{"ticket", "audit"}`` for a ticket just created, from what the action wrote: only the
    audit's events are read back (hooks add to them), and the ticket only when a hook's
    change wrote it again."""
    viewer = current_user(request)
    ticket = created.ticket
    if created.as_written:
        data = tickets_json(
            request, [ticket], known={ticket.pk: (created.email_cc_ids, created.follower_ids)}
        )[0]
    else:
        data = ticket_json(request, Ticket.objects.get(pk=ticket.pk))
    return {
        "ticket": data,
        "audit": audits_json(
            request,
            [created.audit],
            public_only=not viewer.is_agent,
            known_comments=[(created.comment, created.attachments)],
        )[0],
    }


def job_response(request: HttpRequest, job_type: str, items: list) -> dict:
    job = jobs.start(user=current_user(request), job_type=job_type, items=items)
    return {"job_status": jobs.job_json(request, job)}


# --- tickets ----------------------------------------------------------------------------------


@router.get("tickets", response=TicketList, exclude_unset=True, summary="List tickets")
def list_tickets(request: HttpRequest) -> HttpResponse:
    tickets = access.visible_tickets(current_user(request))
    return paginate(
        request, tickets, key="tickets", serialize=lambda rows: tickets_json(request, rows)
    )


@router.get("tickets/show_many", response=TicketsEnvelope, summary="Show many tickets")
def show_many(request: HttpRequest, ids: str) -> dict:
    wanted = parse_ids(ids)
    found = access.visible_tickets(current_user(request)).filter(pk__in=wanted).order_by("id")
    return {"tickets": tickets_json(request, found)}


@router.get(
    "tickets/{int:ticket_id}",
    response=TicketShowEnvelope,
    exclude_unset=True,
    summary="Show a ticket",
)
def show_ticket(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = current_user(request)
    ticket = access.access_ticket(user, ticket_id)
    data = ticket_json(request, ticket)
    # Sideloads (SLA state, ...) are agents' information.
    for name in request.GET.get("include", "").split(",") if user.is_agent else []:
        if name.strip() in TICKET_INCLUDES:
            data[name.strip()] = TICKET_INCLUDES[name.strip()](request, ticket)
    return prebuilt({"ticket": data})


@router.post("tickets", response={201: TicketAuditEnvelope}, summary="Create a ticket")
def create_ticket(request: HttpRequest, payload: TicketInEnvelope) -> HttpResponse:
    actor = current_user(request)
    with configcache.unit():  # the answer reads the same configuration as the create
        with transaction.atomic():
            created = actions.create_ticket_and_audit(
                actor=actor,
                data=ticket_data(actor, payload.ticket),
                comment=first_comment(actor, payload.ticket),
            )
        return prebuilt(created_ticket_and_audit(request, created), status=201)


@router.put("tickets/{int:ticket_id}", response=TicketAuditEnvelope, summary="Update a ticket")
def update_ticket(request: HttpRequest, ticket_id: int, payload: TicketInEnvelope) -> HttpResponse:
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
    return prebuilt(ticket_and_audit(request, ticket, before))


@router.delete("tickets/{int:ticket_id}", response={204: None}, summary="Delete a ticket")
def delete_ticket(request: HttpRequest, ticket_id: int) -> Status:
    actor = current_user(request)
    actions.delete_ticket(access.access_ticket(actor, ticket_id), actor=actor)
    return Status(204, None)


@router.post(
    "tickets/create_many", response=JobStatusEnvelope, summary="Create many tickets (a job)"
)
def create_many(request: HttpRequest, payload: TicketsInEnvelope) -> dict:
    if not payload.tickets or len(payload.tickets) > BULK_LIMIT:
        raise ValidationError(
            {"tickets": [_("Send between 1 and %(n)s tickets.") % {"n": BULK_LIMIT}]}
        )
    items = [t.model_dump(exclude_unset=True) for t in payload.tickets]
    return job_response(request, "tickets.create_many", items)


@router.put(
    "tickets/update_many", response=JobStatusEnvelope, summary="Update many tickets (a job)"
)
def update_many(request: HttpRequest, payload: UpdateManyIn, ids: str | None = None) -> dict:
    if payload.tickets is not None:
        if not payload.tickets or len(payload.tickets) > BULK_LIMIT:
            raise ValidationError(
                {"tickets": [_("Send between 1 and %(n)s tickets.") % {"n": BULK_LIMIT}]}
            )
        items = [
            {"id": t.id, "ticket": t.model_dump(exclude_unset=True, exclude={"id"})}
            for t in payload.tickets
        ]
    elif payload.ticket is not None:
        change = payload.ticket.model_dump(exclude_unset=True)
        items = [{"id": ticket_id, "ticket": change} for ticket_id in parse_ids(ids)]
    else:
        raise ValidationError({"ticket": [_("Send “ticket” with ids, or “tickets”.")]})
    return job_response(request, "tickets.update_many", items)


@router.delete(
    "tickets/destroy_many", response=JobStatusEnvelope, summary="Delete many tickets (a job)"
)
def destroy_many(request: HttpRequest, ids: str) -> dict:
    if not current_user(request).is_agent:
        raise Ticket.DoesNotExist
    return job_response(request, "tickets.destroy_many", parse_ids(ids))


# --- comments and audits ----------------------------------------------------------------------


@router.get(
    "tickets/{int:ticket_id}/comments",
    response=CommentList,
    exclude_unset=True,
    summary="List a ticket's comments",
)
def list_comments(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = current_user(request)
    ticket = access.access_ticket(user, ticket_id)
    comments = access.visible_comments(user, ticket)
    return paginate(
        request,
        comments,
        key="comments",
        serialize=lambda rows: comments_json(request, rows),
        ordering=("created_at", "id"),
    )


@router.get(
    "tickets/{int:ticket_id}/audits",
    response=AuditList,
    exclude_unset=True,
    summary="List a ticket's audits",
)
def list_audits(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = current_user(request)
    ticket = access.access_ticket(user, ticket_id)
    return paginate(
        request,
        Audit.objects.filter(ticket=ticket),
        key="audits",
        serialize=lambda rows: audits_json(request, rows, public_only=not user.is_agent),
        ordering=("created_at", "id"),
    )


# --- uploads ----------------------------------------------------------------------------------


@router.post(
    "uploads",
    response={201: UploadEnvelope},
    summary="Upload a file (the raw bytes as the body)",
    tags=["Attachments"],
)
def upload(request: HttpRequest, filename: str) -> Status:
    from kefu.accounts.models import AccountSettings

    limit = AccountSettings.load().max_attachment_mb * 1024 * 1024
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    # Read straight from the stream (not request.body, capped at 10 MB by Django); a body
    # over the limit is refused by create_upload without reading all of it.
    content = request.read(min(length, limit + 1)) if length else b""
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip()
    if content_type in ("", "application/octet-stream", "application/binary"):
        content_type = ""
    attachment = actions.create_upload(
        uploader=current_user(request),
        file_name=filename,
        content=content if len(content) <= limit else content + b"\0",
        content_type=content_type or None,
    )
    return Status(201, {"upload": upload_json(request, attachment)})


# --- imports ----------------------------------------------------------------------------------


@router.post(
    "imports/tickets",
    response={201: TicketEnvelope},
    summary="Import a ticket with its history",
    tags=["Ticket import"],
)
def import_ticket(request: HttpRequest, payload: ImportEnvelope) -> Status:
    actor = current_user(request)
    check_importer(actor)
    [ticket] = actions.import_tickets([imported_ticket(payload.ticket)], actor=actor)
    return Status(201, {"ticket": ticket_json(request, Ticket.objects.get(pk=ticket.pk))})


@router.post(
    "imports/tickets/create_many",
    response=JobStatusEnvelope,
    summary="Import many tickets (a job)",
    tags=["Ticket import"],
)
def import_many(request: HttpRequest, payload: ImportManyEnvelope) -> dict:
    check_importer(current_user(request))
    if not payload.tickets or len(payload.tickets) > BULK_LIMIT:
        raise ValidationError(
            {"tickets": [_("Send between 1 and %(n)s tickets.") % {"n": BULK_LIMIT}]}
        )
    items = [t.model_dump(exclude_unset=True) for t in payload.tickets]
    return job_response(request, "imports.tickets.create_many", items)
