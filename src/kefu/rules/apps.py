from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "kefu.rules"
    label = "rules"
    verbose_name = "Business rules"

    def ready(self) -> None:
        import datetime as dt

        from django.conf import settings

        from kefu.core import scheduler
        from kefu.tickets import hooks

        from . import conditions, tasks  # noqa: F401 - registers the trigger condition fields
        from .engine import run_triggers, run_triggers_many
        from .notifications import notify_on_change, notify_on_change_many
        from .ownership import keep_ownership, keep_ownership_many
        from .routing import route_on_change
        from .sla_batch import evaluate_slas_many

        # Order: ownership (a first public reply assigns) -> triggers -> routing -> notices.
        hooks.register("rules.ownership", keep_ownership, order=50, batch=keep_ownership_many)
        hooks.register("rules.triggers", run_triggers, order=100, batch=run_triggers_many)
        hooks.register("rules.routing", route_on_change, order=150)
        hooks.register(
            "rules.notifications", notify_on_change, order=300, batch=notify_on_change_many
        )
        # The SLA app's hook (sla.evaluate) has no batch function of its own yet.
        hooks.register_batch("sla.evaluate", evaluate_slas_many)
        scheduler.register(
            "rules.run_automations",
            every=dt.timedelta(seconds=settings.RULES_AUTOMATION_INTERVAL),
            task=tasks.run_automations_task,
        )
        from django.utils.translation import gettext_lazy as _

        from kefu.web.admin.sections import AdminSection
        from kefu.web.admin.sections import register as register_section

        register_section(
            AdminSection(
                key="triggers",
                title=_("Triggers"),
                url_name="rules:triggers",
                order=80,
                description=_("Business rules that run after every ticket change."),
            )
        )
        register_section(
            AdminSection(
                key="automations",
                title=_("Automations"),
                url_name="rules:automations",
                order=81,
                description=_("Time-based rules checked every hour."),
            )
        )
        scheduler.register(
            "rules.retry_webhooks", every=dt.timedelta(minutes=1), task=tasks.retry_webhooks_task
        )
