"""The inbound SMTP receiver (aiosmtpd).

- ``RCPT TO`` an address that is not a support address (or its ``+tag`` form): ``550``, during
  the dialogue — the sending server bounces it, nothing is stored.
- ``DATA`` is answered ``250`` only after the raw bytes are committed (``store_inbound``);
  if storing fails the answer is ``451`` and the sender retries later. Processing runs after,
  as a task: a slow or broken message never holds up the SMTP dialogue.
- Size: messages up to ``KEFU_MAX_EMAIL_MB`` are processed; messages up to twice that are
  accepted and stored *quarantined* (kept, listed by ``kefu email failed``, processed when an
  admin retries them); anything larger is refused with ``552`` at the end of DATA, so the
  sender gets a bounce — never a silent drop.
"""

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import close_old_connections, connections

from .addresses import ensure_seeded, is_support_address
from .cli import parse_listen
from .inbound import store_inbound

log = logging.getLogger(__name__)
# aiosmtpd logs every command line at INFO; Kefu logs what matters itself.
logging.getLogger("mail.log").setLevel(logging.WARNING)
T = TypeVar("T")


def hard_limit_bytes() -> int:
    return 2 * settings.MAX_EMAIL_MB * 1024 * 1024


# How long an address found to be a support address is taken as one without asking again
# (each check reads the configuration's fingerprint: one statement per RCPT otherwise). An
# address an admin removes is still accepted that long; it is then processed as mail to the
# default address. An unknown address is always checked again (a new one works at once).
KNOWN_FOR_SECONDS = 5.0


class KefuHandler:
    """aiosmtpd handler: database work runs in a small thread pool, off the event loop."""

    def __init__(self, *, threads: int = 4) -> None:
        self.threads = threads
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kefu-smtp")
        self._known: dict[str, float] = {}  # address -> until (time.monotonic())

    def close(self) -> None:
        """Close the worker threads' database connections, then the pool. Each thread keeps
        its connection between messages; a close job per thread, held at a barrier until all
        have started, runs once in every thread (the pool starts a thread per waiting job)."""
        barrier = threading.Barrier(self.threads)

        def close_connections() -> None:
            connections.close_all()
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=10)

        for _ in range(self.threads):
            self.executor.submit(close_connections)
        self.executor.shutdown(wait=True)

    async def _run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def call() -> T:
            close_old_connections()
            try:
                return function(*args, **kwargs)
            finally:
                close_old_connections()

        return await asyncio.get_running_loop().run_in_executor(self.executor, call)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        key = address.strip().lower()
        if self._known.get(key, 0.0) < time.monotonic():
            try:
                known = await self._run(is_support_address, address)
            except Exception:
                log.exception("cannot check recipient %s", address)
                return "451 4.3.0 Temporary failure; try again later"
            if not known:
                return f"550 5.1.1 <{address}>: no such mailbox here"
            if len(self._known) > 10000:  # plus-addresses are many: keep it bounded
                self._known.clear()
            self._known[key] = time.monotonic() + KNOWN_FOR_SECONDS
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            await self._run(
                store_inbound,
                raw=raw,
                recipients=list(envelope.rcpt_tos),
                envelope_from=envelope.mail_from or "",
                source="smtp",
            )
        except Exception:
            log.exception("could not store a message from %s", envelope.mail_from)
            return "451 4.3.0 Could not store the message; try again later"
        return "250 2.0.0 Message stored"


class Receiver:
    """The SMTP server in a background thread (``start``/``stop``)."""

    def __init__(self, *, host: str, port: int) -> None:
        self.handler = KefuHandler()
        self.controller = Controller(
            self.handler,
            hostname=host,
            port=port,
            data_size_limit=hard_limit_bytes(),
            ident="Kefu",
            server_hostname=host,
            ready_timeout=10.0,
        )

    @property
    def port(self) -> int:
        server = getattr(self.controller, "server", None)
        if server is not None and server.sockets:
            return int(server.sockets[0].getsockname()[1])
        return int(self.controller.port)

    def start(self) -> None:
        close_old_connections()
        ensure_seeded()
        close_old_connections()
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
        self.handler.close()


def start_if_configured() -> Receiver | None:
    """``kefu run``: start the receiver when ``KEFU_SMTP_LISTEN`` is set."""
    if not settings.SMTP_LISTEN:
        return None
    host, port = parse_listen(settings.SMTP_LISTEN)
    receiver = Receiver(host=host, port=port)
    receiver.start()
    return receiver


def serve_forever(*, host: str, port: int, stop: threading.Event) -> None:
    """``kefu smtpd``: serve until ``stop`` is set."""
    receiver = Receiver(host=host, port=port)
    receiver.start()
    log.info("SMTP receiver listening on %s:%s", host, receiver.port)
    print(f"Kefu SMTP receiver listening on {host}:{receiver.port}", flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        receiver.stop()
