"""The API's ticket, comment, audit and attachment serializers, in Zendesk's shapes.

``tickets_json(request, tickets)`` serializes any list of tickets (a page, search results, a
view, an export) with a fixed number of queries: it loads CCs, followers, incidents, fields
and satisfaction ratings for the whole list at once. ``ticket_json`` is the one-ticket case.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.db import connection
from django.http import HttpRequest
from django.urls import reverse
from ninja import Schema

from kefu.api.formats import timestamp
from kefu.api.pagination import api_url
from kefu.api.schemas import PageFields

from .actions.fields import active_fields_in_order
from .choices import EventType, TicketType
from .models import Attachment, Audit, AuditEvent, Comment, Ticket, TicketField

# --- output schemas (the OpenAPI document; the *_json functions build the dicts) -------------


class Via(Schema):
    channel: str
    source: dict[str, Any]


class CustomFieldValue(Schema):
    id: int
    value: Any = None


class TicketOut(Schema):
    id: int
    url: str
    external_id: str | None
    via: Via
    created_at: str
    updated_at: str
    generated_timestamp: int
    type: str | None
    subject: str
    raw_subject: str
    description: str
    priority: str | None
    status: str
    custom_status_id: int
    recipient: str | None
    requester_id: int
    submitter_id: int
    assignee_id: int | None
    organization_id: int | None
    group_id: int | None
    collaborator_ids: list[int]
    follower_ids: list[int]
    email_cc_ids: list[int]
    forum_topic_id: int | None
    problem_id: int | None
    has_incidents: bool
    is_public: bool
    due_at: str | None
    tags: list[str]
    custom_fields: list[CustomFieldValue]
    fields: list[CustomFieldValue]
    satisfaction_rating: dict[str, Any] | None
    sharing_agreement_ids: list[int]
    followup_ids: list[int]
    ticket_form_id: int | None
    brand_id: int | None
    allow_channelback: bool
    allow_attachments: bool
    from_messaging_channel: bool


class TicketEnvelope(Schema):
    ticket: TicketOut


class TicketShowOut(TicketOut):
    slas: dict[str, Any] | None = None  # include=slas (the sla app's TICKET_INCLUDES entry)


class TicketShowEnvelope(Schema):
    ticket: TicketShowOut


# ``?include=`` sideloads other apps add to a shown ticket: name -> fn(request, ticket) -> value.
# Registered in the owning app's ready() (sla: "slas"), so tickets imports none of them.
TICKET_INCLUDES: dict[str, Callable[[HttpRequest, Ticket], Any]] = {}


class TicketList(PageFields):
    tickets: list[TicketOut]


class AttachmentOut(Schema):
    id: int
    url: str
    file_name: str
    content_url: str
    mapped_content_url: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    inline: bool
    deleted: bool
    thumbnails: list[dict[str, Any]]


class CommentOut(Schema):
    id: int
    type: str
    author_id: int
    body: str
    html_body: str
    plain_body: str
    public: bool
    attachments: list[AttachmentOut]
    audit_id: int | None
    via: Via
    created_at: str
    metadata: dict[str, Any]


class CommentList(PageFields):
    comments: list[CommentOut]


class AuditOut(Schema):
    id: int
    ticket_id: int
    created_at: str
    author_id: int
    metadata: dict[str, Any]
    via: Via
    events: list[dict[str, Any]]


class AuditList(PageFields):
    audits: list[AuditOut]


# --- serializers ------------------------------------------------------------------------------


def via_json(channel: str, source: dict[str, Any] | None) -> dict[str, Any]:
    return {"channel": channel, "source": source or {"from": {}, "to": {}, "rel": None}}


def satisfaction_ratings(ticket_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each ticket's ``satisfaction_rating`` (Zendesk: ``{"id", "score", "comment"}``).

    The one place ratings enter the ticket JSON: the surveys app fills it in when it stores
    ratings. A ticket missing from the result shows ``null``.
    """
    from kefu.surveys.schemas import ticket_ratings  # surveys builds on tickets, not back

    return ticket_ratings(ticket_ids)


def _field_list(fields: Sequence[TicketField], ticket: Ticket) -> list[dict[str, Any]]:
    values = ticket.custom_fields
    return [{"id": f.pk, "value": values.get(f.key)} for f in fields]


def tickets_json(
    request: HttpRequest,
    tickets: Iterable[Ticket],
    *,
    known: Mapping[int, tuple[list[int], list[int]]] | None = None,
) -> list[dict[str, Any]]:
    """Zendesk's ticket JSON for a list of tickets, in four queries however long the list
    (people, incidents of problem tickets, the fields' fingerprint, ratings).

    ``known``: {ticket id: (email CC ids, follower ids)} for tickets the caller has just
    created and holds as written (no rating yet): their people and rating are not read."""
    tickets = list(tickets)
    if not tickets:
        return []
    known = known or {}
    ids = [t.pk for t in tickets if t.pk not in known]
    ccs: dict[int, list[int]] = defaultdict(list)
    followers: dict[int, list[int]] = defaultdict(list)
    for ticket_id, (cc_ids, follower_ids) in known.items():
        ccs[ticket_id], followers[ticket_id] = list(cc_ids), list(follower_ids)
    if ids:
        for is_cc, ticket_id, user_id in _people(ids):
            (ccs if is_cc else followers)[ticket_id].append(user_id)
    problems = [t.pk for t in tickets if t.type == TicketType.PROBLEM]
    with_incidents = (
        set(
            Ticket.objects.filter(problem_id__in=problems, deleted_at__isnull=True).values_list(
                "problem_id", flat=True
            )
        )
        if problems
        else set()
    )
    fields = active_fields_in_order()
    viewer = getattr(request, "auth", None)  # the API caller
    if viewer is None or not viewer.is_agent:  # customers see the portal's fields only
        fields = [f for f in fields if f.visible_in_portal]
    ratings = satisfaction_ratings(ids) if ids else {}
    return [
        _ticket_json(
            request,
            t,
            ccs=sorted(ccs.get(t.pk, [])),
            followers=sorted(followers.get(t.pk, [])),
            has_incidents=t.pk in with_incidents,
            fields=fields,
            rating=ratings.get(t.pk),
        )
        for t in tickets
    ]


def _people(ticket_ids: Sequence[int]) -> list[tuple[int, int, int]]:
    """(1 for an email CC / 0 for a follower, ticket id, user id) of these tickets, in one
    statement (two ORM queries cost a ticket show a round trip and ~0.2 ms of compiling)."""
    marks = ", ".join(["%s"] * len(ticket_ids))
    sql = " UNION ALL ".join(
        f"SELECT {is_cc}, ticket_id, user_id FROM {connection.ops.quote_name(table)} "  # noqa: S608 - table names from the models
        f"WHERE ticket_id IN ({marks})"
        for is_cc, table in (
            (1, Ticket.email_ccs.through._meta.db_table),
            (0, Ticket.followers.through._meta.db_table),
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ticket_ids, *ticket_ids])
        return cursor.fetchall()


def ticket_json(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    return tickets_json(request, [ticket])[0]


def _ticket_json(
    request: HttpRequest,
    t: Ticket,
    *,
    ccs: list[int],
    followers: list[int],
    has_incidents: bool,
    fields: Sequence[TicketField],
    rating: dict[str, Any] | None,
) -> dict[str, Any]:
    field_values = _field_list(fields, t)
    to = (t.via_source or {}).get("to")
    recipient = to.get("address") if isinstance(to, dict) else None
    return {
        "id": t.pk,
        "url": api_url(request, f"tickets/{t.pk}"),
        "external_id": t.external_id,
        "via": via_json(t.via_channel, t.via_source),
        "created_at": timestamp(t.created_at),
        "updated_at": timestamp(t.updated_at),
        "generated_timestamp": int(t.updated_at.timestamp()),
        "type": t.type,
        "subject": t.subject,
        "raw_subject": t.subject,
        "description": t.description,
        "priority": t.priority,
        "status": "deleted" if t.deleted_at is not None else t.status,
        "custom_status_id": t.custom_status_id,
        "recipient": recipient,
        "requester_id": t.requester_id,
        "submitter_id": t.submitter_id,
        "assignee_id": t.assignee_id,
        "organization_id": t.organization_id,
        "group_id": t.group_id,
        "collaborator_ids": ccs,
        "follower_ids": followers,
        "email_cc_ids": ccs,
        "forum_topic_id": None,
        "problem_id": t.problem_id,
        "has_incidents": has_incidents,
        "is_public": t.is_public,
        "due_at": timestamp(t.due_at),
        "tags": list(t.tags),
        "custom_fields": field_values,
        "fields": field_values,
        "satisfaction_rating": rating,
        "sharing_agreement_ids": [],
        "followup_ids": [],
        "ticket_form_id": None,
        "brand_id": None,
        "allow_channelback": False,
        "allow_attachments": True,
        "from_messaging_channel": False,
    }


def attachment_json(request: HttpRequest, a: Attachment) -> dict[str, Any]:
    content_url = request.build_absolute_uri(
        reverse(
            "tickets:attachment_download",
            kwargs={"attachment_id": a.pk, "file_name": a.file_name},
        )
    )
    return {
        "id": a.pk,
        "url": api_url(request, f"attachments/{a.pk}"),
        "file_name": a.file_name,
        "content_url": content_url,
        "mapped_content_url": content_url,
        "content_type": a.content_type,
        "size": a.size,
        "width": None,
        "height": None,
        "inline": a.inline,
        "deleted": False,
        "thumbnails": [],
    }


def comments_json(
    request: HttpRequest,
    comments: Iterable[Comment],
    *,
    audit_ids: dict[int, int] | None = None,
    attachments: Mapping[int, Sequence[Attachment]] | None = None,
) -> list[dict[str, Any]]:
    """Zendesk's comment JSON for a list, in two queries (attachments, audit ids; the second
    is skipped when the caller has read the comments' events and passes ``audit_ids``, the
    first when it passes every comment's ``attachments``)."""
    comments = list(comments)
    ids = [c.pk for c in comments]
    files: dict[int, list[Attachment]] = defaultdict(list)
    if attachments is not None and all(pk in attachments for pk in ids):
        for pk in ids:
            files[pk] = sorted(attachments[pk], key=lambda a: a.pk)
    elif ids:
        for attachment in Attachment.objects.filter(comment_id__in=ids).order_by("id"):
            files[attachment.comment_id].append(attachment)  # type: ignore[index]
    if audit_ids is None:
        # A comment's event has the comment's id (tickets.actions.audit).
        audit_ids = dict(AuditEvent.objects.filter(pk__in=ids).values_list("pk", "audit_id"))
    return [
        {
            "id": c.pk,
            "type": "Comment",
            "author_id": c.author_id,
            "body": c.body,
            "html_body": c.html_body,
            "plain_body": c.body,
            "public": c.public,
            "attachments": [attachment_json(request, a) for a in files.get(c.pk, [])],
            "audit_id": audit_ids.get(c.pk),
            "via": via_json(c.via_channel, c.via_source),
            "created_at": timestamp(c.created_at),
            "metadata": c.metadata or {"system": {}, "custom": {}},
        }
        for c in comments
    ]


def _event_json(
    request: HttpRequest, event: AuditEvent, comments: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    if event.type == EventType.COMMENT and event.comment_id in comments:
        comment = dict(comments[event.comment_id])
        comment.pop("via", None)
        comment.pop("created_at", None)
        comment.pop("metadata", None)
        return comment
    data: dict[str, Any] = {"id": event.pk, "type": event.type}
    if event.field_name:
        data["field_name"] = event.field_name
    data["value"] = event.value
    if event.type == EventType.CHANGE:
        data["previous_value"] = event.previous_value
    if event.via:
        data["via"] = event.via
    return data


# What an end user's audit shows besides public comments (the portal's status timeline).
END_USER_AUDIT_FIELDS = frozenset({"subject", "status", "priority", "type", "requester_id"})


def _end_user_may_see(event: AuditEvent) -> bool:
    if event.type in (EventType.COMMENT, EventType.SATISFACTION_RATING):
        return True
    return (
        event.type in (EventType.CREATE, EventType.CHANGE)
        and event.field_name in END_USER_AUDIT_FIELDS
    )


def audits_json(
    request: HttpRequest,
    audits: Iterable[Audit],
    *,
    public_only: bool = False,
    known_comments: Sequence[tuple[Comment, Sequence[Attachment]]] = (),
) -> list[dict[str, Any]]:
    """Zendesk's audit JSON (with events) for a list of audits, in three queries.

    ``public_only`` (end users) keeps only what the portal shows: public comments and the
    changes of ``END_USER_AUDIT_FIELDS``; internal notes, notifications sent to agents, SLA
    events and agent-only fields are left out. ``known_comments``: (comment, its attachments)
    the caller has just written; when the events name no other comment, neither comments
    nor attachments are read."""
    audits = list(audits)
    events: dict[int, list[AuditEvent]] = defaultdict(list)
    for event in AuditEvent.objects.filter(audit_id__in=[a.pk for a in audits]).order_by("id"):
        events[event.audit_id].append(event)
    comment_ids = [e.comment_id for es in events.values() for e in es if e.comment_id]
    known = {c.pk: (c, files) for c, files in known_comments}
    comment_rows: Iterable[Comment]
    attachments: dict[int, Sequence[Attachment]] | None = None
    if comment_ids and all(pk in known for pk in comment_ids):
        comment_rows = [
            known[pk][0]
            for pk in sorted(set(comment_ids))
            if not public_only or known[pk][0].public
        ]
        attachments = {pk: known[pk][1] for pk in comment_ids}
    else:
        comment_rows = Comment.objects.filter(pk__in=comment_ids)
        if public_only:
            comment_rows = comment_rows.filter(public=True)
    audit_of = {e.pk: e.audit_id for es in events.values() for e in es if e.pk == e.comment_id}
    comments = {
        c["id"]: c
        for c in comments_json(request, comment_rows, audit_ids=audit_of, attachments=attachments)
    }
    result = []
    for audit in audits:
        shown = [
            _event_json(request, e, comments)
            for e in events.get(audit.pk, [])
            if not (e.type == EventType.COMMENT and e.comment_id not in comments)
            and (not public_only or _end_user_may_see(e))
        ]
        result.append(
            {
                "id": audit.pk,
                "ticket_id": audit.ticket_id,
                "created_at": timestamp(audit.created_at),
                "author_id": audit.author_id if audit.author_id is not None else -1,
                "metadata": audit.metadata or {"system": {}, "custom": {}},
                "via": via_json(audit.via_channel, audit.via_source),
                "events": shown,
            }
        )
    return result


# --- input schemas ----------------------------------------------------------------------------
# Unknown keys are ignored (Zendesk clients send whole objects back); only the keys a client
# sends are applied (``model_fields_set``).


class CommentIn(Schema):
    body: str | None = None
    html_body: str | None = None
    public: bool = True
    author_id: int | None = None
    uploads: list[str] = []


class RequesterIn(Schema):
    name: str | None = None
    email: str | None = None
    locale_id: int | None = None


class FieldValueIn(Schema):
    id: int
    value: Any = None


class TicketIn(Schema):
    subject: str | None = None
    raw_subject: str | None = None
    description: str | None = None
    comment: CommentIn | None = None
    requester_id: int | None = None
    requester: RequesterIn | None = None
    submitter_id: int | None = None
    assignee_id: int | None = None
    assignee_email: str | None = None
    group_id: int | None = None
    organization_id: int | None = None
    collaborator_ids: list[int] | None = None
    email_cc_ids: list[int] | None = None
    follower_ids: list[int] | None = None
    tags: list[str] | None = None
    additional_tags: list[str] | None = None
    remove_tags: list[str] | None = None
    status: str | None = None
    custom_status_id: int | None = None
    priority: str | None = None
    type: str | None = None
    external_id: str | None = None
    problem_id: int | None = None
    due_at: str | None = None
    custom_fields: list[FieldValueIn] | None = None
    fields: list[FieldValueIn] | None = None


class TicketInEnvelope(Schema):
    ticket: TicketIn


class TicketAuditEnvelope(Schema):
    ticket: TicketOut
    audit: AuditOut | None


class TicketsEnvelope(Schema):
    tickets: list[TicketOut]


class TicketsInEnvelope(Schema):
    tickets: list[TicketIn]


class TicketWithIdIn(TicketIn):
    id: int


class UpdateManyIn(Schema):
    """Zendesk's two forms: ``?ids=1,2`` + ``{"ticket": {...}}`` (the same change to each),
    or ``{"tickets": [{"id": 1, ...}, ...]}`` (a change per ticket)."""

    ticket: TicketIn | None = None
    tickets: list[TicketWithIdIn] | None = None


class UploadOut(Schema):
    token: str
    expires_at: str | None
    attachment: AttachmentOut
    attachments: list[AttachmentOut]


class UploadEnvelope(Schema):
    upload: UploadOut


def upload_json(request: HttpRequest, attachment: Attachment) -> dict[str, Any]:
    data = attachment_json(request, attachment)
    return {
        "token": attachment.token,
        "expires_at": None,
        "attachment": data,
        "attachments": [data],
    }
