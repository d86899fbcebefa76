from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "kefu.sla"
    label = "sla"
    verbose_name = "SLAs"

    def ready(self) -> None:
        import datetime as dt

        from kefu.core import scheduler
        from kefu.tickets import hooks
        from kefu.tickets.schemas import TICKET_INCLUDES

        from . import columns, conditions, tasks
        from .actions.live import on_ticket_change
        from .schemas import ticket_slas

        hooks.register("sla.evaluate", on_ticket_change, order=200)
        TICKET_INCLUDES["slas"] = ticket_slas
        columns.register()
        conditions.register()
        scheduler.register(
            "sla.record_due_events", every=dt.timedelta(seconds=30), task=tasks.record_due
        )
