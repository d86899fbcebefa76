"""Admin settings pages: thin views over the accounts and tickets actions.

Every page is ``admin_required``. A form that fails (in the form or in the action) is shown
again with the errors next to their fields, the values kept, and status 400."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kefu.accounts import actions as accounts
from kefu.accounts.choices import STAFF_ROLES
from kefu.accounts.models import AccountSettings, Group, GroupMembership, User
from kefu.tickets import actions as tickets
from kefu.tickets.models import Macro, TicketField, View

from . import forms
from .decorators import admin_required
from .sections import sections

Handler = Callable[[dict[str, Any]], Any]


def _form_page(
    request: HttpRequest,
    form: forms.AdminForm,
    *,
    section: str,
    title: str,
    on_valid: Handler,
    success: str,
    redirect_to: str,
    template: str = "web/admin/form.html",
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            on_valid(form.cleaned_data)
        except ValidationError as exc:
            form.add_action_errors(exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or _("You cannot do this."))
        else:
            messages.success(request, success)
            return redirect(redirect_to)
    context = {"form": form, "title": title, "section": section, "back_url": redirect_to}
    return render(
        request, template, {**context, **(extra or {})}, status=400 if form.errors else 200
    )


@admin_required
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "web/admin/index.html", {"section": "", "sections": sections()})


# --- Agents -------------------------------------------------------------------------------------


@admin_required
def agents(request: HttpRequest) -> HttpResponse:
    people = (
        User.objects.filter(role__in=STAFF_ROLES)
        .prefetch_related(
            Prefetch(
                "group_memberships",
                queryset=GroupMembership.objects.select_related("group").order_by("group__name"),
            )
        )
        .order_by("name")
    )
    return render(request, "web/admin/agents.html", {"section": "agents", "agents": people})


@admin_required
def invite_agent(request: HttpRequest) -> HttpResponse:
    form = forms.InviteAgentForm(request.POST or None)

    def invite(data: dict[str, Any]) -> None:
        accounts.invite_agent(
            name=data["name"], email=data["email"], role=data["role"], groups=data["groups"],
            invited_by=request.user,  # type: ignore[arg-type]
        )  # fmt: skip

    return _form_page(
        request, form, section="agents", title=_("Invite an agent"), on_valid=invite,
        success=_("Invitation sent."), redirect_to="web_admin:agents",
    )  # fmt: skip


@admin_required
def edit_agent(request: HttpRequest, user_id: int) -> HttpResponse:
    agent = get_object_or_404(User, pk=user_id, role__in=STAFF_ROLES)
    initial = {
        "name": agent.name,
        "role": agent.role,
        "suspended": agent.suspended,
        "groups": list(agent.agent_groups.all()),
    }
    form = forms.AgentForm(request.POST or None, initial=initial)

    def save(data: dict[str, Any]) -> None:
        if agent.pk == request.user.pk and data["role"] != agent.role:
            raise ValidationError({"role": [_("You cannot change your own role.")]})
        if agent.pk == request.user.pk and data["suspended"]:
            raise ValidationError({"suspended": [_("You cannot suspend yourself.")]})
        accounts.update_user(agent, name=data["name"], role=data["role"],
                             suspended=data["suspended"])  # fmt: skip
        if agent.is_agent:
            accounts.set_agent_groups(user=agent, groups=data["groups"])

    return _form_page(
        request, form, section="agents", title=agent.name, on_valid=save,
        success=_("Saved."), redirect_to="web_admin:agents",
    )  # fmt: skip


# --- Groups -------------------------------------------------------------------------------------


@admin_required
def groups(request: HttpRequest) -> HttpResponse:
    rows = Group.objects.annotate(member_count=Count("memberships")).order_by("name")
    return render(request, "web/admin/groups.html", {"section": "groups", "groups": rows})


@admin_required
def edit_group(request: HttpRequest, group_id: int | None = None) -> HttpResponse:
    group = get_object_or_404(Group, pk=group_id) if group_id else None
    initial = (
        {"name": group.name, "description": group.description, "default": group.default}
        if group
        else {}
    )
    form = forms.GroupForm(request.POST or None, initial=initial)

    def save(data: dict[str, Any]) -> None:
        if group is None:
            accounts.create_group(**data)
        else:
            accounts.update_group(group, **data)

    return _form_page(
        request, form, section="groups",
        title=group.name if group else _("New group"), on_valid=save,
        success=_("Saved."), redirect_to="web_admin:groups",
        extra={"delete_url": "web_admin:delete_group", "object": group},
    )  # fmt: skip


@admin_required
@require_POST
def delete_group(request: HttpRequest, group_id: int) -> HttpResponse:
    accounts.delete_group(get_object_or_404(Group, pk=group_id))
    messages.success(request, _("Deleted."))
    return redirect("web_admin:groups")


# --- Ticket fields ------------------------------------------------------------------------------


@admin_required
def fields(request: HttpRequest) -> HttpResponse:
    rows = TicketField.objects.annotate(option_count=Count("options")).order_by("position", "id")
    return render(request, "web/admin/fields.html", {"section": "fields", "fields": rows})


FIELD_ATTRIBUTES = [
    "title", "description", "title_in_portal", "description_in_portal", "position", "active",
    "required", "required_in_portal", "visible_in_portal", "editable_in_portal",
    "regexp_for_validation", "tag",
]  # fmt: skip


@admin_required
def edit_field(request: HttpRequest, field_id: int | None = None) -> HttpResponse:
    field = get_object_or_404(TicketField, pk=field_id) if field_id else None
    initial: dict[str, Any] = {"position": 0, "active": True}
    if field is not None:
        initial = {name: getattr(field, name) for name in [*FIELD_ATTRIBUTES, "type"]}
        initial["options"] = forms.options_text(field)
    form = forms.TicketFieldForm(request.POST or None, initial=initial, editing=field is not None)

    def save(data: dict[str, Any]) -> None:
        values = {name: data[name] for name in FIELD_ATTRIBUTES}
        options = form.option_specs()
        if field is None:
            tickets.create_ticket_field(type=data["type"], options=options or None, **values)
        else:
            tickets.update_ticket_field(
                field, options=options if field.has_options else None, **values
            )

    return _form_page(
        request, form, section="fields",
        title=field.title if field else _("New ticket field"), on_valid=save,
        success=_("Saved."), redirect_to="web_admin:fields",
        extra={"delete_url": "web_admin:delete_field", "object": field},
    )  # fmt: skip


@admin_required
@require_POST
def delete_field(request: HttpRequest, field_id: int) -> HttpResponse:
    tickets.delete_ticket_field(get_object_or_404(TicketField, pk=field_id))
    messages.success(request, _("Deleted."))
    return redirect("web_admin:fields")


# --- Views and macros ---------------------------------------------------------------------------
# Both are "restricted" rules (shared, for a group, or for one agent) with the same list page,
# the same edit flow and the same actions (create_/update_/delete_<kind>); only their forms
# and how a form becomes the action's arguments differ.


@dataclass(frozen=True)
class _RuleKind:
    model: type[View] | type[Macro]
    section: str  # also the URL names: web_admin:<section>, new_<name>, edit_<name>, delete_<name>
    name: str
    title: Any
    add_label: Any
    new_title: Any
    create: Callable[..., Any]
    update: Callable[..., Any]
    delete: Callable[..., Any]


VIEW_KIND = _RuleKind(
    View, "views", "view",
    gettext_lazy("Views"), gettext_lazy("Add a view"), gettext_lazy("New view"),
    tickets.create_view, tickets.update_view, tickets.delete_view,
)  # fmt: skip
MACRO_KIND = _RuleKind(
    Macro, "macros", "macro",
    gettext_lazy("Macros"), gettext_lazy("Add a macro"), gettext_lazy("New macro"),
    tickets.create_macro, tickets.update_macro, tickets.delete_macro,
)  # fmt: skip


def _rule_list(request: HttpRequest, kind: _RuleKind) -> HttpResponse:
    rows = kind.model.objects.select_related("restriction_group", "restriction_user").order_by(
        "position", "title"
    )
    return render(
        request, "web/admin/rules.html",
        {"section": kind.section, "items": rows, "title": kind.title, "add_label": kind.add_label,
         "new_url": f"web_admin:new_{kind.name}", "edit_url": f"web_admin:edit_{kind.name}"},
    )  # fmt: skip


def _rule_form(
    request: HttpRequest,
    kind: _RuleKind,
    rule: View | Macro | None,
    form: forms.AdminForm,
    values: Callable[[dict[str, Any]], dict[str, Any]],
) -> HttpResponse:
    """The edit page of a view or macro: ``values`` turns the form's data into the action's."""
    actor: User = request.user  # type: ignore[assignment]

    def save(data: dict[str, Any]) -> None:
        if rule is None:
            kind.create(actor=actor, **values(data))
        else:
            kind.update(rule, actor=actor, **values(data))

    return _form_page(
        request, form, section=kind.section, title=rule.title if rule else str(kind.new_title),
        on_valid=save, success=_("Saved."), redirect_to=f"web_admin:{kind.section}",
        extra={"delete_url": f"web_admin:delete_{kind.name}", "object": rule},
    )  # fmt: skip


def _rule_delete(request: HttpRequest, kind: _RuleKind, pk: int) -> HttpResponse:
    kind.delete(get_object_or_404(kind.model, pk=pk), actor=request.user)
    messages.success(request, _("Deleted."))
    return redirect(f"web_admin:{kind.section}")


def _common_initial(rule: View | Macro | None) -> dict[str, Any]:
    if rule is None:
        return {"active": True}
    return {"title": rule.title, "description": rule.description, "active": rule.active}


@admin_required
def views(request: HttpRequest) -> HttpResponse:
    return _rule_list(request, VIEW_KIND)


@admin_required
def edit_view(request: HttpRequest, view_id: int | None = None) -> HttpResponse:
    view = get_object_or_404(View, pk=view_id) if view_id else None
    initial = _common_initial(view)
    if view is not None:
        initial |= {
            "conditions": json.dumps(view.conditions, ensure_ascii=False, indent=2),
            "columns": view.execution.get("columns"),
            "sort_by": view.execution.get("sort_by", "updated_at"),
            "sort_order": view.execution.get("sort_order", "desc"),
        }
    form = forms.ViewForm(request.POST or None, initial=initial)

    def values(data: dict[str, Any]) -> dict[str, Any]:
        return {"title": data["title"], "description": data["description"],
                "active": data["active"], "conditions": form.view_conditions(),
                "execution": form.execution()}  # fmt: skip

    return _rule_form(request, VIEW_KIND, view, form, values)


@admin_required
@require_POST
def delete_view(request: HttpRequest, view_id: int) -> HttpResponse:
    return _rule_delete(request, VIEW_KIND, view_id)


@admin_required
def macros(request: HttpRequest) -> HttpResponse:
    return _rule_list(request, MACRO_KIND)


@admin_required
def edit_macro(request: HttpRequest, macro_id: int | None = None) -> HttpResponse:
    macro = get_object_or_404(Macro, pk=macro_id) if macro_id else None
    initial = _common_initial(macro)
    if macro is not None:
        initial["actions"] = json.dumps(macro.actions, ensure_ascii=False, indent=2)
    form = forms.MacroForm(request.POST or None, initial=initial)

    def values(data: dict[str, Any]) -> dict[str, Any]:
        actions = forms.parse_json(form, "actions", [])
        if not isinstance(actions, list) or not actions:
            raise ValidationError({"actions": [_("A macro needs a list of actions.")]})
        return {"title": data["title"], "description": data["description"],
                "active": data["active"], "actions": actions}  # fmt: skip

    return _rule_form(request, MACRO_KIND, macro, form, values)


@admin_required
@require_POST
def delete_macro(request: HttpRequest, macro_id: int) -> HttpResponse:
    return _rule_delete(request, MACRO_KIND, macro_id)


# --- Tags ---------------------------------------------------------------------------------------


@admin_required
def tags(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")[:100]
    return render(
        request,
        "web/admin/tags.html",
        {"section": "tags", "tags": tickets.tag_counts(search=search), "q": search},
    )


@admin_required
def rename_tag(request: HttpRequest, name: str) -> HttpResponse:
    form = forms.TagRenameForm(request.POST or None, initial={"new_name": name})
    actor: User = request.user  # type: ignore[assignment]

    def rename(data: dict[str, Any]) -> None:
        tickets.rename_tag(actor=actor, old=name, new=data["new_name"])

    return _form_page(
        request, form, section="tags", title=_("Rename the tag “%(tag)s”") % {"tag": name},
        on_valid=rename, success=_("Tag renamed."), redirect_to="web_admin:tags",
    )  # fmt: skip


@admin_required
@require_POST
def delete_tag(request: HttpRequest, name: str) -> HttpResponse:
    try:
        count = tickets.delete_tag(actor=request.user, name=name)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Tag removed from %(count)s tickets.") % {"count": count})
    return redirect("web_admin:tags")


# --- Settings and branding ----------------------------------------------------------------------


@admin_required
def settings_page(request: HttpRequest) -> HttpResponse:
    current = AccountSettings.load()
    initial = {
        "auto_close_days": current.auto_close_days,
        "max_attachment_mb": current.max_attachment_mb,
        "blocked_extensions": " ".join(current.blocked_extensions),
        "allow_registration": current.allow_registration,
    }
    form = forms.SettingsForm(request.POST or None, initial=initial)
    return _form_page(
        request, form, section="settings", title=_("Tickets and portal"),
        on_valid=lambda data: accounts.update_account_settings(**data),
        success=_("Settings saved."), redirect_to="web_admin:settings",
    )  # fmt: skip


@admin_required
def branding(request: HttpRequest) -> HttpResponse:
    current = AccountSettings.load()
    initial = {"company_name": current.company_name, "primary_color": current.primary_color}
    form = forms.BrandingForm(request.POST or None, request.FILES or None, initial=initial)

    def save(data: dict[str, Any]) -> None:
        accounts.update_account_settings(
            company_name=data["company_name"], primary_color=data["primary_color"]
        )
        if data["remove_logo"]:
            accounts.set_logo(file_name="", content=None)
        elif data["logo"]:
            accounts.set_logo(file_name=data["logo"].name, content=data["logo"].read())

    return _form_page(
        request, form, section="branding", title=_("Branding"), on_valid=save,
        success=_("Branding saved."), redirect_to="web_admin:branding",
        template="web/admin/branding.html", extra={"settings": current},
    )  # fmt: skip
