"""Forms of the agent's ticket screens. They parse and show input; the actions decide.

Every property field carries its value from when the page was drawn (Django's
``show_hidden_initial``), so ``changed_data`` is what the agent changed, and only that reaches
``update_ticket``: a field someone else changed meanwhile is never overwritten with the old
value the page still showed.
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kefu.accounts.choices import STAFF_ROLES
from kefu.accounts.models import Group, User

from .choices import FieldType, Priority, Status, TicketType
from .models import CustomStatus, Ticket, TicketField

COMMENT_MODES = [("public", _("Public reply")), ("internal", _("Internal note"))]

# update_ticket's error keys -> the form field the message belongs next to.
ERROR_FIELDS = {
    "assignee_id": "assignee",
    "group_id": "group",
    "custom_status_id": "status",
    "uploads": "attachments",
    "comment": "body",
    "requester_id": "requester_email",
    "follower_ids": "followers",
}


class Choices:
    """The option lists a ticket form needs, loaded once per request (one query each)."""

    def __init__(self) -> None:
        self.statuses = list(
            CustomStatus.objects.filter(active=True).order_by("status_category", "-default", "id")
        )
        self.groups = list(Group.objects.only("id", "name").order_by("name"))
        self.agents = list(
            User.objects.filter(role__in=STAFF_ROLES, is_active=True, suspended=False)
            .only("id", "name", "email", "role")
            .order_by("name")
        )

    @cached_property
    def fields(self) -> list[TicketField]:
        """Active custom fields (loaded only by the forms that show them)."""
        return list(TicketField.objects.filter(active=True).prefetch_related("options"))

    def status_choices(self, ticket: Ticket | None) -> list[tuple[str, str]]:
        """Statuses an agent may pick: not new (unless it is new), never closed directly."""
        rank = {s: i for i, s in enumerate(s.value for s in Status)}
        allowed = [
            s
            for s in self.statuses
            if s.status_category != Status.CLOSED
            and (
                s.status_category != Status.NEW
                or (ticket is not None and ticket.status == Status.NEW)
            )
        ]
        allowed.sort(key=lambda s: (rank[s.status_category], not s.default, s.pk))
        return [(str(s.pk), s.label_for_agent()) for s in allowed]

    def status_by_id(self, value: str) -> CustomStatus | None:
        return next((s for s in self.statuses if str(s.pk) == value), None)

    def group_choices(self) -> list[tuple[str, str]]:
        return [("", "—"), *[(str(g.pk), g.name) for g in self.groups]]

    def agent_choices(self, *, empty: bool = True) -> list[tuple[str, str]]:
        options = [(str(a.pk), a.name) for a in self.agents]
        return [("", "—"), *options] if empty else options


def _priority_choices() -> list[tuple[str, Any]]:
    return [("", "—"), *Priority.choices]


def _type_choices() -> list[tuple[str, Any]]:
    return [("", "—"), *TicketType.choices]


def custom_field_form_field(field: TicketField) -> forms.Field:
    """A form field for a custom ticket field; the action validates the value."""
    common: dict[str, Any] = {
        "label": field.title,
        "required": False,
        "help_text": field.description,
        "show_hidden_initial": True,
    }
    kind = field.type
    if kind == FieldType.TEXTAREA:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind == FieldType.INTEGER:
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "numeric"}), **common)
    if kind == FieldType.DECIMAL:
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
    if kind == FieldType.DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == FieldType.CHECKBOX:
        return forms.BooleanField(**common)
    options = [(o.value, o.name) for o in field.options.all()]
    if kind == FieldType.DROPDOWN:
        return forms.ChoiceField(choices=[("", "—"), *options], **common)
    if kind == FieldType.MULTISELECT:
        return forms.MultipleChoiceField(
            choices=options, widget=forms.SelectMultiple(attrs={"size": 4}), **common
        )
    return forms.CharField(**common)


def custom_field_initial(field: TicketField, value: Any) -> Any:
    if value is None:
        return [] if field.type == FieldType.MULTISELECT else ""
    if field.type == FieldType.CHECKBOX:
        return bool(value)
    return value


def cf_name(field: TicketField) -> str:
    return f"cf_{field.pk}"


class PropertiesMixin:
    """Status, priority, type, group, assignee, tags, followers and custom fields."""

    fields: dict[str, forms.Field]
    choices: Choices

    def add_property_fields(self, ticket: Ticket | None) -> None:
        self.fields["status"] = forms.ChoiceField(
            label=_("Status"), choices=self.choices.status_choices(ticket), required=False,
            show_hidden_initial=True,
        )  # fmt: skip
        self.fields["priority"] = forms.ChoiceField(
            label=_("Priority"), choices=_priority_choices, required=False,
            show_hidden_initial=True,
        )  # fmt: skip
        self.fields["type"] = forms.ChoiceField(
            label=_("Type"), choices=_type_choices, required=False, show_hidden_initial=True
        )
        self.fields["group"] = forms.ChoiceField(
            label=_("Group"), choices=self.choices.group_choices(), required=False,
            show_hidden_initial=True,
        )  # fmt: skip
        self.fields["assignee"] = forms.ChoiceField(
            label=_("Assignee"), choices=self.choices.agent_choices(), required=False,
            show_hidden_initial=True,
        )  # fmt: skip
        self.fields["tags"] = forms.CharField(
            label=_("Tags"), required=False, show_hidden_initial=True,
            help_text=_("Separate tags with spaces."),
        )  # fmt: skip
        self.fields["followers"] = forms.MultipleChoiceField(
            label=_("Followers"), choices=self.choices.agent_choices(empty=False),
            required=False, show_hidden_initial=True,
            widget=forms.SelectMultiple(attrs={"size": 3}),
        )  # fmt: skip
        for field in self.choices.fields:
            self.fields[cf_name(field)] = custom_field_form_field(field)

    def custom_field_names(self) -> list[str]:
        return [cf_name(f) for f in self.choices.fields]


def property_initial(ticket: Ticket, choices: Choices, follower_ids: Iterable[int]) -> dict:
    initial: dict[str, Any] = {
        "status": str(ticket.custom_status_id),
        "priority": ticket.priority or "",
        "type": ticket.type or "",
        "group": str(ticket.group_id or ""),
        "assignee": str(ticket.assignee_id or ""),
        "tags": " ".join(ticket.tags),
        "followers": [str(pk) for pk in follower_ids],
    }
    for field in choices.fields:
        initial[cf_name(field)] = custom_field_initial(field, ticket.field_value(field.pk))
    return initial


class TicketUpdateForm(PropertiesMixin, forms.Form):
    """The ticket page: the composer and the properties, submitted together."""

    body = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    mode = forms.ChoiceField(
        label=_("Comment type"), choices=COMMENT_MODES, initial="public", widget=forms.RadioSelect
    )
    # Files are read from request.FILES by the view; the field is where their errors show.
    attachments = forms.FileField(label=_("Attach files"), required=False)
    updated_at = forms.CharField(widget=forms.HiddenInput)
    last_comment_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    macro_id = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self, *args: Any, ticket: Ticket, choices: Choices, can_edit: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        self.choices = choices
        self.can_edit = can_edit
        self.add_property_fields(ticket)
        if not can_edit:
            # Light agents: the properties show but keep their values whatever is posted, and
            # every comment is an internal note (Django ignores posted data for disabled fields).
            self.initial["mode"] = "internal"
            for name, field in self.fields.items():
                if name not in ("body", "attachments", "updated_at", "last_comment_id"):
                    field.disabled = True

    def clean_updated_at(self) -> dt.datetime:
        try:
            return dt.datetime.fromisoformat(self.cleaned_data["updated_at"])
        except ValueError:
            raise ValidationError(_("Reload the ticket and try again.")) from None


def changed_properties(form: forms.Form, names: Iterable[str]) -> list[str]:
    changed = set(form.changed_data)
    return [name for name in names if name in changed]


PROPERTY_NAMES = ["status", "priority", "type", "group", "assignee", "tags", "followers"]


def ticket_data_kwargs(
    form: "TicketUpdateForm | NewTicketForm",
    *,
    names: Iterable[str],
    agents: Mapping[str, User],
    groups: Mapping[str, Group],
) -> dict[str, Any]:
    """TicketData keyword arguments for the fields in ``names`` (already validated)."""
    data: dict[str, Any] = {}
    custom: dict[int, Any] = {}
    fields_by_name = {cf_name(f): f for f in form.choices.fields}
    for name in names:
        value = form.cleaned_data.get(name)
        if name == "status":
            data["custom_status"] = form.choices.status_by_id(value or "")
        elif name in ("priority", "type"):
            data[name] = value or None
        elif name == "group":
            data["group"] = groups.get(value or "")
        elif name == "assignee":
            data["assignee"] = agents.get(value or "")
        elif name == "tags":
            data["tags"] = (value or "").split()
        elif name == "followers":
            data["followers"] = [agents[pk] for pk in value or [] if pk in agents]
        elif name in fields_by_name:
            field = fields_by_name[name]
            if field.type == FieldType.CHECKBOX:
                value = bool(value) or None
            custom[field.pk] = value
    if custom:
        data["custom_fields"] = custom
    return data


class NewTicketForm(PropertiesMixin, forms.Form):
    """A ticket on behalf of a customer: an existing requester by email, or a new one."""

    requester_email = forms.EmailField(label=_("Requester email"))
    requester_name = forms.CharField(
        label=_("Requester name"), required=False, max_length=255,
        help_text=_("Only needed for a new customer."),
    )  # fmt: skip
    subject = forms.CharField(label=_("Subject"), max_length=500)
    body = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 8}), required=True
    )
    mode = forms.ChoiceField(
        label=_("Comment type"), choices=COMMENT_MODES, initial="public", widget=forms.RadioSelect
    )
    attachments = forms.FileField(label=_("Attach files"), required=False)

    def __init__(self, *args: Any, choices: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices
        self.add_property_fields(None)
        # A new ticket has no status to keep: "new" unless the agent picks another.
        self.fields["status"].choices = [("", _("New")), *self.choices.status_choices(None)]  # type: ignore[attr-defined]


class BulkUpdateForm(forms.Form):
    """Changes to apply to every selected ticket; empty means "leave as it is"."""

    ticket_ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], label=_("Tickets"))
    status = forms.ChoiceField(label=_("Status"), required=False)
    priority = forms.ChoiceField(label=_("Priority"), required=False)
    group = forms.ChoiceField(label=_("Group"), required=False)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    add_tags = forms.CharField(label=_("Add tags"), required=False)
    remove_tags = forms.CharField(label=_("Remove tags"), required=False)

    UNASSIGN = "none"

    def __init__(self, *args: Any, choices: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices
        keep = ("", _("— no change —"))
        self.fields["status"].choices = [keep, *choices.status_choices(None)]  # type: ignore[attr-defined]
        self.fields["priority"].choices = [keep, *Priority.choices]  # type: ignore[attr-defined]
        self.fields["group"].choices = [keep, *choices.group_choices()[1:]]  # type: ignore[attr-defined]
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            keep,
            (self.UNASSIGN, _("Unassigned")),
            *choices.agent_choices(empty=False),
        ]
        if self.is_bound:
            raw = self.data.getlist("ticket_ids") if hasattr(self.data, "getlist") else []
            self.fields["ticket_ids"].choices = [(v, v) for v in raw]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        names = ["status", "priority", "group", "assignee", "add_tags", "remove_tags"]
        if not any(cleaned.get(name) for name in names):
            raise ValidationError(_("Choose at least one change to apply."))
        return cleaned
