"""Helpers for email tests: raw messages built byte by byte, and delivery through the pipeline."""

import base64
import itertools
from collections.abc import Callable

import pytest

from kefu.channels.email import actions
from kefu.channels.email.models import InboundMessage, SupportAddress

SUPPORT = "support@kefu.test"
_numbers = itertools.count(1)


def b64word(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def raw_mail(
    *,
    sender: str = "Bob <bob@acme.test>",
    to: str = SUPPORT,
    subject: str = "Printer on fire",
    body: str = "It is really on fire.",
    charset: str = "utf-8",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    html: str | None = None,
) -> bytes:
    """A simple message; ``body`` is encoded in ``charset`` (base64)."""
    message_id = message_id or f"<m{next(_numbers)}@mail.example>"
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Message-ID: {message_id}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines.append("MIME-Version: 1.0")
    encoded = base64.encodebytes(body.encode(charset)).decode().strip().replace("\n", "\r\n")
    if html is None:
        lines += [
            f"Content-Type: text/plain; charset={charset}",
            "Content-Transfer-Encoding: base64",
            "",
            encoded,
        ]
    else:
        html_encoded = (
            base64.encodebytes(html.encode(charset)).decode().strip().replace("\n", "\r\n")
        )
        lines += [
            'Content-Type: multipart/alternative; boundary="ALT"',
            "",
            "--ALT",
            f"Content-Type: text/plain; charset={charset}",
            "Content-Transfer-Encoding: base64",
            "",
            encoded,
            "--ALT",
            f"Content-Type: text/html; charset={charset}",
            "Content-Transfer-Encoding: base64",
            "",
            html_encoded,
            "--ALT--",
        ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


@pytest.fixture
def support_address(personas) -> SupportAddress:  # type: ignore[no-untyped-def]
    return actions.create_support_address(
        email=SUPPORT, name="Kefu Support", group=personas.support
    )


@pytest.fixture
def deliver(support_address, django_capture_on_commit_callbacks) -> Callable[..., InboundMessage]:  # type: ignore[no-untyped-def]
    """Store a raw message for the support address and run its processing (after commit)."""

    def deliver(raw: bytes, *, to: str = SUPPORT) -> InboundMessage:
        with django_capture_on_commit_callbacks(execute=True):
            rows = actions.store_inbound(raw=raw, recipients=[to], envelope_from="")
        rows[0].refresh_from_db()
        return rows[0]

    return deliver


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Captured:
    """Messages a real SMTP server (aiosmtpd) received from Kefu."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse: str | None = None  # an SMTP reply to give instead of 250

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.refuse:
            return self.refuse
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def parsed(self):  # type: ignore[no-untyped-def]
        import email
        from email import policy

        return [
            email.message_from_bytes(raw, policy=policy.default) for _f, _t, raw in self.messages
        ]


@pytest.fixture
def outbox(settings):  # type: ignore[no-untyped-def]
    """A real SMTP server on a free port, and Kefu's mailer pointed at it."""
    from aiosmtpd.controller import Controller

    captured = Captured()
    port = free_port()
    controller = Controller(captured, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    try:
        yield captured
    finally:
        controller.stop()
