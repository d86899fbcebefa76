from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kefu.core import clock
from kefu.core.ids import ObjectIdModel

from .choices import (
    Channel,
    EventType,
    FieldType,
    Priority,
    Restriction,
    Status,
    TicketType,
)

if TYPE_CHECKING:
    from kefu.accounts.models import User as AccountsUser

User = "accounts.User"  # Kefu's own user model (settings.AUTH_USER_MODEL)


class CustomStatus(ObjectIdModel):
    """An admin's own label for a status (等待配件 / Waiting for parts) in one of the categories.

    Only ``status_category`` drives rules, SLAs and the portal timeline; people see the label.
    ``translations`` holds other languages: ``{"zh-hans": {"agent_label": ..., ...}}``.
    """

    status_category = models.CharField(max_length=20, choices=Status.choices)
    agent_label = models.CharField(_("label for agents"), max_length=100)
    end_user_label = models.CharField(_("label for customers"), max_length=100, blank=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    end_user_description = models.CharField(max_length=500, blank=True)
    translations = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)
    default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("custom status")
        verbose_name_plural = _("custom statuses")
        ordering = ["status_category", "agent_label"]
        constraints = [
            models.UniqueConstraint(
                fields=["status_category"],
                condition=models.Q(default=True),
                name="one_default_custom_status_per_category",
            )
        ]

    def __str__(self) -> str:
        return self.agent_label

    def _label(self, attribute: str, language: str | None) -> str:
        language = (language or get_language() or "en").lower()
        translated = self.translations.get(language, {}).get(attribute)
        return translated or getattr(self, attribute)

    def label_for_agent(self, language: str | None = None) -> str:
        return self._label("agent_label", language)

    def label_for_end_user(self, language: str | None = None) -> str:
        return self._label("end_user_label", language) or self.label_for_agent(language)


class Ticket(models.Model):
    """A customer's request. Ids are small sequential numbers people say aloud (#1234)."""

    id = models.BigAutoField(primary_key=True)
    subject = models.CharField(_("subject"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    custom_status = models.ForeignKey(CustomStatus, on_delete=models.PROTECT, related_name="+")
    priority = models.CharField(
        _("priority"), max_length=20, choices=Priority.choices, null=True, blank=True
    )
    type = models.CharField(
        _("type"), max_length=20, choices=TicketType.choices, null=True, blank=True
    )
    # A foreign key that leads a composite index (Meta.indexes) has no index of its own: each
    # index costs every insert and most updates of the row (bench/RESULTS.md, routing).
    requester = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="requested_tickets", db_index=False
    )
    submitter = models.ForeignKey(User, on_delete=models.PROTECT, related_name="submitted_tickets")
    assignee = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        db_index=False,
    )
    group = models.ForeignKey(
        "accounts.Group",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        db_index=False,
    )
    organization = models.ForeignKey(
        "crm.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        db_index=False,
    )
    followers: models.ManyToManyField["AccountsUser", Any] = models.ManyToManyField(
        User, related_name="followed_tickets", blank=True
    )
    email_ccs: models.ManyToManyField["AccountsUser", Any] = models.ManyToManyField(
        User, related_name="cc_tickets", blank=True
    )
    # The tag list as shown; TicketTag rows (written together, by actions only) serve filters.
    tags = models.JSONField(default=list, blank=True)
    # {"f<field id>": value}. Keys are prefixed because JSON paths read digits as indexes.
    custom_fields = models.JSONField(default=dict, blank=True)
    via_channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    via_source = models.JSONField(default=dict, blank=True)
    # Sparse columns get partial indexes (Meta): SQLite's statistics count NULLs as one huge
    # key, so a full index on a mostly-NULL column looks useless and the planner scans.
    external_id = models.CharField(max_length=255, null=True, blank=True)
    problem = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
        db_index=False,
    )
    due_at = models.DateTimeField(null=True, blank=True)
    is_public = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now, db_index=True)
    updated_at = models.DateTimeField(default=clock.now, db_index=True)
    status_updated_at = models.DateTimeField(default=clock.now)
    assigned_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    requester_updated_at = models.DateTimeField(null=True, blank=True)
    assignee_updated_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["status", "updated_at"], name="ticket_status_updated"),
            models.Index(fields=["group", "status"], name="ticket_group_status"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status"),
            models.Index(fields=["requester", "created_at"], name="ticket_requester_created"),
            models.Index(fields=["organization", "created_at"], name="ticket_org_created"),
            models.Index(fields=["status", "solved_at"], name="ticket_status_solved"),
            # Deleted tickets are few: a partial index finds them without tempting the
            # planner to walk every live ticket through a full deleted_at index.
            models.Index(
                fields=["deleted_at"],
                name="ticket_deleted",
                condition=models.Q(deleted_at__isnull=False),
            ),
            models.Index(
                fields=["external_id"],
                name="ticket_external_id",
                condition=models.Q(external_id__isnull=False),
            ),
            models.Index(
                fields=["problem"],
                name="ticket_problem",
                condition=models.Q(problem__isnull=False),
            ),
            # The unassigned queue, oldest first, is every team's most-opened view.
            models.Index(
                fields=["created_at"],
                name="ticket_unassigned_created",
                condition=models.Q(assignee__isnull=True, deleted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.subject}"

    def field_value(self, field_id: int) -> Any:
        return self.custom_fields.get(custom_field_key(field_id))


def custom_field_key(field_id: int) -> str:
    return f"f{field_id}"


class TicketTag(models.Model):
    """One tag on one ticket, for filtering (``Ticket.tags`` is the display copy)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="tag_rows")
    name = models.CharField(max_length=255)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "name"], name="ticket_tag_unique")]
        indexes = [models.Index(fields=["name", "ticket"], name="ticket_tag_name")]

    def __str__(self) -> str:
        return self.name


class Comment(ObjectIdModel):
    """A public reply or an internal note. ``body`` is plain text, ``html_body`` sanitized."""

    # Indexed by comment_ticket_created (Meta), as the ticket's foreign keys are.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="comments", db_index=False
    )
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="comments")
    body = models.TextField()
    html_body = models.TextField()
    public = models.BooleanField(default=True)
    via_channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    via_source = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [models.Index(fields=["ticket", "created_at"], name="comment_ticket_created")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment {self.id} on #{self.ticket_id}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    day = clock.now().strftime("%Y/%m/%d")
    return f"attachments/{day}/{instance.pk}/{filename}"


class Attachment(ObjectIdModel):
    """A file on a comment. Uploaded first (with a token), then attached to a comment."""

    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    uploader = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=attachment_path, max_length=500)
    file_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    inline = models.BooleanField(default=False)
    token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return self.file_name


class TicketField(ObjectIdModel):
    """A custom ticket field, with its validation and where customers see it."""

    type = models.CharField(_("type"), max_length=20, choices=FieldType.choices)
    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    title_in_portal = models.CharField(_("title in portal"), max_length=255, blank=True)
    description_in_portal = models.TextField(blank=True)
    position = models.IntegerField(default=0)
    active = models.BooleanField(default=True)
    required = models.BooleanField(
        _("required to solve"), default=False, help_text=_("Agents must fill it to solve.")
    )
    required_in_portal = models.BooleanField(_("required in portal"), default=False)
    visible_in_portal = models.BooleanField(_("visible in portal"), default=False)
    editable_in_portal = models.BooleanField(_("editable in portal"), default=False)
    regexp_for_validation = models.CharField(max_length=500, blank=True)
    tag = models.CharField(max_length=255, blank=True, help_text=_("Checkbox: tag when ticked."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("ticket field")
        verbose_name_plural = _("ticket fields")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def key(self) -> str:
        return custom_field_key(self.pk)

    @property
    def has_options(self) -> bool:
        return self.type in (FieldType.DROPDOWN, FieldType.MULTISELECT)


class TicketFieldOption(ObjectIdModel):
    """One choice of a drop-down or multi-select field; ``value`` is also the tag it sets."""

    field = models.ForeignKey(TicketField, on_delete=models.CASCADE, related_name="options")
    name = models.CharField(max_length=255)
    value = models.CharField(max_length=255)
    position = models.IntegerField(default=0)
    default = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["field", "value"], name="field_option_value_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Audit(ObjectIdModel):
    """One change to a ticket by one actor at one moment, with its events."""

    # Indexed by audit_ticket_created (Meta), as the ticket's foreign keys are.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="audits", db_index=False
    )
    author = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    via_channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    via_source = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["ticket", "created_at"], name="audit_ticket_created")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Audit {self.id} on #{self.ticket_id}"


class AuditEvent(ObjectIdModel):
    """Create / Change / Comment / ... — what the history, exports, SLA and rules read.

    A Comment event shares its id with the comment (as in Zendesk).
    """

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=40, choices=EventType.choices)
    field_name = models.CharField(max_length=100, blank=True)
    value = models.JSONField(null=True, blank=True)
    previous_value = models.JSONField(null=True, blank=True)
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Set on events a business rule added to another change's audit: {"channel", "source"}.
    via = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.type} {self.field_name}".strip()


class RestrictedModel(ObjectIdModel):
    """Views and macros: shared, for one group, or for one agent."""

    restriction = models.CharField(
        max_length=10, choices=Restriction.choices, default=Restriction.SHARED
    )
    restriction_group = models.ForeignKey(
        "accounts.Group", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    restriction_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    position = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["position", "title"]

    def __str__(self) -> str:
        return self.title


class View(RestrictedModel):
    """A saved ticket list: conditions in the shared condition language plus columns/sort."""

    conditions = models.JSONField(default=dict)
    execution = models.JSONField(default=dict, blank=True)

    class Meta(RestrictedModel.Meta):
        verbose_name = _("view")
        verbose_name_plural = _("views")


class Macro(RestrictedModel):
    """A named list of actions an agent applies to a ticket in one click."""

    actions = models.JSONField(default=list)
    usage_count = models.PositiveIntegerField(default=0)

    class Meta(RestrictedModel.Meta):
        verbose_name = _("macro")
        verbose_name_plural = _("macros")
