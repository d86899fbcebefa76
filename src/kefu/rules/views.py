"""Admin settings pages for triggers: the ordered list (move up/down, active), create and
edit. Thin: every change goes through ``rules.actions``."""

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.web.admin.decorators import admin_required

from . import actions
from .forms import TriggerForm
from .models import Trigger


def _ordered() -> list[Trigger]:
    return list(Trigger.objects.select_related("category").order_by(
        "category__position", "category_id", "position", "id"))  # fmt: skip


@admin_required
def triggers(request: HttpRequest) -> HttpResponse:
    return render(request, "rules/triggers.html", {"section": "triggers", "triggers": _ordered()})


@admin_required
def edit_trigger(request: HttpRequest, trigger_id: int | None = None) -> HttpResponse:
    trigger = get_object_or_404(Trigger, pk=trigger_id) if trigger_id else None
    initial: dict[str, Any] = {"active": True}
    if trigger is not None:
        initial = {
            "title": trigger.title,
            "description": trigger.description,
            "category": trigger.category,
            "active": trigger.active,
            "conditions": json.dumps(trigger.conditions, ensure_ascii=False, indent=2),
            "actions": json.dumps(trigger.actions, ensure_ascii=False, indent=2),
        }
    form = TriggerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            values = {
                "title": data["title"],
                "description": data["description"],
                "active": data["active"],
                "conditions": form.parsed("conditions", {}),
                "actions": form.parsed("actions", []),
            }
            if data["category"] is not None:
                values["category"] = data["category"]
            if trigger is None:
                actions.create_trigger(actor=request.user, **values)  # type: ignore[arg-type]
            else:
                actions.update_trigger(trigger, actor=request.user, **values)  # type: ignore[arg-type]
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                form.add_error(key if key in form.fields else None, errors)
        else:
            messages.success(request, _("Saved."))
            return redirect("rules:triggers")
    return render(
        request,
        "web/admin/form.html",
        {
            "form": form,
            "title": trigger.title if trigger else _("New trigger"),
            "section": "triggers",
            "back_url": "rules:triggers",
            "delete_url": "rules:delete_trigger",
            "object": trigger,
        },
        status=400 if form.errors else 200,
    )


@admin_required
@require_POST
def move_trigger(request: HttpRequest, trigger_id: int, direction: str) -> HttpResponse:
    """Swap a trigger with its neighbour in run order (positions renumbered 1..n)."""
    ordered = [t.pk for t in _ordered()]
    index = ordered.index(get_object_or_404(Trigger, pk=trigger_id).pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
        actions.reorder_triggers(actor=request.user, trigger_ids=ordered)  # type: ignore[arg-type]
    return redirect("rules:triggers")


@admin_required
@require_POST
def delete_trigger(request: HttpRequest, trigger_id: int) -> HttpResponse:
    actions.delete_trigger(get_object_or_404(Trigger, pk=trigger_id), actor=request.user)  # type: ignore[arg-type]
    messages.success(request, _("Deleted."))
    return redirect("rules:triggers")
