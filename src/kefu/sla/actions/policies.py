"""SLA policies (Zendesk ``slas/policies``): create, update, delete, reorder.

A policy's ``filter`` is in the shared ticket condition language (``kefu.tickets.conditions``);
its ``policy_metrics`` set targets per priority and metric. After any change every open
ticket's SLA is re-evaluated in the background (``tasks.reevaluate_open_tickets``).
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from kefu.core import clock
from kefu.core.conditions import ConditionError
from kefu.tickets.choices import Priority
from kefu.tickets.conditions import parse_ticket_conditions, ticket_filter

from ..choices import Metric
from ..models import SlaPolicy

MAX_TARGET_MINUTES = 366 * 24 * 60


class PolicyMetric(BaseModel):
    """One target: ``{"priority", "metric", "target" (minutes), "business_hours"}``."""

    model_config = ConfigDict(extra="ignore")

    priority: Priority
    metric: Metric
    target: int = Field(ge=1, le=MAX_TARGET_MINUTES)
    business_hours: bool = False


def _error(field_name: str, message: str) -> ValidationError:
    return ValidationError({field_name: [message]})


def clean_filter(value: Mapping[str, Any] | None) -> dict[str, Any]:
    try:
        conditions = parse_ticket_conditions(dict(value or {}))
    except ConditionError as error:
        raise _error("filter", "; ".join(error.descriptions)) from error
    return conditions.model_dump(mode="json")


def clean_policy_metrics(value: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    cleaned: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(value or []):
        try:
            metric = PolicyMetric.model_validate(item)
        except PydanticError as error:
            problem = error.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            raise _error(
                "policy_metrics",
                _("Target %(n)s: %(where)s: %(problem)s")
                % {"n": index + 1, "where": where, "problem": problem["msg"]},
            ) from error
        key = (metric.metric.value, metric.priority.value)
        if key in seen:
            raise _error(
                "policy_metrics",
                _("%(metric)s has two targets for priority %(priority)s.")
                % {"metric": key[0], "priority": key[1]},
            )
        seen.add(key)
        cleaned.append(metric.model_dump(mode="json"))
    return cleaned


def _clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise _error("title", _("A policy needs a title."))
    return title[:255]


def _clean_warning(minutes: int) -> int:
    if not isinstance(minutes, int) or minutes < 0 or minutes > MAX_TARGET_MINUTES:
        raise _error("warning_minutes", _("Warning minutes are a whole number, 0 or more."))
    return minutes


def _after_change(policy_id: int | None = None) -> None:
    """Re-evaluate, after commit, the open tickets the change of ``policy_id`` can affect
    (``tickets_affected_by``), or every open ticket (None: a reorder)."""
    from ..tasks import reevaluate_open_tickets
    from .live import policies_changed

    policies_changed()
    transaction.on_commit(lambda: reevaluate_open_tickets.enqueue(policy_id=policy_id))


def tickets_affected_by(policy_id: int) -> Q:
    """The tickets whose SLA a change of one policy can change: those on it now, and those
    its (new) conditions match. Any other ticket neither had it nor gets it, and the other
    policies and their order are unchanged, so its first matching policy stays the same.
    A deleted policy's tickets have no policy any more (the foreign key is set to NULL)."""
    policy = SlaPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        return Q(sla_state__policy__isnull=True)
    affected = Q(sla_state__policy_id=policy_id)
    try:
        return affected | ticket_filter(policy.filter)
    except ConditionError:
        return affected


@transaction.atomic
def create_policy(
    *,
    title: str,
    description: str = "",
    filter: Mapping[str, Any] | None = None,
    policy_metrics: Sequence[Mapping[str, Any]] | None = None,
    position: int | None = None,
    warning_minutes: int = 30,
) -> SlaPolicy:
    """A policy, last in order unless ``position`` is given. Raises ValidationError naming
    the field (title, filter, policy_metrics, warning_minutes) and writes nothing then."""
    policy = SlaPolicy(
        title=_clean_title(title),
        description=description or "",
        filter=clean_filter(filter),
        policy_metrics=clean_policy_metrics(policy_metrics),
        warning_minutes=_clean_warning(warning_minutes),
    )
    if position is None:
        last = SlaPolicy.objects.aggregate(last=Max("position"))["last"]
        position = 1 if last is None else last + 1
    policy.position = position
    policy.save()
    _after_change(policy.pk)
    return policy


@transaction.atomic
def update_policy(policy: SlaPolicy, **changes: Any) -> SlaPolicy:
    """Change the fields given (title, description, filter, policy_metrics, position,
    warning_minutes); unknown names are refused."""
    cleaners: dict[str, Callable[[Any], Any]] = {
        "title": _clean_title,
        "description": lambda value: value or "",
        "filter": clean_filter,
        "policy_metrics": clean_policy_metrics,
        "position": int,
        "warning_minutes": _clean_warning,
    }
    unknown = set(changes) - set(cleaners)
    if unknown:
        raise TypeError(f"unknown policy fields: {sorted(unknown)}")
    for name, value in changes.items():
        setattr(policy, name, cleaners[name](value))
    policy.updated_at = clock.now()
    policy.save()
    _after_change(policy.pk)
    return policy


@transaction.atomic
def delete_policy(policy: SlaPolicy) -> None:
    """Delete a policy; its tickets fall to the next matching policy (or none)."""
    policy_id = policy.pk
    policy.delete()
    _after_change(policy_id)


@transaction.atomic
def reorder_policies(*, policy_ids: Sequence[int]) -> list[SlaPolicy]:
    """Zendesk's ``PUT slas/policies/reorder``: every policy id, in the new order."""
    policies = {policy.pk: policy for policy in SlaPolicy.objects.select_for_update()}
    if sorted(policy_ids) != sorted(policies) or len(set(policy_ids)) != len(policy_ids):
        raise _error("sla_policy_ids", _("Give every policy id exactly once."))
    now = clock.now()
    for position, policy_id in enumerate(policy_ids, start=1):
        policies[policy_id].position = position
        policies[policy_id].updated_at = now
    SlaPolicy.objects.bulk_update(policies.values(), ["position", "updated_at"])
    _after_change()
    return [policies[policy_id] for policy_id in policy_ids]
