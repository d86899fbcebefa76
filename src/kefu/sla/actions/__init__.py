"""SLA business operations — the one write path (see each module's docstring)."""

from .live import evaluate_ticket, record_due_events, time_left
from .policies import create_policy, delete_policy, reorder_policies, update_policy
from .reevaluation import reevaluate_tickets, ticket_ids_to_reevaluate
from .schedules import (
    CalendarLoad,
    create_holiday,
    create_schedule,
    delete_extra_workday,
    delete_holiday,
    delete_schedule,
    import_ical,
    load_china_holidays,
    set_extra_workday,
    set_group_schedule,
    set_ticket_schedule,
    set_workweek,
    update_holiday,
    update_schedule,
)
from .writes import write_sla_events

__all__ = [
    "CalendarLoad",
    "create_holiday",
    "create_policy",
    "create_schedule",
    "delete_extra_workday",
    "delete_holiday",
    "delete_policy",
    "delete_schedule",
    "evaluate_ticket",
    "import_ical",
    "load_china_holidays",
    "record_due_events",
    "reevaluate_tickets",
    "reorder_policies",
    "set_extra_workday",
    "set_group_schedule",
    "set_ticket_schedule",
    "set_workweek",
    "ticket_ids_to_reevaluate",
    "time_left",
    "update_holiday",
    "update_policy",
    "update_schedule",
    "write_sla_events",
]
