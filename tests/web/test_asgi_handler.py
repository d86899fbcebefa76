"""kefu.asgi.Handler: the whole request (middleware, view, closing) runs in one switch from
the event loop to the request's thread; static files still go through ServeStatic; streamed
downloads, POST bodies and errors come out as Django's own handler gives them."""

import asyncio
import base64
import json
from typing import Any

import pytest
from asgiref import sync
from django.db import connections
from django.test import Client

from kefu.accounts import actions as accounts
from kefu.asgi import Handler, ReusedThreads
from kefu.tickets.actions import NewComment, TicketData, add_comment, create_ticket, create_upload

# The requests run on the server's own threads and connections: committed data only.
# serialized_rollback: the flush after each test would wipe rows the migrations wrote.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(scope="module")
def application() -> ReusedThreads:
    return ReusedThreads(Handler())


def call(
    app: ReusedThreads,
    method: str,
    path: str,
    *,
    query: str = "",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request as uvicorn hands it over; returns status, headers and the body."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query.encode(), "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"127.0.0.1"), (b"content-length", str(len(body)).encode()),
                    *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items())],
    }  # fmt: skip
    answer: dict[str, Any] = {"status": 0, "headers": {}, "body": b""}
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode().lower(): v.decode() for k, v in message["headers"]}
        else:
            answer["body"] += message.get("body", b"")

    async def run() -> None:
        await app(scope, receive, send)

    asyncio.run(run())
    return answer["status"], answer["headers"], answer["body"]


@pytest.fixture(autouse=True)
def _close_server_connections(application):  # type: ignore[no-untyped-def]
    yield
    # The server's threads hold connections of their own; let the test database go.
    for executor in application.idle:
        executor.submit(connections.close_all).result()


@pytest.fixture
def hops(monkeypatch):  # type: ignore[no-untyped-def]
    """Counts switches between the event loop and threads (both directions)."""
    counted: list[str] = []
    to_thread, to_loop = sync.SyncToAsync.__call__, sync.AsyncToSync.__call__

    def counting_to_thread(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        counted.append("to thread")
        return to_thread(self, *args, **kwargs)

    def counting_to_loop(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        counted.append("to loop")
        return to_loop(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counting_to_thread)
    monkeypatch.setattr(sync.AsyncToSync, "__call__", counting_to_loop)
    return counted


def basic_auth(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    _record, token = accounts.create_api_token(user=user)
    raw = base64.b64encode(f"{user.email}/token:{token}".encode()).decode()
    return {"Authorization": f"Basic {raw}", "Content-Type": "application/json"}


def test_an_api_request_switches_to_its_thread_once(application, personas, hops):
    ticket = create_ticket(
        actor=personas.bob, data=TicketData(subject="打印机"), comment=NewComment(body="Hi")
    )
    headers = basic_auth(personas.alice)
    hops.clear()
    status, answer_headers, body = call(
        application, "GET", f"/api/v2/tickets/{ticket.pk}.json", headers=headers
    )
    assert status == 200
    assert json.loads(body)["ticket"]["subject"] == "打印机"
    assert answer_headers["x-rate-limit"]  # the API middleware ran
    assert answer_headers["x-content-type-options"] == "nosniff"  # and Django's security one
    # Django's own ASGI handler needed five with Kefu's middleware (the signals, into the
    # synchronous middleware, back to the loop for django-axes, into the view, the close).
    assert hops == ["to thread"]


def test_a_post_body_reaches_the_view(application, personas):
    headers = basic_auth(personas.alice)
    body = json.dumps(
        {"ticket": {"subject": "Über", "comment": {"body": "x"}, "requester_id": personas.bob.pk}}
    ).encode()
    status, _headers, answer = call(
        application, "POST", "/api/v2/tickets.json", body=body, headers=headers
    )
    assert status == 201
    assert json.loads(answer)["ticket"]["subject"] == "Über"


def test_errors_are_answered_as_by_django(application, personas):
    status, _headers, body = call(application, "GET", "/api/v2/tickets/1.json")
    assert status == 401 and json.loads(body)["error"] == "Couldn't authenticate you"
    status, _headers, body = call(
        application, "GET", "/api/v2/nowhere.json", headers=basic_auth(personas.alice)
    )
    assert status == 404 and json.loads(body)["error"] == "RecordNotFound"
    status, _headers, _body = call(application, "GET", "/healthz")
    assert status == 200


def test_static_files_are_served_by_servestatic_with_the_security_headers(application):
    status, headers, body = call(application, "GET", "/static/kefu/kefu.js")
    assert status == 200
    assert body and headers["content-type"].startswith("text/javascript")
    assert headers["x-content-type-options"] == "nosniff"
    status, _headers, _body = call(application, "GET", "/static/kefu/no-such-file.js")
    assert status == 404


def test_a_streamed_download_arrives_whole(application, personas):
    ticket = create_ticket(
        actor=personas.bob, data=TicketData(subject="发票"), comment=NewComment(body="See")
    )
    content = b"%PDF-1.4 " + bytes(range(256)) * 400  # over one 64 KiB chunk
    upload = create_upload(uploader=personas.bob, file_name="手册.pdf", content=content)
    add_comment(ticket, actor=personas.bob, body="Manual", attachments=[upload])
    client = Client()
    client.force_login(personas.alice)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    status, headers, body = call(
        application, "GET", f"/attachments/{upload.pk}/x.pdf", headers={"Cookie": cookie}
    )
    assert status == 200
    assert body == content
    assert headers["content-disposition"].startswith("attachment;")


def test_a_connection_that_just_served_a_request_skips_the_health_check(
    application, personas, monkeypatch, settings
):
    """Django's CONN_HEALTH_CHECKS costs PostgreSQL a ``SELECT 1`` before every request; a
    connection that ended a request moments ago is trusted, one that rested is checked."""
    headers = basic_auth(personas.alice)
    checks: list[str] = []
    wrapper = type(connections["default"])
    is_usable = wrapper.is_usable

    def counting(self):  # type: ignore[no-untyped-def]
        checks.append(self.alias)
        return is_usable(self)

    monkeypatch.setattr(wrapper, "is_usable", counting)
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"]
    for _ in range(3):
        assert call(application, "GET", "/api/v2/users/me.json", headers=headers)[0] == 200
    assert checks == []  # the thread's connection ended a request less than 5 s before

    settings.KEFU_DB_HEALTH_CHECK_IDLE = 0  # as if every connection had rested
    for _ in range(2):
        assert call(application, "GET", "/api/v2/users/me.json", headers=headers)[0] == 200
    assert checks == ["default", "default"]
