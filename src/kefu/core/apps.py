import datetime as dt

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kefu.core"
    label = "core"
    verbose_name = "Kefu core"

    def ready(self) -> None:
        from . import scheduler, tasks

        scheduler.register(
            "core.requeue_stale_tasks",
            every=dt.timedelta(minutes=5),
            task=tasks.requeue_stale_tasks,
        )
        scheduler.register(
            "core.prune_task_results", every=dt.timedelta(hours=6), task=tasks.prune_task_results
        )
        scheduler.register(
            "core.analyze_database", every=dt.timedelta(hours=24), task=tasks.analyze_database
        )
