"""The full original of an emailed comment, one click away from the folded thread."""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.html import sanitize_html, text_to_html
from kefu.tickets.access import visible_comments, visible_tickets
from kefu.tickets.models import Comment
from kefu.web.admin.decorators import admin_required

from . import inbound as pipeline
from .choices import InboundState, TemplateKey
from .inbound import original_of
from .models import EmailSettings, InboundMessage, Mailbox, SupportAddress


def _inbound_of(request: HttpRequest, comment_id: int) -> tuple[Comment, InboundMessage]:
    """The comment and its message, if the signed-in person may read the comment (else 404)."""
    user = request.user
    comment = Comment.objects.select_related("ticket").filter(pk=comment_id).first()
    if comment is None or not visible_tickets(user).filter(pk=comment.ticket_id).exists():  # type: ignore[arg-type]
        raise Http404
    if not visible_comments(user, comment.ticket).filter(pk=comment.pk).exists():  # type: ignore[arg-type]
        raise Http404
    # The full original keeps quoted history: an agent's emailed reply can quote an internal
    # note. Customers see only the originals of their own messages.
    if not user.is_agent and comment.author_id != user.pk:  # type: ignore[union-attr]
        raise Http404
    inbound_id = (comment.metadata.get("email") or {}).get("inbound_id")
    inbound = InboundMessage.objects.filter(pk=inbound_id).first() if inbound_id else None
    if inbound is None or not inbound.raw:
        raise Http404
    return comment, inbound


@login_required
def original_message(request: HttpRequest, comment_id: int) -> HttpResponse:
    """The whole message as it arrived (quoted history and signature included), sanitized."""
    comment, inbound = _inbound_of(request, comment_id)
    original = original_of(inbound)
    body = sanitize_html(original.html) if original.html.strip() else text_to_html(original.text)
    response = render(
        request,
        "email/original.html",
        {"comment": comment, "original": original, "body": body, "inbound": inbound},
    )
    # Even sanitized mail HTML gets no scripts, no forms and no third-party loads here.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self' data:"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def original_source(request: HttpRequest, comment_id: int) -> HttpResponse:
    """The raw message (.eml), for agents only."""
    if not request.user.is_agent:  # type: ignore[union-attr]
        raise Http404
    _comment, inbound = _inbound_of(request, comment_id)
    response = HttpResponse(bytes(inbound.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="message-{inbound.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Admin settings: the email page ----------------------------------------------------------


LIST_LIMIT = 100


@admin_required
def admin_email(request: HttpRequest) -> HttpResponse:
    """Support addresses, mailboxes (with their errors), quarantine and suspended tickets."""
    held = InboundMessage.objects.defer("raw").order_by("-received_at", "-id")
    addresses = list(SupportAddress.objects.select_related("group"))
    return render(
        request,
        "email/admin.html",
        {
            "section": "email",
            "addresses": addresses,
            # Not saved yet (it is at the next `kefu migrate`/start or address change): shown,
            # since mail to it is already answered; the page itself writes nothing.
            "unsaved_address": "" if addresses else settings.SUPPORT_EMAIL,
            "settings": EmailSettings.load(),
            "templates": [
                (key, label, [("zh-hans", "简体中文"), ("en", "English")])
                for key, label in TemplateKey.choices
            ],
            "mailboxes": Mailbox.objects.select_related("support_address"),
            "quarantined": held.filter(state=InboundState.QUARANTINED)[:LIST_LIMIT],
            "suspended": held.filter(state=InboundState.SUSPENDED)[:LIST_LIMIT],
        },
    )


def _held(pk: int, state: str) -> InboundMessage:
    message = InboundMessage.objects.defer("raw").filter(pk=pk, state=state).first()
    if message is None:
        raise Http404
    return message


def _queue(request: HttpRequest, queue: Callable[[], None]) -> HttpResponse:
    try:
        queue()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        queued = _("The message was queued for processing; it is listed here again if it fails.")
        messages.success(request, queued)
    return redirect("email:admin")


@admin_required
@require_POST
def admin_retry(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _held(message_id, InboundState.QUARANTINED)
    return _queue(request, lambda: pipeline.queue_retry(message))


@admin_required
@require_POST
def admin_recover(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _held(message_id, InboundState.SUSPENDED)
    return _queue(request, lambda: pipeline.queue_recover(message))


@admin_required
@require_POST
def admin_delete(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _held(message_id, InboundState.SUSPENDED)
    try:
        pipeline.delete_suspended(message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The message was deleted."))
    return redirect("email:admin")
