"""``kefu manage sla_china_holidays --schedule ID [--year 2026 ...]``: load China's public
holidays and adjusted working days (调休) into a schedule (default: this year and next)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kefu.core import clock
from kefu.sla.actions import load_china_holidays
from kefu.sla.models import Schedule


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--schedule", type=int, required=True, help="the schedule's id")
        parser.add_argument("--year", type=int, action="append", dest="years")

    def handle(self, *args: Any, **options: Any) -> None:
        schedule = Schedule.objects.filter(pk=options["schedule"]).first()
        if schedule is None:
            raise CommandError(f"No schedule with id {options['schedule']}.")
        this_year = clock.now().year
        years = options["years"] or [this_year, this_year + 1]
        result = load_china_holidays(schedule, years=years)
        self.stdout.write(
            f"{result.holidays} holidays and {result.extra_workdays} working days "
            f"for {', '.join(map(str, result.years)) or 'no year'}."
        )
        if result.missing_years:
            self.stderr.write(
                "Not in the chinesecalendar package yet (add them by hand or from iCal): "
                + ", ".join(map(str, result.missing_years))
            )
