from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Metric(models.TextChoices):
    """The SLA metrics (Zendesk's names; total_resolution_time is Zendesk's newest)."""

    FIRST_REPLY_TIME = "first_reply_time", _("First reply time")
    NEXT_REPLY_TIME = "next_reply_time", _("Next reply time")
    PERIODIC_UPDATE_TIME = "periodic_update_time", _("Periodic update")
    PAUSABLE_UPDATE_TIME = "pausable_update_time", _("Pausable update")
    REQUESTER_WAIT_TIME = "requester_wait_time", _("Requester wait time")
    AGENT_WORK_TIME = "agent_work_time", _("Agent work time")
    TOTAL_RESOLUTION_TIME = "total_resolution_time", _("Total resolution time")


class Stage(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("SLA stage", "Active")
    PAUSED = "paused", pgettext_lazy("SLA stage", "Paused")
    ACHIEVED = "achieved", pgettext_lazy("SLA stage", "Achieved")
    BREACHED = "breached", pgettext_lazy("SLA stage", "Breached")


class MetricEventType(models.TextChoices):
    """Zendesk's ticket metric event types."""

    APPLY_SLA = "apply_sla"
    ACTIVATE = "activate"
    PAUSE = "pause"
    FULFILL = "fulfill"
    BREACH = "breach"
    UPDATE_STATUS = "update_status"


# The audit event types the SLA engine writes on tickets (AuditEvent.type).
AUDIT_POLICY = "SlaPolicy"
AUDIT_WARNING = "SlaWarning"
AUDIT_BREACH = "SlaBreach"
