from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "kefu.sla"
    label = "sla"
    verbose_name = "SLAs"

    def ready(self) -> None:
        import datetime as dt

        from kefu.core import scheduler
        from kefu.tickets import hooks

        from . import tasks
        from .actions.live import on_ticket_change

        hooks.register("sla.evaluate", on_ticket_change, order=200)
        scheduler.register(
            "sla.record_due_events", every=dt.timedelta(seconds=30), task=tasks.record_due
        )
