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
        # one entry per message: the SMTP session it came in (kept, so ids stay unique)
        self.sessions: list[object] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.refuse:
            return self.refuse
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        self.sessions.append(session)
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


# --- A real Dovecot IMAP server -----------------------------------------------------------------

DOVECOT_USERS = [f"box{n}" for n in range(1, 301)] + ["oauthbox"]


class Dovecot:
    def __init__(self, root: "object", port: int, oauth_port: int) -> None:
        self.root = root
        self.port = port
        self.oauth_port = oauth_port

    def add_user(self, name: str) -> str:
        """A user of the server. Users are written at start (password "secret"): Dovecot
        notices a changed passwd file only by its modification time, which can lag."""
        assert name in DOVECOT_USERS, name
        return name

    def append(
        self,
        user: str,
        raw: bytes,
        *,
        folder: str = "INBOX",
        password: str = "secret",
    ) -> None:
        import imaplib

        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        try:
            conn.login(user, password)
            if folder != "INBOX":
                conn.create(folder)
            conn.append(folder, None, None, raw)
        finally:
            conn.logout()

    def count(self, user: str, *, folder: str = "INBOX", criteria: str = "ALL") -> int:
        import imaplib

        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        try:
            conn.login(user, "secret")
            conn.select(folder)
            _typ, data = conn.search(None, criteria)
            return len((data[0] or b"").split())
        finally:
            conn.logout()


class OAuthServer:
    """A token endpoint (refresh → access token) and Dovecot's token-info endpoint."""

    def __init__(self) -> None:
        import http.server
        import json
        import threading
        import urllib.parse

        self.tokens: dict[str, str] = {}  # access token -> user name
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> user name
        self.refreshes = 0
        server_self = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # type: ignore[no-untyped-def]
                pass

            def _json(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):  # type: ignore[no-untyped-def]
                length = int(self.headers.get("Content-Length", 0))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                user = server_self.refresh_tokens.get(form.get("refresh_token", [""])[0])
                if user is None:
                    self._json(400, {"error": "invalid_grant"})
                    return
                server_self.refreshes += 1
                token = f"at-{user}-{server_self.refreshes}"
                server_self.tokens[token] = user
                self._json(200, {"access_token": token, "expires_in": 3600})

            def do_GET(self):  # type: ignore[no-untyped-def]
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                token = query.get("access_token", [""])[0]
                user = server_self.tokens.get(token)
                if user is None:
                    self._json(401, {"error": "invalid_token"})
                    return
                self._json(200, {"email": user, "active": "true"})

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="session")
def oauth_server():  # type: ignore[no-untyped-def]
    server = OAuthServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dovecot(oauth_server):  # type: ignore[no-untyped-def]
    """Dovecot on 127.0.0.1:<free port> with a throwaway config, for the whole session."""
    import os

    from .dovecot import DovecotNotInstalled, DovecotNotStarted, running_dovecot

    try:
        with running_dovecot(
            users=DOVECOT_USERS, port=free_port(), oauth_port=oauth_server.port
        ) as (root, port):
            yield Dovecot(root, port, oauth_server.port)
    except DovecotNotInstalled as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    except DovecotNotStarted as exc:
        pytest.fail(str(exc))
