from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    """The six status categories. Custom statuses map onto these; only these drive rules."""

    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    HOLD = "hold", _("On-hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


# Zendesk's order, used by "status less than solved" in views and search.
STATUS_ORDER = [s.value for s in Status]


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_ORDER = [p.value for p in Priority]


class TicketType(models.TextChoices):
    QUESTION = "question", _("Question")
    INCIDENT = "incident", _("Incident")
    PROBLEM = "problem", _("Problem")
    TASK = "task", _("Task")


class Channel(models.TextChoices):
    """Where something came from (Zendesk's ``via.channel``)."""

    WEB = "web", _("Web")
    PORTAL = "portal", _("Help center")
    EMAIL = "email", _("Email")
    API = "api", _("API")
    CHAT = "chat", _("Chat")
    RULE = "rule", _("Business rule")
    SYSTEM = "system", _("System")
    IMPORT = "import", _("Import")


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    TEXTAREA = "textarea", _("Multi-line text")
    INTEGER = "integer", _("Number")
    DECIMAL = "decimal", _("Decimal")
    DATE = "date", _("Date")
    CHECKBOX = "checkbox", _("Checkbox")
    REGEXP = "regexp", _("Regular expression")
    DROPDOWN = "tagger", _("Drop-down")
    MULTISELECT = "multiselect", _("Multi-select")


class EventType(models.TextChoices):
    CREATE = "Create"
    CHANGE = "Change"
    COMMENT = "Comment"
    NOTIFICATION = "Notification"
    DELETE = "Delete"
    RESTORE = "Restore"
    MACRO_APPLIED = "AgentMacroReference"
    SATISFACTION_RATING = "SatisfactionRating"


class Restriction(models.TextChoices):
    """Who a view or macro is for."""

    SHARED = "shared", _("Everyone")
    GROUP = "Group", _("A group")
    USER = "User", _("Only me")
