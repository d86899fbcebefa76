"""The mail pump: a loop in each worker process that takes mail straight from its tables.

With the database task queue (the default), a stored message is not given a task row of its
own: every ``kefu run``/``kefu worker`` process runs one pump thread that claims the oldest
waiting message (``inbound.process_next``), processes it, and sends the emails that are due
(``outbound.send_due``), until nothing is left; then it waits for a wake-up (a message stored
or an email written in this process) or ``IDLE_SECONDS``. A task row cost each message about
a third of its processing again: an INSERT when stored, a locked SELECT + UPDATE to claim, an
UPDATE when finished — and the same for its acknowledgement's sending.

The guarantees are the rows' own, as before: a message is claimed inside the transaction that
processes it (a crash rolls back the claim with the work; the message is processed again,
exactly once), an email is claimed by a conditional UPDATE before it is sent (never twice by
two pumps; one a crash left ``sending`` is retried by ``email.retry_outbound``). Two pumps
(two worker processes: two cores) never take the same row: ``SKIP LOCKED`` on PostgreSQL,
the write lock of the claiming transaction on SQLite.

Messages over ``INLINE_MAX_BYTES`` still get a task: the pump parses inside its transaction
(on SQLite, under the database's write lock), which a 20 MB message must not hold; their
task parses first and locks after. With another task backend (the tests' immediate one,
Redis) everything goes through tasks as before and no pump runs. The scheduler's sweepers
(``email.process_pending``, ``email.retry_outbound``) stay as the safety net for both.
"""

import logging
import threading
from collections.abc import Callable

from django.db import close_old_connections, connections

from kefu.core.queueing import queue_shares_the_database

log = logging.getLogger(__name__)

# Larger messages are processed by their own task (parsed before the lock is taken).
INLINE_MAX_BYTES = 256 * 1024
# Messages processed, then emails sent, per round (each message is its own transaction).
BATCH = 20
IDLE_SECONDS = 0.25
RESTART_DELAY = 5.0

_wakeup = threading.Event()


def wake() -> None:
    """Something was stored or queued: a pump in this process looks at once."""
    _wakeup.set()


def runs() -> bool:
    """Whether mail waits for the pumps (the task queue is in Kefu's database) rather than for
    a task of its own."""
    from .inbound import process_inbound_task

    return queue_shares_the_database(process_inbound_task)


def takes(size: int) -> bool:
    """Whether a stored message of ``size`` bytes is left for the pumps."""
    return size <= INLINE_MAX_BYTES and runs()


def drain(*, limit: int = BATCH, stopping: Callable[[], bool] = lambda: False) -> int:
    """One round: process up to ``limit`` waiting messages, then send up to ``limit`` due
    emails; return how many of both."""
    from kefu.core import clock

    from .choices import InboundState, OutboundState
    from .inbound import process_next
    from .models import InboundMessage, OutboundMessage
    from .outbound import send_due

    # Look before claiming: a claim is a write transaction (on SQLite it takes the database's
    # write lock), which an idle pump polling four times a second must not take for nothing.
    worked = 0
    if InboundMessage.objects.filter(
        state=InboundState.RECEIVED, size__lte=INLINE_MAX_BYTES
    ).exists():
        for _ in range(limit):
            if stopping() or process_next(max_bytes=INLINE_MAX_BYTES) is None:
                break
            worked += 1
    if not stopping() and (
        worked
        or OutboundMessage.objects.filter(
            state__in=[OutboundState.PENDING, OutboundState.RETRYING],
            next_attempt_at__lte=clock.now(),
        ).exists()
    ):
        worked += send_due(limit=limit)
    return worked


def drain_all() -> int:
    """Run rounds until nothing is left (tests, benchmarks, ``kefu email process``)."""
    total = 0
    while worked := drain():
        total += worked
    return total


class MailPump(threading.Thread):
    """The pump loop in a thread of a worker process (``kefu.cli.Background``)."""

    def __init__(self) -> None:
        super().__init__(name="kefu-mail-pump", daemon=True)
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Finish the message in progress, then end."""
        self._stopping.set()
        wake()

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                close_old_connections()
                _wakeup.clear()
                try:
                    worked = drain(stopping=self._stopping.is_set)
                except Exception:
                    # The database went away or is locked past its timeout: nothing was
                    # claimed for good (see the module docstring); try again after a pause.
                    log.exception("mail pump failed; again in %ss", RESTART_DELAY)
                    self._stopping.wait(RESTART_DELAY)
                    continue
                if not worked:
                    _wakeup.wait(IDLE_SECONDS)
        finally:
            connections.close_all()
