"""Forms of the customer and organization pages; the accounts/crm actions validate."""

import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Group


def _time_zones() -> list[tuple[str, str]]:
    return [(tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz]


class UserForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=255)
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    locale = forms.ChoiceField(label=_("Language"), required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"))
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with spaces.")
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    details = forms.CharField(
        label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["locale"].choices = [("", _("Browser's language")), *settings.LANGUAGES]  # type: ignore[attr-defined]
        self.fields["time_zone"].choices = _time_zones()  # type: ignore[attr-defined]


class OrganizationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=255)
    domain_names = forms.CharField(
        label=_("Email domains"), required=False,
        help_text=_("People writing from these domains join the organization."),
    )  # fmt: skip
    group = forms.ChoiceField(label=_("Group for new tickets"), required=False)
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with spaces.")
    )
    shared_tickets = forms.BooleanField(label=_("Members see each other's tickets"), required=False)
    shared_comments = forms.BooleanField(
        label=_("Members may comment on each other's tickets"), required=False
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    details = forms.CharField(
        label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups = Group.objects.order_by("name").values_list("pk", "name")
        self.fields["group"].choices = [("", "—"), *[(str(pk), name) for pk, name in groups]]  # type: ignore[attr-defined]
