"""Business rules: triggers, automations, routing, ownership, child tasks, notifications,
webhooks. Tables only; the operations are in ``actions.py`` (see docs/rules.md)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core import clock
from kefu.core.ids import ObjectIdModel

from .choices import (
    Availability,
    DeliveryStatus,
    HttpMethod,
    NotificationKind,
    RequestFormat,
    RoutingMode,
    WebhookStatus,
)

User = settings.AUTH_USER_MODEL


# --- Triggers and automations -----------------------------------------------------------------


class TriggerCategory(ObjectIdModel):
    """A named block of triggers; categories run in ``position`` order (Zendesk)."""

    name = models.CharField(_("name"), max_length=255)
    position = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("trigger category")
        verbose_name_plural = _("trigger categories")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Rule(ObjectIdModel):
    """What triggers and automations share: Zendesk's ``conditions`` and ``actions``."""

    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    position = models.IntegerField(default=0)
    # {"all": [{"field", "operator", "value"}], "any": [...]} (docs/conditions.md)
    conditions = models.JSONField(default=dict)
    # [{"field": "status", "value": "open"}, ...] (docs/rules.md, "Actions")
    actions = models.JSONField(default=list)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.title


class Trigger(Rule):
    """An event-based rule, checked after every ticket create/update (docs/rules.md)."""

    category = models.ForeignKey(TriggerCategory, on_delete=models.PROTECT, related_name="triggers")

    class Meta:
        verbose_name = _("trigger")
        verbose_name_plural = _("triggers")
        ordering = ["category__position", "position", "id"]


class Automation(Rule):
    """A time-based rule, run over all matching tickets by the scheduler (hourly)."""

    class Meta:
        verbose_name = _("automation")
        verbose_name_plural = _("automations")
        ordering = ["position", "id"]


# --- Routing ----------------------------------------------------------------------------------


class GroupRouting(ObjectIdModel):
    """How new unassigned tickets of one group find an agent."""

    group = models.OneToOneField("accounts.Group", on_delete=models.CASCADE, related_name="routing")
    mode = models.CharField(
        _("routing"), max_length=20, choices=RoutingMode.choices, default=RoutingMode.MANUAL
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("group routing")
        verbose_name_plural = _("group routing")

    def __str__(self) -> str:
        return f"{self.group}: {self.mode}"


class AgentStatus(ObjectIdModel):
    """An agent's availability, capacity and skills. No row: offline, capacity 10."""

    agent = models.OneToOneField(User, on_delete=models.CASCADE, related_name="routing_status")
    availability = models.CharField(
        _("availability"),
        max_length=10,
        choices=Availability.choices,
        default=Availability.OFFLINE,
    )
    capacity = models.PositiveIntegerField(
        _("capacity"), default=10, help_text=_("Most new and open tickets routed to this agent.")
    )
    skills = models.JSONField(_("skills"), default=list, blank=True)
    last_routed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("agent status")
        verbose_name_plural = _("agent statuses")

    def __str__(self) -> str:
        return f"{self.agent}: {self.availability}"


class TicketSkills(models.Model):
    """Skills a ticket needs (set by triggers with the ``required_skills`` action)."""

    ticket = models.OneToOneField(
        "tickets.Ticket", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    skills = models.JSONField(default=list)

    def __str__(self) -> str:
        return " ".join(self.skills)


# --- Ownership, escalation, child tasks -------------------------------------------------------


class TicketOwner(models.Model):
    """The first agent who answered the customer (首问责任制): their point of contact, kept
    when the ticket is escalated to another group (docs/rules.md, "Ownership")."""

    ticket = models.OneToOneField(
        "tickets.Ticket", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    since = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"#{self.ticket_id}: {self.owner_id}"


class Escalation(ObjectIdModel):
    """A ticket moved up to another group, with the reason (also in the ticket's audit)."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    from_group = models.ForeignKey(
        "accounts.Group", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_group = models.ForeignKey(
        "accounts.Group", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=500)
    # {"rel": "automation", "id": ..., "title": ...} or {"rel": "agent", "id": ...}
    source = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"#{self.ticket_id}: {self.reason}"


class ChildTask(ObjectIdModel):
    """A task ticket opened from a parent ticket for another group."""

    parent = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    child = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"#{self.parent_id} -> #{self.child_id}"


# --- Notifications ----------------------------------------------------------------------------


class Notification(ObjectIdModel):
    """One in-app notice for one agent."""

    # Indexed by notification_inbox (Meta), which it leads.
    recipient = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.CharField(max_length=500)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=clock.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "created_at"], name="notification_inbox")
        ]

    def __str__(self) -> str:
        return self.subject


# --- Webhooks ---------------------------------------------------------------------------------


class Webhook(ObjectIdModel):
    """An HTTP endpoint that triggers and automations call (Zendesk's ``webhooks``)."""

    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    endpoint = models.URLField(_("endpoint URL"), max_length=2000)
    http_method = models.CharField(max_length=10, choices=HttpMethod.choices, default="POST")
    request_format = models.CharField(
        max_length=20, choices=RequestFormat.choices, default=RequestFormat.JSON
    )
    status = models.CharField(
        max_length=10, choices=WebhookStatus.choices, default=WebhookStatus.ACTIVE
    )
    # {"type": "basic_auth", "data": {"username", "password"}} / {"type": "bearer_token",
    # "data": {"token"}}; never returned by the API.
    authentication = models.JSONField(default=dict, blank=True)
    custom_headers = models.JSONField(default=dict, blank=True)
    signing_secret = models.CharField(max_length=100)
    consecutive_failures = models.PositiveIntegerField(default=0)
    paused_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(ObjectIdModel):
    """One request to send (a body for a webhook), retried with backoff until it succeeds
    or runs out of attempts."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    ticket_id = models.BigIntegerField(null=True, blank=True)
    body = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=clock.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.webhook_id} {self.status}"


class WebhookAttempt(ObjectIdModel):
    """The delivery log: one row per HTTP attempt."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="attempts")
    attempt = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=1000, blank=True)
    error = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.webhook_id} #{self.attempt}: {self.status_code or self.error}"
