"""``kefu manage sla_rebuild [--all]``: recompute SLA state, metric events and ticket metrics
from the audit events, in batches (open tickets; ``--all`` for every ticket)."""

from typing import Any

from django.core.management.base import BaseCommand

from kefu.sla.actions import reevaluate_tickets


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--all", action="store_true", help="solved and closed tickets too")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(done: int, total: int) -> None:
            self.stdout.write(f"{done}/{total}")

        count = reevaluate_tickets(
            open_only=not options["all"], batch_size=options["batch_size"], progress=progress
        )
        self.stdout.write(self.style.SUCCESS(f"Rebuilt the SLAs of {count} tickets."))
