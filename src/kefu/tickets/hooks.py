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
"""

import contextvars
from collections.abc import Callable, Iterator, Sequence
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


@dataclass(frozen=True)
class _Registered:
    name: str
    order: int
    hook: Hook


_hooks: dict[str, _Registered] = {}
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("kefu_ticket_hook_depth", default=0)
_open_audit: contextvars.ContextVar["tuple[int, Audit] | None"] = contextvars.ContextVar(
    "kefu_ticket_open_audit", default=None
)
_paused: contextvars.ContextVar[bool] = contextvars.ContextVar("kefu_hooks_off", default=False)


def register(name: str, hook: Hook, *, order: int = 100) -> None:
    """Call ``hook`` on every ticket change; lower ``order`` runs first."""
    if name in _hooks and _hooks[name].hook is not hook:
        raise ValueError(f"ticket hook {name!r} is already registered")
    _hooks[name] = _Registered(name=name, order=order, hook=hook)


def registered() -> list[str]:
    return [r.name for r in sorted(_hooks.values(), key=lambda r: (r.order, r.name))]


def open_audit(ticket_id: int) -> "Audit | None":
    """The audit of the change whose hooks are running on this ticket, for a nested change
    to join (None outside hooks, or for another ticket)."""
    current = _open_audit.get()
    return current[1] if current is not None and current[0] == ticket_id else None


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


def run(change: TicketChange) -> None:
    """Call every registered hook, in order, with ``change`` (from the ticket actions)."""
    if _paused.get():
        return
    token = _depth.set(change.depth + 1)
    audit_token = _open_audit.set((change.ticket.pk, change.audit))
    try:
        for registered_hook in sorted(_hooks.values(), key=lambda r: (r.order, r.name)):
            registered_hook.hook(change)
    finally:
        _open_audit.reset(audit_token)
        _depth.reset(token)
