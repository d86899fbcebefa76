"""Background work of the rules app (idempotent; see docs/rules.md)."""

from django.tasks import task

from . import automations, routing, webhooks


@task()
def run_automations_task() -> int:
    """Every automation over the tickets that match it now (the hourly job)."""
    return automations.run_automations()


@task()
def deliver_webhook_task(delivery_id: int) -> bool:
    return webhooks.attempt_delivery(delivery_id) is not None


@task()
def retry_webhooks_task() -> int:
    return webhooks.retry_due()


@task()
def drain_agent_groups_task(agent_id: int) -> int:
    return routing.drain_agent_groups(agent_id)


@task()
def drain_queue_task(group_id: int) -> int:
    from .routing import drain_queue

    return drain_queue(group_id)
