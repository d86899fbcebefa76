"""The ticket page's conversation, rendered in Python.

A 50-comment ticket drew ~600 template nodes per page (avatar, author, badges, channel,
dates, attachments for each comment) and that loop was most of the page's time (bench/
RESULTS.md, issue 4). As for the view list's rows (``rows.py``), each message is one
``format_html`` call with the translated words looked up once per page; the markup is the
one the template had (classes, ids, ``<time>``), so the stylesheet and tests read it alike.
"""

from collections.abc import Iterable

from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from ..models import Attachment, Comment


def attachments_by_comment(comments: list[Comment]) -> dict[int, list[Attachment]]:
    """The comments' attachments in one query (a prefetch costs more: a related manager per
    comment)."""
    found: dict[int, list[Attachment]] = {}
    rows = Attachment.objects.filter(comment__in=[c.pk for c in comments]).only(
        "id", "comment_id", "file_name", "size"
    )
    for attachment in rows.order_by("id"):
        found.setdefault(attachment.comment_id, []).append(attachment)  # type: ignore[arg-type]
    return found


def thread_items(comments: Iterable[Comment]) -> list[SafeString]:
    """One ``<li class="thread__item">`` per comment (``author`` selected)."""
    comments = list(comments)
    files_of = attachments_by_comment(comments)
    note_badge = format_html('<span class="badge badge--note">{}</span>', _("Internal note"))
    via = _("via %(channel)s")
    attachments_label = _("Attachments")
    channels: dict[str, str] = {}
    items = []
    for comment in comments:
        channel = channels.get(comment.via_channel)
        if channel is None:
            channel = channels[comment.via_channel] = comment.get_via_channel_display()
        author = comment.author
        created = timezone.localtime(comment.created_at)
        files = files_of.get(comment.pk, ())
        attachments = (
            format_html(
                '<ul class="attachments" aria-label="{}">{}</ul>',
                attachments_label,
                format_html_join(
                    "",
                    '<li><a href="{}">📎 {}</a> <span class="subtle">{}</span></li>',
                    (
                        (
                            reverse("tickets:attachment_download", args=[a.id, a.file_name]),
                            a.file_name,
                            filesizeformat(a.size),
                        )
                        for a in files
                    ),
                ),
            )
            if files
            else ""
        )
        items.append(
            format_html(
                '<li class="thread__item{}" id="comment-{}"><div class="thread__head">'
                '<span class="avatar{}" aria-hidden="true">{}</span>'
                '<span class="thread__author">{}</span>{}'
                '<span class="subtle">{}</span>'
                '<time class="subtle thread__time" datetime="{}">{}</time></div>'
                '<div class="thread__body wrap">{}</div>{}</li>',
                "" if comment.public else " thread__item--note",
                comment.id,
                " avatar--agent" if author.is_agent else "",
                author.name[:1].upper(),
                author.name,
                "" if comment.public else note_badge,
                via % {"channel": channel},
                created.isoformat(),
                date_format(created, "DATETIME_FORMAT"),
                mark_safe(comment.html_body),  # noqa: S308 - sanitized when written
                attachments,
            )
        )
    return items
