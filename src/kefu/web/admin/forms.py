"""Forms of the admin settings. They check the input's shape; the rules live in the actions,
whose ValidationErrors are put next to the field they name (``error_fields`` maps the
action's names to the form's)."""

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kefu.accounts.choices import Role
from kefu.accounts.models import Group
from kefu.tickets.choices import FieldType, Status

from ...tickets.actions.views import DEFAULT_COLUMNS, SORTABLE

STAFF_ROLE_CHOICES = [(Role.AGENT, Role.AGENT.label), (Role.ADMIN, Role.ADMIN.label)]


class AdminForm(forms.Form):
    error_fields: dict[str, str] = {}

    def field_name_for(self, key: str) -> str:
        key = self.error_fields.get(key, key)
        return key if key in self.fields else "__all__"

    def add_action_errors(self, exc: ValidationError) -> None:
        """Show an action's ``ValidationError`` next to the fields it names (the rest above
        the form), so the form keeps what was typed."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for key, errors in exc.message_dict.items():
            name = self.field_name_for(key)
            self.add_error(None if name == "__all__" else name, errors)


def _groups_field() -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        label=_("Groups"),
        queryset=Group.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class InviteAgentForm(AdminForm):
    name = forms.CharField(label=_("Name"), max_length=255)
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=STAFF_ROLE_CHOICES, initial=Role.AGENT)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["groups"] = _groups_field()


class AgentForm(AdminForm):
    name = forms.CharField(label=_("Name"), max_length=255)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=Role.choices,
        help_text=_("An end user is a customer: they lose access to the workspace."),
    )
    suspended = forms.BooleanField(label=_("Suspended (cannot sign in)"), required=False)
    error_fields = {"groups": "groups", "user_id": "groups"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["groups"] = _groups_field()


class GroupForm(AdminForm):
    name = forms.CharField(label=_("Name"), max_length=255)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    default = forms.BooleanField(
        label=_("Default group (new tickets without a group land here)"), required=False
    )


OPTIONS_HELP = _(
    "One option per line: the name customers and agents see, optionally followed by "
    "“|” and the tag it sets (for example “Refund | refund”). Without a tag, the name "
    "becomes the tag."
)


class TicketFieldForm(AdminForm):
    type = forms.ChoiceField(label=_("Type"), choices=FieldType.choices)
    title = forms.CharField(label=_("Title for agents"), max_length=255)
    description = forms.CharField(
        label=_("Description for agents"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    options = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=OPTIONS_HELP,
    )
    required = forms.BooleanField(label=_("Required to solve the ticket"), required=False)
    visible_in_portal = forms.BooleanField(label=_("Customers can see it"), required=False)
    editable_in_portal = forms.BooleanField(
        label=_("Customers can fill it in when they submit a request"), required=False
    )
    required_in_portal = forms.BooleanField(label=_("Customers must fill it in"), required=False)
    title_in_portal = forms.CharField(
        label=_("Title for customers"),
        max_length=255,
        required=False,
        help_text=_("Leave empty to use the title for agents."),
    )
    description_in_portal = forms.CharField(
        label=_("Help text for customers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    regexp_for_validation = forms.CharField(
        label=_("Pattern (regular expression fields)"), required=False, max_length=500
    )
    tag = forms.CharField(label=_("Tag (checkbox fields)"), required=False, max_length=255)
    position = forms.IntegerField(label=_("Position"), initial=0)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    error_fields = {"custom_field_options": "options"}

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["type"].disabled = True
            self.fields["type"].help_text = _("The type of a field cannot change.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("required_in_portal") and not cleaned.get("editable_in_portal"):
            self.add_error(
                "required_in_portal",
                _("Customers can only be required to fill in a field they can edit."),
            )
        if cleaned.get("editable_in_portal") and not cleaned.get("visible_in_portal"):
            cleaned["visible_in_portal"] = True
        return cleaned

    def option_specs(self) -> list[tuple[str, str]]:
        from kefu.accounts.actions import normalize_tags

        specs = []
        for line in (self.cleaned_data.get("options") or "").splitlines():
            if not line.strip():
                continue
            name, _sep, value = line.partition("|")
            value = value.strip() or "_".join(name.split())
            specs.append((name.strip(), (normalize_tags([value]) or [""])[0]))
        return specs


def options_text(field: Any) -> str:
    return "\n".join(f"{o.name} | {o.value}" for o in field.options.all())


def _json_field(label: Any, help_text: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "code", "spellcheck": "false"}),
        help_text=help_text,
    )


def parse_json(form: forms.Form, name: str, default: Any) -> Any:
    text = (form.cleaned_data.get(name) or "").strip()
    if not text:
        return default
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            {name: [_("This is not valid JSON: %(e)s") % {"e": exc.msg}]}
        ) from None


STATUS_BELOW_CHOICES = [("", _("Any status"))] + [
    (value, label) for value, label in Status.choices if value != Status.NEW
]


class ViewForm(AdminForm):
    title = forms.CharField(label=_("Title"), max_length=255)
    description = forms.CharField(label=_("Description"), required=False)
    status_below = forms.ChoiceField(
        label=_("Status is less than"),
        choices=STATUS_BELOW_CHOICES,
        required=False,
        help_text=_("“Solved” shows every ticket that is not solved or closed yet."),
    )
    group = forms.ModelChoiceField(
        label=_("Group is"), queryset=Group.objects.order_by("name"), required=False
    )
    unassigned = forms.BooleanField(label=_("Only unassigned tickets"), required=False)
    conditions = _json_field(
        _("More conditions (JSON)"),
        _('Zendesk\'s format, added to the choices above: {"all": [{"field": "priority", '
          '"operator": "is", "value": "urgent"}], "any": []}. See docs/conditions.md.'),
    )  # fmt: skip
    columns = forms.MultipleChoiceField(
        label=_("Columns"),
        choices=[(c, c) for c in SORTABLE],
        initial=DEFAULT_COLUMNS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    sort_by = forms.ChoiceField(
        label=_("Sort by"), choices=[(c, c) for c in SORTABLE], initial="updated_at"
    )
    sort_order = forms.ChoiceField(
        label=_("Order"),
        choices=[("desc", _("Newest first")), ("asc", _("Oldest first"))],
        initial="desc",
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    error_fields = {"execution": "columns"}

    def view_conditions(self) -> dict[str, Any]:
        extra = parse_json(self, "conditions", {})
        if not isinstance(extra, dict):
            raise ValidationError({"conditions": [_("Write an object with “all” and “any”.")]})
        all_conditions = list(extra.get("all") or [])
        data = self.cleaned_data
        if data.get("status_below"):
            all_conditions.insert(
                0, {"field": "status", "operator": "less_than", "value": data["status_below"]}
            )
        if data.get("group"):
            all_conditions.append(
                {"field": "group_id", "operator": "is", "value": data["group"].pk}
            )
        if data.get("unassigned"):
            all_conditions.append({"field": "assignee_id", "operator": "is", "value": None})
        return {**extra, "all": all_conditions, "any": list(extra.get("any") or [])}

    def execution(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "columns": data.get("columns") or DEFAULT_COLUMNS,
            "sort_by": data["sort_by"],
            "sort_order": data["sort_order"],
        }


class MacroForm(AdminForm):
    title = forms.CharField(label=_("Title"), max_length=255)
    description = forms.CharField(label=_("Description"), required=False)
    actions = _json_field(
        _("Actions (JSON)"),
        _('A list in Zendesk\'s format, for example [{"field": "status", "value": "solved"}, '
          '{"field": "comment_value", "value": "Thank you!"}].'),
    )  # fmt: skip
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class TagRenameForm(AdminForm):
    new_name = forms.CharField(label=_("New name"), max_length=255)


class SettingsForm(AdminForm):
    auto_close_days = forms.IntegerField(
        label=_("Close solved tickets after (days)"), min_value=0, max_value=365
    )
    max_attachment_mb = forms.IntegerField(
        label=_("Largest attachment (MB)"), min_value=1, max_value=100
    )
    blocked_extensions = forms.CharField(
        label=_("Refused file types"),
        required=False,
        help_text=_("File name endings separated by spaces, such as .exe .bat"),
    )
    allow_registration = forms.BooleanField(
        label=_("Customers can create an account in the portal"), required=False
    )


class BrandingForm(AdminForm):
    company_name = forms.CharField(
        label=_("Company name"),
        max_length=100,
        required=False,
        help_text=_("Shown in the portal and the agent workspace instead of “Kefu”."),
    )
    primary_color = forms.CharField(
        label=_("Primary colour"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_("Buttons and links."),
    )
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_("PNG, JPEG, GIF or WebP, up to 1 MB; about 32 pixels high is best."),
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}
        ),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
