"""API test helpers: a token per persona and a client that sends it."""

import base64
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.core.cache import cache
from django.db import connections
from django.test import Client
from zenpy import Zenpy

from kefu.accounts import actions as accounts
from kefu.accounts.models import User
from kefu.tickets import actions as tickets
from kefu.tickets.models import Ticket


class ApiClient:
    """The Django test client speaking JSON with a Bearer token (or Basic email/token)."""

    def __init__(self, user: User | None, *, basic: bool = False) -> None:
        self.client = Client()
        self.headers: dict[str, str] = {}
        if user is not None:
            _record, token = accounts.create_api_token(user=user)
            if basic:
                raw = f"{user.email}/token:{token}".encode()
                self.headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
            else:
                self.headers["Authorization"] = f"Bearer {token}"

    def _send(self, method: str, path: str, data: Any = None, **extra: Any) -> Any:
        body = data if isinstance(data, bytes | str) or data is None else json.dumps(data)
        headers = {**self.headers, **extra.pop("headers", {})}
        send = getattr(self.client, method)
        return send(
            f"/api/v2/{path}", data=body, content_type="application/json", headers=headers, **extra
        )

    def get(self, path: str, **extra: Any) -> Any:
        headers = {**self.headers, **extra.pop("headers", {})}
        return self.client.get(f"/api/v2/{path}", headers=headers, **extra)

    def post(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self._send("post", path, data, **extra)

    def put(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self._send("put", path, data, **extra)

    def delete(self, path: str, **extra: Any) -> Any:
        return self._send("delete", path, None, **extra)


@pytest.fixture(autouse=True)
def _fresh_cache():  # type: ignore[no-untyped-def]
    # Rate-limit windows and idempotency records must not leak between tests.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api(personas):  # type: ignore[no-untyped-def]
    """``api(persona)`` -> an ApiClient authenticated as that person."""
    return lambda user, **kw: ApiClient(user, **kw)


def make_ticket(requester: User, subject: str = "Printer on fire", **data: Any) -> Ticket:
    return tickets.create_ticket(
        actor=requester,
        data=tickets.TicketData(subject=subject, **data),
        comment=tickets.NewComment(body=f"{subject}: please help"),
    )


# --- The real Zendesk client (zenpy) against the live server ---------------------------------


@pytest.fixture
def shared_connection(live_server):  # type: ignore[no-untyped-def]
    """On in-memory SQLite the server threads must use this test's connection object (the
    session-wide live server captured an older one, which fails Django's thread check)."""
    override = live_server.thread.connections_override
    conn = connections["default"]
    previous = override.get("default")
    if previous is None or previous is conn:
        yield
        return
    conn.inc_thread_sharing()
    override["default"] = conn
    yield
    override["default"] = previous
    conn.dec_thread_sharing()


@pytest.fixture
def zenpy_for(live_server, shared_connection, monkeypatch):  # type: ignore[no-untyped-def]
    """zenpy clients for people, pointed at the live server (``ZENPY_FORCE_*``, see
    test_zenpy.py). Each has its own requests session, closed after the test: an open
    keep-alive socket keeps its server thread, and that thread's database connection,
    alive past the test database's teardown."""
    netloc = urlsplit(live_server.url).netloc
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", netloc)

    sessions: list[requests.Session] = []

    def make(user, **options):  # type: ignore[no-untyped-def]
        _record, token = accounts.create_api_token(user=user)
        session = requests.Session()
        sessions.append(session)
        return Zenpy(subdomain="kefu", email=user.email, token=token, session=session, **options)

    yield make
    for session in sessions:  # close keep-alive sockets while the server may still answer
        session.close()
