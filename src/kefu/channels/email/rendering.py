"""Admin-written email templates, rendered safely.

Templates use Django's ``{{ variable }}`` syntax and nothing else: the engine has no tags and no
filters at all (``{% ... %}`` and ``|filter`` are syntax errors), and the context is a
precomputed tree of plain strings. Ticket content is only ever a *value* — a customer who
writes ``{{ ticket.requester.email }}`` or ``{% load %}`` into a ticket gets that text back
verbatim, never evaluated. Strings cannot reach models, settings or the database.
"""

import functools
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import override

from kefu.accounts.models import User
from kefu.core.html import sanitize_html
from kefu.tickets.models import Ticket

from . import config
from .defaults import DEFAULT_TEMPLATES

LOCALES = ("zh-hans", "en")


def _engine(*, autoescape: bool) -> Engine:
    engine = Engine(autoescape=autoescape, debug=False, loaders=[], libraries={}, builtins=[])
    # Engine always adds Django's default tags and filters; take them all away again.
    engine.template_builtins = []
    engine.template_libraries = {}
    return engine


_TEXT_ENGINE = _engine(autoescape=False)
_HTML_ENGINE = _engine(autoescape=True)


@functools.lru_cache(maxsize=256)
def _compiled(text: str, *, html: bool) -> Template:
    """Templates are compiled once per process (compiling took longer than rendering); a
    compiled Template holds no state between renders, so threads share it."""
    return (_HTML_ENGINE if html else _TEXT_ENGINE).from_string(text)


def check_template(text: str, *, field: str) -> None:
    """Refuse a template that is not plain text with ``{{ placeholders }}``."""
    try:
        _compiled(text, html=False)
    except TemplateSyntaxError as exc:
        raise ValidationError(
            {field: [_("Only {{ placeholders }} are allowed here: %(error)s") % {"error": exc}]}
        ) from None


def render_text(text: str, context: dict[str, Any]) -> str:
    return _compiled(text, html=False).render(Context(context, autoescape=False))


def render_html(text: str, context: dict[str, Any]) -> str:
    """The template as HTML: values escaped, paragraphs and line breaks kept, sanitized."""
    rendered = _compiled(text, html=True).render(Context(context, autoescape=True))
    paragraphs = [p for p in rendered.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return sanitize_html(
        "".join(f"<p>{p.strip().replace(chr(10), '<br>')}</p>" for p in paragraphs)
    )


def locale_of(person: User | None) -> str:
    locale = (person.locale if person else "").lower()
    if locale.startswith("zh"):
        return "zh-hans"
    if locale.startswith("en"):
        return "en"
    return config.current().settings.default_locale


def ticket_url(ticket: Ticket | int, *, for_agent: bool) -> str:
    """The ticket's page for an agent, or its help-center request page for a customer, on
    ``KEFU_BASE_URL`` (mail is read outside any request, so never a request's host)."""
    ticket_id = ticket if isinstance(ticket, int) else ticket.pk
    name = "tickets:ticket" if for_agent else "portal:request"
    return settings.BASE_URL + reverse(name, kwargs={"ticket_id": ticket_id})


def ticket_context(
    ticket: Ticket,
    *,
    recipient: User | None,
    expected_response: str = "",
    latest_public_comment: str | None = None,
) -> dict[str, Any]:
    """The strings a template may show (``docs/email.md`` lists them).
    ``latest_public_comment``: its text when the caller knows it (else it is read)."""
    locale = locale_of(recipient)
    if latest_public_comment is None:
        latest = (
            ticket.comments.filter(public=True).order_by("-created_at", "-id").only("body").first()
        )
        latest_public_comment = latest.body if latest else ""
    with override(locale):
        status = (
            str(ticket.custom_status.label_for_end_user(locale))
            if recipient and not (recipient.is_agent)
            else str(ticket.custom_status.label_for_agent(locale))
        )
        priority = str(ticket.get_priority_display()) if ticket.priority else ""

    def person(user: User | None) -> dict[str, str]:
        return {"name": user.name if user else "", "email": (user.email or "") if user else ""}

    return {
        "ticket": {
            "id": str(ticket.pk),
            "title": ticket.subject,
            "subject": ticket.subject,
            "description": ticket.description,
            "status": status,
            "priority": priority,
            "url": ticket_url(ticket, for_agent=bool(recipient and recipient.is_agent)),
            "latest_public_comment": latest_public_comment,
            "requester": person(ticket.requester),
            "assignee": person(ticket.assignee),
            "group": {"name": ticket.group.name if ticket.group else ""},
            "organization": {"name": ticket.organization.name if ticket.organization else ""},
            "expected_response": expected_response,
        },
        "recipient": person(recipient),
    }


def template_for(key: str, locale: str) -> tuple[str, str]:
    """(subject, body) of the admin's template for ``key`` in ``locale`` (else the default)."""
    templates = config.current().templates
    found = templates.get((key, locale)) or next(
        (templates[k] for k in sorted(templates) if k[0] == key), None
    )
    if found is not None:
        return found
    subject, body = DEFAULT_TEMPLATES[key].get(locale) or DEFAULT_TEMPLATES[key]["en"]
    return subject, body


_SAMPLE = {
    "zh-hans": {
        "requester": "王小明", "agent": "李客服", "title": "打印机无法开机",
        "description": "按下电源键后没有任何反应。", "status": "处理中", "priority": "高",
        "comment": "请尝试更换电源线。", "group": "一线支持", "organization": "示例公司",
        "expected": "我们通常在一个工作日内答复。",
    },
    "en": {
        "requester": "Jane Doe", "agent": "Alex Agent", "title": "The printer does not turn on",
        "description": "Nothing happens when I press power.", "status": "Open",
        "priority": "High", "comment": "Please try another cable.", "group": "Support",
        "organization": "Example Ltd", "expected": "We usually answer within one working day.",
    },
}  # fmt: skip


def sample_context(locale: str) -> dict[str, Any]:
    """A made-up ticket for previews in the admin pages (same shape as ``ticket_context``)."""
    text = _SAMPLE.get(locale, _SAMPLE["en"])
    requester = {"name": text["requester"], "email": "customer@example.com"}
    return {
        "ticket": {
            "id": "1234",
            "title": text["title"],
            "subject": text["title"],
            "description": text["description"],
            "status": text["status"],
            "priority": text["priority"],
            "url": ticket_url(1234, for_agent=False),
            "latest_public_comment": text["comment"],
            "requester": requester,
            "assignee": {"name": text["agent"], "email": "agent@example.com"},
            "group": {"name": text["group"]},
            "organization": {"name": text["organization"]},
            "expected_response": text["expected"],
        },
        "recipient": requester,
    }
