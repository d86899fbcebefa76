"""The trigger engine: after a ticket is created or updated, run the active triggers.

Zendesk's cycle: triggers are checked in order (category position, then position); when one
fires, its actions are applied and the check starts again from the top, skipping triggers
that already fired. Each trigger fires at most once per update, so two triggers that would
undo each other stop after one round each; the cycle ends when a pass fires nothing.

Change conditions ("status changed to solved") see the whole update: the person's change
plus every change triggers made in this cycle. Compiled triggers are cached per process and
reloaded when a trigger or ticket field changes (``rules_version``).

Most triggers cannot match most updates: "ticket is created" never matches an update, and
"status changed to solved" never matches an update that did not change the status. Each
compiled trigger knows these necessary conditions (its ``all`` block's ``update_type is X``
and ``<field> changed...`` entries), so it is rejected without evaluating its conditions
(bench/RESULTS.md, "Business rules").
"""

from collections.abc import Sequence
from dataclasses import dataclass

from kefu.core import clock, configcache
from kefu.core.conditions import BoundConditions, Op
from kefu.tickets import hooks
from kefu.tickets.actions.fields import FIELDS
from kefu.tickets.choices import Channel
from kefu.tickets.hooks import TicketChange

from .conditions import ChangeFacts, ChangeSpec, Subject, bind_trigger_conditions
from .models import Trigger
from .rule_actions import BoundAction, RuleContext, apply_actions, bind_actions, capture


@dataclass(frozen=True)
class CompiledTrigger:
    id: int
    title: str
    conditions: BoundConditions
    actions: list[BoundAction]
    # Necessary conditions, checked before ``conditions`` (see the module docstring).
    update_type: str | None = None  # "Create" | "Change" | None (either)
    needs_changed: frozenset[str] = frozenset()

    def may_match(self, facts: ChangeFacts) -> bool:
        return all(facts.changed(name) for name in self.needs_changed)


def _compile(trigger: Trigger) -> CompiledTrigger:
    conditions = bind_trigger_conditions(trigger.conditions)
    update_type = None
    needs_changed = set()
    for clause in conditions.all_of:
        if clause.spec.name == "update_type" and clause.operator == Op.IS:
            update_type = clause.value
        elif isinstance(clause.spec, ChangeSpec) and clause.operator == Op.IS:
            needs_changed.add(clause.spec.base.name)
    return CompiledTrigger(
        id=trigger.pk,
        title=trigger.title,
        conditions=conditions,
        actions=bind_actions(trigger.actions),
        update_type=update_type,
        needs_changed=frozenset(needs_changed),
    )


def rules_changed() -> None:
    """Drop this process's compiled triggers (the trigger actions call it)."""
    configcache.changed(TRIGGERS)


# Compiled triggers bind custom fields' conditions too, so they are also re-read when a
# field changes (another process's change shows up at the next unit of work).
TRIGGERS = "rules.triggers"
configcache.register(
    TRIGGERS,
    lambda: [
        f"SELECT COUNT(*) FROM {Trigger._meta.db_table} WHERE active",  # noqa: S608 - table names
        f"SELECT MAX(updated_at) FROM {Trigger._meta.db_table} WHERE active",  # noqa: S608
    ],
)


def _compile_active() -> list[CompiledTrigger]:
    compiled = []
    for trigger in Trigger.objects.filter(active=True).select_related("category"):
        try:
            compiled.append(_compile(trigger))
        except Exception:  # noqa: S112 - a broken stored rule must not block updates
            continue
    return compiled


def active_triggers() -> list[CompiledTrigger]:
    """The active triggers in run order, compiled (conditions bound, actions validated).

    A stored trigger that no longer validates (its custom field was deleted) is skipped."""
    return configcache.cached(TRIGGERS, [TRIGGERS, FIELDS], _compile_active)


def _applies(change: TicketChange) -> bool:
    return (
        change.depth == 0
        and change.kind in ("create", "update")
        and change.via_channel != Channel.IMPORT
    )


def run_triggers(change: TicketChange) -> None:
    """The ``rules.triggers`` ticket hook."""
    capture(change)
    if not _applies(change):
        return
    triggers = active_triggers()
    if triggers:
        _run(change, triggers)


def run_triggers_many(changes: Sequence[TicketChange]) -> Sequence[TicketChange]:
    """``run_triggers`` for a batch (``hooks.run_many``): the triggers are loaded once, then
    run for each change on its own, with Zendesk's cycle; a trigger that changes a ticket
    makes an ``update_ticket`` that joins that ticket's audit, as in a single update."""
    for change in changes:
        capture(change)
    changes = [change for change in changes if _applies(change)]
    triggers = active_triggers() if changes else []
    if triggers:
        for change in changes:
            with hooks.scope(change):
                _run(change, triggers)
    return []


def _run(change: TicketChange, triggers: list[CompiledTrigger]) -> None:
    facts = ChangeFacts.of(change)
    triggers = [t for t in triggers if t.update_type in (None, facts.update_type)]
    ticket = change.ticket
    actor = change.actor
    context = {"current_user": actor.pk if actor is not None else None}
    now = clock.now()
    fired: set[int] = set()
    restart = True
    while restart:
        restart = False
        subject = Subject(ticket, facts)
        for trigger in triggers:
            if trigger.id in fired or not trigger.may_match(facts):
                continue
            if not trigger.conditions.matches(subject, now=now, context=context):
                continue
            fired.add(trigger.id)
            applied = apply_actions(
                ticket,
                trigger.actions,
                RuleContext(
                    rel="trigger",
                    rule_id=trigger.id,
                    rule_title=trigger.title,
                    actor=actor,
                    audit=change.audit,
                ),
            )
            ticket = applied.ticket
            # Hooks after this one (routing, notifications) read the ticket as triggers left it.
            change.notes["ticket"] = ticket
            if applied.change is not None:
                # The ticket changed: start again from the first trigger (Zendesk's cycle).
                facts.add(applied.change)
                restart = True
                break
