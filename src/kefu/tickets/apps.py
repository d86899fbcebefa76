from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "kefu.tickets"
    label = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        import datetime as dt

        from kefu.core import scheduler

        from . import tasks

        scheduler.register(
            "tickets.close_solved_tickets", every=dt.timedelta(hours=1), task=tasks.close_solved
        )
