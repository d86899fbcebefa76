"""The ASGI application (``kefu run``, ``kefu web``): Django, answering each request with one
switch from the event loop to a long-lived request thread.

**One switch per request.** Django's ``ASGIHandler`` runs middleware in async mode where it
can and in threads where it must. Kefu's stack mixes both (sessions, authentication, the API
middleware and the views are synchronous, ServeStatic and django-axes asynchronous), so every
request went loop → thread → loop → thread and back, with ``request_started`` and the
response's ``close()`` two more trips: about a third of a ticket show's CPU was spent waking
threads and the loop (bench/RESULTS.md, ``apifast``). ``Handler`` loads the same
``MIDDLEWARE`` in synchronous mode and runs the whole request — the signals, the middleware,
the view, closing the response — in **one** call on the request's thread; the loop only reads
the body and writes the answer. Requests under ``STATIC_URL`` are answered by Django's own
asynchronous handler, where ServeStatic's async-only middleware works as it always did
(``kefu.web.static``). Streaming responses (file downloads) are sent as Django sends them and
closed afterwards on the request's thread.

**Long-lived request threads.** Django gives each request a ``ThreadSensitiveContext`` of its
own, and asgiref gives every such context a *new* thread. Database connections belong to
threads, so every request opened a fresh connection and closed it again — and with it
SQLite's page cache and ``CONN_MAX_AGE`` (measured: about half of a ticket show over HTTP went
to that, bench/RESULTS.md). ``ReusedThreads`` enters an outer ``ThreadSensitiveContext`` with
one of a few long-lived single-thread executors instead. A request still has one thread to
itself while it runs (what thread-sensitive code needs), and connections live as
``CONN_MAX_AGE`` says, closed by Django's usual ``request_started``/``request_finished``
handling on that same thread.

**Health checks when a connection has rested.** With ``CONN_HEALTH_CHECKS`` Django asks
PostgreSQL ``SELECT 1`` before the first query of every request — a round trip per request,
one of seven on a ticket show. A connection that finished a request without error less than
``KEFU_DB_HEALTH_CHECK_IDLE`` seconds ago (default 5) is taken as healthy, as PgBouncer does
with ``server_check_delay``; one that rested longer is checked as before. Should the server go
away inside that window, the next request on the connection fails (500) and Django closes the
connection after it, so the request after that connects afresh.
"""

import os
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import Any
from urllib.parse import urlsplit

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import connections
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]


class Handler(ASGIHandler):
    """Django's ASGI handler with a synchronous middleware stack, run in one thread hop."""

    def __init__(self) -> None:
        from kefu.web.static import left_out

        base.BaseHandler.__init__(self)
        with left_out():  # ServeStatic: async only; its paths go to ``self.static``
            self.load_middleware(is_async=False)
        self.static = ASGIHandler()
        self.static_prefix = urlsplit(settings.STATIC_URL).path or "/static/"

    def is_static(self, scope: Mapping[str, Any]) -> bool:
        path: str = scope.get("path", "")
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        return path.startswith(self.static_prefix)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.is_static(scope):
            await self.static(scope, receive, send)
            return
        async with ThreadSensitiveContext():
            await self.handle(scope, receive, send)

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        with closing(body_file):
            response = await sync_to_async(self.respond, thread_sensitive=True)(scope, body_file)
            await self.send_response(response, send)
            if response.streaming:
                await sync_to_async(response.close, thread_sensitive=True)()

    def respond(self, scope: Any, body_file: Any) -> HttpResponseBase:
        """The request's synchronous part, on its thread: what ``ASGIHandler.handle`` does
        around the middleware, in the same order, with the middleware called directly."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        trust_rested_connections()
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        assert response is not None
        if not response.streaming:
            # The body is in memory: request_finished (closing old database connections)
            # runs now, on this thread, instead of costing another trip to it.
            response.close()
            note_healthy_connections()
        return response


def trust_rested_connections() -> None:
    """Skip the health check of connections that ended a request moments ago (after
    ``request_started``, which asks for one)."""
    idle = settings.KEFU_DB_HEALTH_CHECK_IDLE
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        finished = getattr(connection, "kefu_healthy_at", None)
        if connection.connection is not None and finished is not None and now - finished < idle:
            connection.health_check_done = True  # type: ignore[attr-defined]


def note_healthy_connections() -> None:
    """Remember when each open connection last ended a request without an error (after
    ``request_finished``, which closes the ones that had errors or are too old)."""
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and not connection.errors_occurred:
            connection.kefu_healthy_at = now  # type: ignore[attr-defined]
        else:
            connection.kefu_healthy_at = None  # type: ignore[attr-defined]


class ReusedThreads:
    """Run each HTTP request's synchronous part on an idle long-lived thread (one made when
    all are busy). At most ``keep`` threads wait for the next requests; one more finishes
    after a burst, closing its database connections, so a spike of concurrent requests does
    not leave as many connections open."""

    def __init__(self, app: Any, *, keep: int = 8) -> None:
        self.app = app
        self.keep = keep
        self.idle: list[ThreadPoolExecutor] = []
        self.made = 0

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.idle:
            executor = self.idle.pop()
        else:
            self.made += 1
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"kefu-web-{self.made}")
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.app(scope, receive, send)
        finally:
            if len(self.idle) < self.keep:
                self.idle.append(executor)
            else:
                executor.submit(connections.close_all)
                executor.shutdown(wait=False)


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
django.setup(set_prefix=False)
application = ReusedThreads(Handler())

from kefu.core.memory import freeze_startup  # noqa: E402 - after Django is set up

freeze_startup()  # in every process serving it (kefu web --workers N imports this module)
