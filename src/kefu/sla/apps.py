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
        _register_admin_sections()
        scheduler.register(
            "sla.record_due_events", every=dt.timedelta(seconds=30), task=tasks.record_due
        )


def _register_admin_sections() -> None:
    from django.utils.translation import gettext_lazy as _

    from kefu.web.admin.sections import AdminSection, register

    register(
        AdminSection(
            key="sla_schedules",
            title=_("Business hours"),
            url_name="sla:schedules",
            order=76,
            description=_("Schedules, holidays and China's adjusted working days for SLA targets."),
        )
    )
    register(
        AdminSection(
            key="sla_policies",
            title=_("SLA policies"),
            url_name="sla:policies",
            order=77,
            description=_("Reply and resolution targets per priority."),
        )
    )
