"""What runs when a ticket changes: an ordered registry of hooks, called inside the change.

``create_ticket``, ``update_ticket``, ``delete_ticket`` and ``restore_ticket`` call
:func:`run` after they have written the ticket and its audit, still inside their transaction.
Apps register their hooks in ``AppConfig.ready()``::

    hooks.register("rules.triggers", run_triggers, order=100)
    hooks.register("sla.evaluate", evaluate_slas, order=200)

A hook sees one :class:`TicketChange`. It may change the ticket further, always through the
ticket actions (``update_ticket`` with ``actor=None`` and ``via_channel=Channel.RULE``); such a
nested change runs the hooks again with ``depth`` one higher, so a hook that must see the
final state (SLA) acts only at ``depth == 0`` and a hook that must not re-enter itself
(triggers) can tell. As in Zendesk, a nested change to the same ticket joins the audit of the
change that caused it (its events carry their own ``via``) instead of writing a new audit.
Raising fails the whole change: a hook that only schedules side effects
(email, webhooks, indexing) must do so with ``transaction.on_commit`` and must not raise.

Imports (``import_tickets``) do not run hooks: that history already happened elsewhere.

Batches (``update_tickets``) call :func:`run_many` with one change per ticket. Each hook in
turn sees the whole batch: a hook registered with a ``batch`` function (or given one later with
:func:`register_batch`) gets all the changes at once and returns those it left for its
per-change function; a hook without one is called per change, as :func:`run` does. A batch
function must leave the same result as calling the hook on each change (it reads and writes
for the batch in a few queries instead); inside it, :func:`scope` gives one change's context
to nested ticket actions. Unlike :func:`run`, hook 1 sees every ticket of the batch before
hook 2 sees the first: a hook must not depend on the state of other tickets of the batch.
"""

import contextvars
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from kefu.accounts.models import User

    from .models import Audit, AuditEvent, Comment, Ticket

ChangeKind = Literal["create", "update", "delete", "restore"]


@dataclass(frozen=True)
class TicketChange:
    """One change to one ticket, as its action wrote it."""

    ticket: "Ticket"
    kind: ChangeKind
    actor: "User | None"
    audit: "Audit"
    events: Sequence["AuditEvent"]
    comment: "Comment | None" = None
    via_channel: str = ""
    # 0 for the change a person or channel made; 1, 2, ... for changes hooks made in response.
    depth: int = 0
    # Free for hooks to share facts about this change with hooks that run after them.
    notes: dict[str, Any] = field(default_factory=dict)

    def changed(self, field_name: str) -> bool:
        """Whether this change set ``field_name`` (a Create or Change event names it)."""
        return any(event.field_name == field_name for event in self.events)

    def previous(self, field_name: str, default: Any = None) -> Any:
        """The value ``field_name`` had before this change, when it changed."""
        for event in self.events:
            if event.field_name == field_name and event.type == "Change":
                return event.previous_value
        return default


Hook = Callable[[TicketChange], None]
# Takes a batch of changes, returns the ones left for the hook's per-change function.
BatchHook = Callable[[Sequence[TicketChange]], Sequence[TicketChange]]


@dataclass(frozen=True)
class _Registered:
    name: str
    order: int
    hook: Hook


_hooks: dict[str, _Registered] = {}
_batches: dict[str, BatchHook] = {}
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("kefu_ticket_hook_depth", default=0)
# {ticket id: the audit of the change whose hooks are running on it}
_open_audit: contextvars.ContextVar["Mapping[int, Audit] | None"] = contextvars.ContextVar(
    "kefu_ticket_open_audit", default=None
)
_paused: contextvars.ContextVar[bool] = contextvars.ContextVar("kefu_hooks_off", default=False)
# Inside watch(): the ids of tickets that changes made by hooks have written.
_touched: contextvars.ContextVar[tuple[set[int], ...]] = contextvars.ContextVar(
    "kefu_ticket_hooks_touched", default=()
)


def register(name: str, hook: Hook, *, order: int = 100, batch: BatchHook | None = None) -> None:
    """Call ``hook`` on every ticket change; lower ``order`` runs first. ``batch``: the same
    for a batch of changes (see the module docstring)."""
    if name in _hooks and _hooks[name].hook is not hook:
        raise ValueError(f"ticket hook {name!r} is already registered")
    _hooks[name] = _Registered(name=name, order=order, hook=hook)
    if batch is not None:
        register_batch(name, batch)


def register_batch(name: str, batch: BatchHook) -> None:
    """Give the hook registered (now or later) as ``name`` a batch function."""
    if name in _batches and _batches[name] is not batch:
        raise ValueError(f"ticket hook {name!r} already has a batch function")
    _batches[name] = batch


def registered() -> list[str]:
    return [r.name for r in sorted(_hooks.values(), key=lambda r: (r.order, r.name))]


def open_audit(ticket_id: int) -> "Audit | None":
    """The audit of the change whose hooks are running on this ticket, for a nested change
    to join (None outside hooks, or for another ticket)."""
    current = _open_audit.get()
    return current.get(ticket_id) if current is not None else None


def current_depth() -> int:
    """How deep in hook-made changes the caller is (0: not inside a hook)."""
    return _depth.get()


@contextmanager
def paused() -> Iterator[None]:
    """Run ticket actions without hooks (bulk maintenance, demo data, some tests)."""
    token = _paused.set(True)
    try:
        yield
    finally:
        _paused.reset(token)


@contextmanager
def _context(depth: int, audits: "Mapping[int, Audit]") -> Iterator[None]:
    token = _depth.set(depth + 1)
    audit_token = _open_audit.set(audits)
    try:
        yield
    finally:
        _open_audit.reset(audit_token)
        _depth.reset(token)


@contextmanager
def scope(change: TicketChange) -> Iterator[None]:
    """Inside a batch function: ticket actions called in this block act as if the hook had
    been called with ``change`` alone (depth, and the audit a nested change joins)."""
    with _context(change.depth, {change.ticket.pk: change.audit}):
        yield


@contextmanager
def watch() -> Iterator[set[int]]:
    """Collect the ids of the tickets that changes made by hooks in this block write
    (nested ``update_ticket``, ``update_tickets``, ``delete_ticket``..., and
    ``record_events(touch=True)``): a caller that knows what it wrote can then tell whether
    its copy of a ticket is still what the database holds."""
    touched: set[int] = set()
    token = _touched.set((*_touched.get(), touched))  # nested watches all see a change
    try:
        yield touched
    finally:
        _touched.reset(token)


def touched(ticket_id: int) -> None:
    """Note, for :func:`watch`, that a ticket's row changed (the ticket actions call it)."""
    if _depth.get() > 0:
        for watched in _touched.get():
            watched.add(ticket_id)


def rewritten(ticket_id: int) -> bool:
    """Whether, inside :func:`watch`, a hook's change has written this ticket (always True
    outside: the caller cannot know). A hook that trusts facts the change noted about the
    ticket (``TicketChange.notes``) checks this first."""
    watches = _touched.get()
    return not watches or any(ticket_id in watched for watched in watches)


def run(change: TicketChange) -> None:
    """Call every registered hook, in order, with ``change`` (from the ticket actions)."""
    touched(change.ticket.pk)
    if _paused.get():
        return
    with scope(change):
        for registered_hook in sorted(_hooks.values(), key=lambda r: (r.order, r.name)):
            registered_hook.hook(change)


def run_many(changes: Sequence[TicketChange]) -> None:
    """Call every registered hook, in order, with a batch of changes, one per ticket, all at
    the same depth (from ``update_tickets``; see the module docstring)."""
    for change in changes:
        touched(change.ticket.pk)
    if _paused.get() or not changes:
        return
    depth = changes[0].depth
    if any(c.depth != depth for c in changes) or len({c.ticket.pk for c in changes}) != len(
        changes
    ):
        raise ValueError("a batch holds one change per ticket, all at the same depth")
    audits = {c.ticket.pk: c.audit for c in changes}
    for registered_hook in sorted(_hooks.values(), key=lambda r: (r.order, r.name)):
        left: Sequence[TicketChange] = changes
        batch = _batches.get(registered_hook.name)
        if batch is not None:
            with _context(depth, audits):
                left = batch(changes)
        for change in left:
            with scope(change):
                registered_hook.hook(change)
