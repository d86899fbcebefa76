"""Admin settings pages for triggers and automations: the ordered lists, create and edit
with the rule builder (rows of field → operator → value, ``builder``), and the HTMX
partial that draws one row. Thin: every change goes through ``rules.actions``."""

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.web.admin.decorators import admin_required

from . import actions, builder
from .forms import AutomationForm, RuleForm, TriggerForm
from .models import Automation, Trigger


def _ordered() -> list[Trigger]:
    return list(Trigger.objects.select_related("category").order_by(
        "category__position", "category_id", "position", "id"))  # fmt: skip


@admin_required
def triggers(request: HttpRequest) -> HttpResponse:
    return render(request, "rules/triggers.html", {"section": "triggers", "triggers": _ordered()})


@admin_required
def automations(request: HttpRequest) -> HttpResponse:
    items = Automation.objects.order_by("position", "id")
    return render(request, "rules/automations.html",
                  {"section": "automations", "automations": items})  # fmt: skip


def _initial(rule: Trigger | Automation | None) -> dict[str, Any]:
    if rule is None:
        return {"active": True}
    initial = {
        "title": rule.title,
        "description": rule.description,
        "active": rule.active,
        "conditions": json.dumps(rule.conditions, ensure_ascii=False, indent=2),
        "actions": json.dumps(rule.actions, ensure_ascii=False, indent=2),
    }
    if isinstance(rule, Trigger):
        initial["category"] = rule.category
    return initial


def _starting_rows(kind: builder.RuleKind, rule: Trigger | Automation | None) -> Any:
    if rule is not None:
        return builder.rows_from_rules(kind, rule.conditions, rule.actions)
    rows = builder.rows_from_rules(kind, {}, [])
    rows["all"].append(builder.condition_row(kind, "all", builder.new_key(), "", "", ""))
    rows["actions"].append(builder.action_row("actions", builder.new_key(), "", []))
    return rows


def _save(kind: str, rule: Any, actor: Any, form: RuleForm, values: dict[str, Any]) -> None:
    data = form.cleaned_data
    values |= {"title": data["title"], "description": data["description"],
               "active": data["active"]}  # fmt: skip
    if kind == "trigger":
        if data.get("category") is not None:
            values["category"] = data["category"]
        if rule is None:
            actions.create_trigger(actor=actor, **values)
        else:
            actions.update_trigger(rule, actor=actor, **values)
    elif rule is None:
        actions.create_automation(actor=actor, **values)
    else:
        actions.update_automation(rule, actor=actor, **values)


def _edit_rule(request: HttpRequest, kind_name: str, rule: Any) -> HttpResponse:
    kind = builder.KINDS[kind_name]()
    form_class = TriggerForm if kind_name == "trigger" else AutomationForm
    form = form_class(request.POST or None, initial=_initial(rule))
    rows = _starting_rows(kind, rule)
    rule_errors: dict[str, list[str]] = {"conditions": [], "actions": []}
    if request.method == "POST":
        posted = builder.read_rules(kind, request.POST)
        rows = posted.rows
        if form.is_valid():
            use_json = form.cleaned_data["use_json"]
            try:
                if use_json:
                    values = {"conditions": form.parsed("conditions", {}),
                              "actions": form.parsed("actions", [])}  # fmt: skip
                else:
                    values = {"conditions": posted.conditions, "actions": posted.actions}
                _save(kind_name, rule, request.user, form, values)
            except ValidationError as exc:
                for key, errors in exc.message_dict.items():
                    if key in rule_errors and not use_json:
                        prefix = "actions" if key == "actions" else "all"
                        rule_errors[key] += builder.place_errors(posted, prefix, errors)
                    else:
                        form.add_error(key if key in form.fields else None, errors)
            else:
                messages.success(request, _("Saved."))
                return redirect(f"rules:{kind_name}s")
    has_errors = bool(form.errors or any(rule_errors.values()) or any(
        row.errors for group in rows.values() for row in group))  # fmt: skip
    if kind_name == "trigger":
        title = rule.title if rule else _("New trigger")
    else:
        title = rule.title if rule else _("New automation")
    return render(
        request,
        "rules/rule_form.html",
        {
            "form": form,
            "rule_kind": kind_name,
            "rows": rows,
            "rule_errors": rule_errors,
            "title": title,
            "section": f"{kind_name}s",
            "back_url": f"rules:{kind_name}s",
            "delete_url": f"rules:delete_{kind_name}",
            "object": rule,
        },
        status=400 if has_errors else 200,
    )


@admin_required
def edit_trigger(request: HttpRequest, trigger_id: int | None = None) -> HttpResponse:
    trigger = get_object_or_404(Trigger, pk=trigger_id) if trigger_id else None
    return _edit_rule(request, "trigger", trigger)


@admin_required
def edit_automation(request: HttpRequest, automation_id: int | None = None) -> HttpResponse:
    automation = get_object_or_404(Automation, pk=automation_id) if automation_id else None
    return _edit_rule(request, "automation", automation)


@admin_required
def builder_row(request: HttpRequest) -> HttpResponse:
    """One builder row (HTMX): a new empty one, or one redrawn after its field or operator
    changed (the operators and the value widget follow the field)."""
    params = request.GET
    kind_factory = builder.KINDS.get(params.get("rule", ""))
    prefix = params.get("prefix", "")
    if kind_factory is None or prefix not in ("all", "any", "actions"):
        raise Http404
    key = params.get("key") or builder.new_key()
    if not key.isalnum():
        raise Http404
    base = f"{prefix}-{key}"
    field_name = params.get(f"{base}-field", "")
    field_changed = params.get("changed") == "field"
    if prefix == "actions":
        values = [] if field_changed else [params.get(f"{base}-value", "")]
        row = builder.action_row(prefix, key, field_name, values)
        template = "rules/partials/action_row.html"
    else:
        operator = params.get(f"{base}-operator", "")
        value = "" if field_changed else params.get(f"{base}-value", "")
        row = builder.condition_row(kind_factory(), prefix, key, field_name, operator, value)
        template = "rules/partials/condition_row.html"
    return render(request, template, {"row": row, "rule_kind": params["rule"]})


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


@admin_required
@require_POST
def delete_automation(request: HttpRequest, automation_id: int) -> HttpResponse:
    automation = get_object_or_404(Automation, pk=automation_id)
    actions.delete_automation(automation, actor=request.user)  # type: ignore[arg-type]
    messages.success(request, _("Deleted."))
    return redirect("rules:automations")
