import datetime as dt

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kefu.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from kefu.core import scheduler

        from . import tasks

        scheduler.register(
            "api.recover_stalled_jobs",
            every=dt.timedelta(minutes=5),
            task=tasks.recover_stalled_jobs,
        )
