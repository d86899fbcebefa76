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

        from kefu.api import jobs

        from . import bulk

        jobs.register("tickets.create_many", bulk.create_one)
        jobs.register("tickets.update_many", bulk.update_one)
        jobs.register("tickets.destroy_many", bulk.destroy_one)
        jobs.register("imports.tickets.create_many", bulk.import_one)
