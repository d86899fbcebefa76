"""The full original of an emailed comment, one click away from the folded thread."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from kefu.core.html import sanitize_html, text_to_html
from kefu.tickets.access import visible_comments, visible_tickets
from kefu.tickets.models import Comment

from .inbound import original_of
from .models import InboundMessage


def _inbound_of(request: HttpRequest, comment_id: int) -> tuple[Comment, InboundMessage]:
    """The comment and its message, if the signed-in person may read the comment (else 404)."""
    user = request.user
    comment = Comment.objects.select_related("ticket").filter(pk=comment_id).first()
    if comment is None or not visible_tickets(user).filter(pk=comment.ticket_id).exists():  # type: ignore[arg-type]
        raise Http404
    if not visible_comments(user, comment.ticket).filter(pk=comment.pk).exists():  # type: ignore[arg-type]
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
