"""The trigger and automation forms of the admin settings. Conditions and actions come from
the rule builder's rows (``builder.read_rules``); the JSON fields are the advanced fallback,
used when ``use_json`` is ticked. The rules actions check both (and name the entry at fault).
"""

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


class RuleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=255)
    description = forms.CharField(label=_("Description"), required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    use_json = forms.BooleanField(
        label=_("Use the JSON below instead of the rows above"), required=False
    )
    conditions = _json(
        _("Conditions (JSON)"),
        _('{"all": [{"field": "update_type", "operator": "is", "value": "Create"}], "any": []}'),
    )
    actions = _json(
        _("Actions (JSON)"), _('[{"field": "priority", "value": "high"}] — see docs/rules.md')
    )

    # Shown above the builder; the rest in the "advanced" section.
    main_fields = ("title", "description", "category", "active")
    advanced_fields = ("use_json", "conditions", "actions")

    def main(self) -> list[forms.BoundField]:
        return [self[name] for name in self.main_fields if name in self.fields]

    def advanced(self) -> list[forms.BoundField]:
        return [self[name] for name in self.advanced_fields]

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


class TriggerForm(RuleForm):
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=TriggerCategory.objects.order_by("position", "id"),
        required=False,
    )  # fmt: skip


class AutomationForm(RuleForm):
    pass
