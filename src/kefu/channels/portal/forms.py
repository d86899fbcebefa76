"""The portal's forms: a new request (with the custom fields customers may fill) and a reply.

Form fields check the shape of the input; the rules (required portal fields, valid option,
attachment size and type) are the ticket actions', whose errors land next to the field."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.tickets.choices import FieldType
from kefu.tickets.models import TicketField

from .actions import UploadedFile


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def uploaded_files(files: list[Any]) -> list[UploadedFile]:
    return [UploadedFile(name=f.name, content=f, content_type=f.content_type) for f in files]


def portal_fields() -> list[TicketField]:
    """The custom fields customers fill in when they submit a request, in order."""
    return list(
        TicketField.objects.filter(active=True, visible_in_portal=True, editable_in_portal=True)
        .prefetch_related("options")
        .order_by("position", "id")
    )


def _form_field(field: TicketField) -> forms.Field:
    label = field.title_in_portal or field.title
    common: dict[str, Any] = {
        "label": label,
        "required": field.required_in_portal,
        "help_text": field.description_in_portal,
    }
    choices = [(o.value, o.name) for o in field.options.all()]
    match field.type:
        case FieldType.TEXTAREA:
            return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
        case FieldType.CHECKBOX:
            return forms.BooleanField(**{**common, "required": field.required_in_portal})
        case FieldType.DATE:
            return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
        case FieldType.INTEGER | FieldType.DECIMAL:
            return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
        case FieldType.DROPDOWN:
            return forms.ChoiceField(choices=[("", "—"), *choices], **common)
        case FieldType.MULTISELECT:
            return forms.MultipleChoiceField(
                choices=choices, widget=forms.CheckboxSelectMultiple, **common
            )
        case _:
            return forms.CharField(max_length=5000, **common)


class RequestForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=500)
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_("What happened, what you expected, order or device numbers if any."),
    )
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args: Any, fields: list[TicketField], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ticket_fields = fields
        attachments = self.fields.pop("attachments")
        for field in fields:
            self.fields[f"custom_{field.pk}"] = _form_field(field)
        self.fields["attachments"] = attachments

    def custom_field_values(self) -> dict[int, Any]:
        return {
            field.pk: self.cleaned_data.get(f"custom_{field.pk}") for field in self.ticket_fields
        }

    @staticmethod
    def field_name_for(error_key: str) -> str:
        """Map an action's error key to this form's field: ``custom_fields_12`` → ``custom_12``,
        ``uploads`` → ``attachments``, ``comment`` → ``description``."""
        if error_key.startswith("custom_fields_"):
            return "custom_" + error_key.removeprefix("custom_fields_")
        return {"uploads": "attachments", "comment": "description"}.get(error_key, error_key)


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    attachments = MultipleFileField(label=_("Attachments"))
    mark_solved = forms.BooleanField(label=_("Also mark my request as solved"), required=False)

    @staticmethod
    def field_name_for(error_key: str) -> str:
        # "mark_solved" has no box of its own when refused: the error goes on top of the form.
        names = {"uploads": "attachments", "comment": "body", "mark_solved": "__all__"}
        return names.get(error_key, error_key)
