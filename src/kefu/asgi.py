"""The ASGI application (``kefu run``, ``kefu web``): Django, with long-lived request threads.

Django's ASGI handler runs each request's synchronous code (middleware, views, the ORM) in a
``ThreadSensitiveContext`` of its own, and asgiref gives every such context a *new* thread.
Database connections belong to threads, so every request opened a fresh connection and
closed it again — and with it SQLite's page cache and ``CONN_MAX_AGE`` (measured: about half
of a ticket show over HTTP went to that, bench/RESULTS.md). ``ReusedThreads`` enters an
outer ``ThreadSensitiveContext`` with one of a few long-lived single-thread executors instead;
Django's own context then defers to it. A request still has one thread to itself while it
runs (what thread-sensitive code needs), and connections live as ``CONN_MAX_AGE`` says, closed
by Django's usual ``request_started``/``request_finished`` handling on that same thread.
"""

import os
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.core.asgi import get_asgi_application
from django.core.handlers.asgi import ASGIHandler
from django.db import connections

Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]


class ReusedThreads:
    """Run each HTTP request's synchronous part on an idle long-lived thread (one made when
    all are busy). At most ``keep`` threads wait for the next requests; one more finishes
    after a burst, closing its database connections, so a spike of concurrent requests does
    not leave as many connections open."""

    def __init__(self, app: ASGIHandler, *, keep: int = 8) -> None:
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
application = ReusedThreads(get_asgi_application())

from kefu.core.memory import freeze_startup  # noqa: E402 - after Django is set up

freeze_startup()  # in every process serving it (kefu web --workers N imports this module)
