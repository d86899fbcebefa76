"""The trigger form of the admin settings: conditions and actions as Zendesk's JSON, checked
by the rules actions (which name the entry at fault)."""

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import TriggerCategory


def _json(label: Any, help_text: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "code", "spellcheck": "false"}),
        help_text=help_text,
    )


class TriggerForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=255)
    description = forms.CharField(label=_("Description"), required=False)
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=TriggerCategory.objects.order_by("position", "id"),
        required=False,
    )  # fmt: skip
    conditions = _json(
        _("Conditions (JSON)"),
        _('{"all": [{"field": "update_type", "operator": "is", "value": "Create"}], "any": []}'),
    )
    actions = _json(
        _("Actions (JSON)"), _('[{"field": "priority", "value": "high"}] — see docs/rules.md')
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def parsed(self, name: str, default: Any) -> Any:
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            return default
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                {name: [_("This is not valid JSON: %(e)s") % {"e": exc.msg}]}
            ) from None
