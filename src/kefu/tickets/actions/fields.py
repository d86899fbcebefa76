"""Ticket fields, their options, custom statuses, and validation of custom field values."""

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.actions import normalize_tags
from kefu.core import configcache

from ..choices import FieldType, Status
from ..models import CustomStatus, TicketField, TicketFieldOption, custom_field_key

OptionSpec = tuple[str, str]  # (name shown, value = tag)


def _clean_options(options: Iterable[OptionSpec | Mapping[str, Any]]) -> list[tuple[str, str]]:
    cleaned: list[tuple[str, str]] = []
    seen: set[str] = set()
    for option in options:
        if isinstance(option, Mapping):
            name, value = str(option.get("name", "")), str(option.get("value", ""))
        else:
            name, value = option
        name = name.strip()
        tags = normalize_tags([value or name])
        if not name or len(tags) != 1:
            raise ValidationError(
                {"custom_field_options": [_("Each option needs a name and a one-word value.")]}
            )
        if tags[0] in seen:
            raise ValidationError(
                {
                    "custom_field_options": [
                        _("Option values must be unique: %(v)s") % {"v": tags[0]}
                    ]
                }
            )
        seen.add(tags[0])
        cleaned.append((name, tags[0]))
    return cleaned


def _check_field_config(field: TicketField, options: list[tuple[str, str]] | None) -> None:
    if field.type not in FieldType.values:
        raise ValidationError({"type": [_("Unknown field type: %(t)s") % {"t": field.type}]})
    if not field.title.strip():
        raise ValidationError({"title": [_("A field needs a title.")]})
    if field.type == FieldType.REGEXP:
        try:
            re.compile(field.regexp_for_validation)
        except re.error as exc:
            raise ValidationError(
                {"regexp_for_validation": [_("Not a valid regular expression: %(e)s") % {"e": exc}]}
            ) from None
        if not field.regexp_for_validation:
            raise ValidationError({"regexp_for_validation": [_("A pattern is required.")]})
    if field.has_options and options is not None and not options:
        raise ValidationError({"custom_field_options": [_("A drop-down needs options.")]})
    # A customer cannot be required to fill what they cannot edit, nor edit what they
    # cannot see.
    if field.required_in_portal:
        field.editable_in_portal = True
    if field.editable_in_portal:
        field.visible_in_portal = True


def _replace_options(field: TicketField, options: list[tuple[str, str]]) -> None:
    existing = {option.value: option for option in field.options.all()}
    keep = []
    new = []
    for position, (name, value) in enumerate(options):
        option = existing.get(value)
        if option is None:
            new.append(TicketFieldOption(field=field, name=name, value=value, position=position))
        else:
            option.name, option.position = name, position
            option.save(update_fields=["name", "position"])
            keep.append(option.pk)
    field.options.exclude(pk__in=keep).delete()
    TicketFieldOption.objects.bulk_create(new)


@transaction.atomic
def create_ticket_field(
    *,
    type: str,
    title: str,
    description: str = "",
    title_in_portal: str = "",
    position: int = 0,
    active: bool = True,
    required: bool = False,
    required_in_portal: bool = False,
    visible_in_portal: bool = False,
    editable_in_portal: bool = False,
    regexp_for_validation: str = "",
    description_in_portal: str = "",
    tag: str = "",
    options: Sequence[OptionSpec | Mapping[str, Any]] | None = None,
) -> TicketField:
    """Add a custom field. Drop-downs and multi-selects need ``options`` as (name, value)."""
    cleaned = (
        _clean_options(options or [])
        if type in (FieldType.DROPDOWN, FieldType.MULTISELECT)
        else None
    )
    field = TicketField(
        type=type,
        title=title.strip(),
        description=description,
        title_in_portal=title_in_portal.strip(),
        position=position,
        active=active,
        required=required,
        required_in_portal=required_in_portal,
        visible_in_portal=visible_in_portal,
        editable_in_portal=editable_in_portal,
        regexp_for_validation=regexp_for_validation,
        description_in_portal=description_in_portal,
        tag=(normalize_tags([tag]) or [""])[0] if tag else "",
    )
    _check_field_config(field, cleaned if cleaned is not None else None)
    field.save()
    if cleaned is not None:
        _replace_options(field, cleaned)
    configcache.changed(FIELDS)
    return field


UPDATABLE_FIELD_ATTRIBUTES = {
    "title", "description", "title_in_portal", "description_in_portal", "position", "active",
    "required", "required_in_portal", "visible_in_portal", "editable_in_portal",
    "regexp_for_validation", "tag",
}  # fmt: skip


@transaction.atomic
def update_ticket_field(
    field: TicketField,
    *,
    options: Sequence[OptionSpec | Mapping[str, Any]] | None = None,
    **changes: Any,
) -> TicketField:
    """Change a field's settings; ``options`` (if given) replaces the option list, keeping
    the ids of options whose value stays. The type of a field cannot change."""
    unknown = set(changes) - UPDATABLE_FIELD_ATTRIBUTES
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    for name, value in changes.items():
        setattr(field, name, value)
    cleaned = _clean_options(options) if options is not None and field.has_options else None
    _check_field_config(field, cleaned)
    field.save()
    if cleaned is not None:
        _replace_options(field, cleaned)
    configcache.changed(FIELDS)
    return field


def delete_ticket_field(field: TicketField) -> None:
    """Delete a field. Values stay in tickets' history (audit events) but are no longer shown."""
    field.delete()
    configcache.changed(FIELDS)


# Every ticket change reads the active fields and the default statuses: they are kept per
# process (kefu.core.configcache), fingerprinted by row counts, newest change and id range.
FIELDS, STATUSES = "tickets.fields", "tickets.statuses"
configcache.register(
    FIELDS,
    lambda: [
        f"SELECT COUNT(*) FROM {TicketField._meta.db_table}",  # noqa: S608 - table names
        f"SELECT COUNT(*) FROM {TicketField._meta.db_table} WHERE active",  # noqa: S608
        f"SELECT MAX(updated_at) FROM {TicketField._meta.db_table}",  # noqa: S608
        f"SELECT MAX(id) FROM {TicketField._meta.db_table}",  # noqa: S608
        f"SELECT COUNT(*) FROM {TicketFieldOption._meta.db_table}",  # noqa: S608
        f"SELECT MAX(id) FROM {TicketFieldOption._meta.db_table}",  # noqa: S608
    ],
)
configcache.register(
    STATUSES,
    lambda: [
        f"SELECT COUNT(*) FROM {CustomStatus._meta.db_table}",  # noqa: S608 - table names
        f"SELECT MAX(updated_at) FROM {CustomStatus._meta.db_table}",  # noqa: S608
        f"SELECT MAX(id) FROM {CustomStatus._meta.db_table}",  # noqa: S608
    ],
)


def _load_active_fields() -> dict[int, TicketField]:
    return {f.pk: f for f in TicketField.objects.filter(active=True).prefetch_related("options")}


def active_fields_by_id() -> dict[int, TicketField]:
    """The active fields with their options (shared per process: read-only)."""
    return configcache.cached(FIELDS, [FIELDS], _load_active_fields)


def active_fields_in_order() -> list[TicketField]:
    """The active fields in display order (position, id), as ``active_fields_by_id``."""
    return sorted(active_fields_by_id().values(), key=lambda f: (f.position, f.pk))


def field_tags(field: TicketField, value: Any) -> set[str]:
    """Tags a value of this field puts on the ticket (Zendesk's tagger behaviour)."""
    if value in (None, "", [], False):
        return set()
    if field.type == FieldType.CHECKBOX:
        return {field.tag} if field.tag else set()
    if field.type == FieldType.DROPDOWN:
        return {value}
    if field.type == FieldType.MULTISELECT:
        return set(value)
    return set()


def clean_field_value(field: TicketField, value: Any) -> Any:
    """The stored form of ``value`` for this field, or ValidationError naming the field.

    None / "" / [] mean "no value" and come back as None.
    """
    error_key = f"custom_fields_{field.pk}"

    def invalid(message: str) -> ValidationError:
        return ValidationError({error_key: [f"{field.title}: {message}"]})

    if value is None or value == "" or value == []:
        return None
    kind = field.type
    if kind in (FieldType.TEXT, FieldType.TEXTAREA, FieldType.REGEXP):
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise invalid(_("must be text"))
        text = str(value)
        if kind == FieldType.TEXT and "\n" in text:
            raise invalid(_("must be a single line"))
        if kind == FieldType.REGEXP and not re.fullmatch(field.regexp_for_validation, text):
            raise invalid(_("“%(v)s” does not match the required format") % {"v": text})
        return text
    if kind == FieldType.INTEGER:
        if isinstance(value, bool):
            raise invalid(_("must be a whole number"))
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise invalid(_("must be a whole number")) from None
        if number != number.to_integral_value():
            raise invalid(_("must be a whole number"))
        return int(number)
    if kind == FieldType.DECIMAL:
        if isinstance(value, bool):
            raise invalid(_("must be a number"))
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise invalid(_("must be a number")) from None
        if not number.is_finite():
            raise invalid(_("must be a number"))
        return float(number)
    if kind == FieldType.DATE:
        try:
            return dt.date.fromisoformat(str(value)[:10]).isoformat()
        except ValueError:
            raise invalid(_("must be a date such as 2026-11-22")) from None
    if kind == FieldType.CHECKBOX:
        if value in (True, "true", "1", 1, "on"):
            return True
        if value in (False, "false", "0", 0, "off"):
            return None
        raise invalid(_("must be true or false"))
    options = {option.value for option in field.options.all()}
    if kind == FieldType.DROPDOWN:
        if str(value) not in options:
            raise invalid(_("“%(v)s” is not one of the options") % {"v": value})
        return str(value)
    if kind == FieldType.MULTISELECT:
        values = value.split() if isinstance(value, str) else list(value)
        unknown = [v for v in values if str(v) not in options]
        if unknown:
            raise invalid(_("“%(v)s” is not one of the options") % {"v": unknown[0]})
        return sorted({str(v) for v in values}) or None
    raise invalid(_("unsupported field type"))


def clean_custom_fields(
    values: Mapping[int, Any],
    *,
    for_end_user: bool,
    fields: Mapping[int, TicketField] | None = None,
) -> dict[str, Any]:
    """Validate ``{field id: value}``; returns ``{"f<id>": value-or-None}``."""
    if fields is None:
        fields = active_fields_by_id()
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for raw_id, value in values.items():
        try:
            field_id = int(raw_id)
        except (TypeError, ValueError):
            errors[f"custom_fields_{raw_id}"] = [_("Unknown ticket field: %(id)s") % {"id": raw_id}]
            continue
        field = fields.get(field_id)
        if field is None or (for_end_user and not field.editable_in_portal):
            errors[f"custom_fields_{raw_id}"] = [_("Unknown ticket field: %(id)s") % {"id": raw_id}]
            continue
        try:
            cleaned[custom_field_key(field_id)] = clean_field_value(field, value)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return cleaned


# --- Custom statuses --------------------------------------------------------------------------


def _check_translations(translations: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    allowed = {"agent_label", "end_user_label", "description", "end_user_description"}
    cleaned: dict[str, dict[str, str]] = {}
    for language, labels in translations.items():
        if not isinstance(labels, Mapping) or set(labels) - allowed:
            raise ValidationError(
                {
                    "translations": [
                        _(
                            "Translations take agent_label, end_user_label, "
                            "description and end_user_description."
                        )
                    ]
                }
            )
        cleaned[str(language).lower()] = {k: str(v) for k, v in labels.items()}
    return cleaned


@transaction.atomic
def create_custom_status(
    *,
    status_category: str,
    agent_label: str,
    end_user_label: str = "",
    description: str = "",
    end_user_description: str = "",
    translations: Mapping[str, Any] | None = None,
    active: bool = True,
) -> CustomStatus:
    if status_category not in Status.values:
        raise ValidationError(
            {"status_category": [_("Unknown status category: %(c)s") % {"c": status_category}]}
        )
    if not agent_label.strip():
        raise ValidationError({"agent_label": [_("A status needs a label for agents.")]})
    status = CustomStatus.objects.create(
        status_category=status_category,
        agent_label=agent_label.strip(),
        end_user_label=end_user_label.strip(),
        description=description,
        end_user_description=end_user_description,
        translations=_check_translations(translations or {}),
        active=active,
    )
    configcache.changed(STATUSES)
    return status


@transaction.atomic
def update_custom_status(status: CustomStatus, **changes: Any) -> CustomStatus:
    """Change labels, descriptions, translations or ``active``. The category is fixed, and the
    default status of a category cannot be deactivated."""
    allowed = {
        "agent_label", "end_user_label", "description", "end_user_description",
        "translations", "active",
    }  # fmt: skip
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    if "translations" in changes:
        changes["translations"] = _check_translations(changes["translations"])
    if changes.get("active") is False and status.default:
        raise ValidationError({"active": [_("The default status of a category stays active.")]})
    if "agent_label" in changes and not str(changes["agent_label"]).strip():
        raise ValidationError({"agent_label": [_("A status needs a label for agents.")]})
    for name, value in changes.items():
        setattr(status, name, value)
    status.save()
    configcache.changed(STATUSES)
    return status


def _load_default_statuses() -> dict[str, CustomStatus]:
    return {s.status_category: s for s in CustomStatus.objects.filter(default=True)}


def default_custom_status(category: str) -> CustomStatus:
    """The default custom status of a category (shared per process: read-only)."""
    found = configcache.cached(STATUSES, [STATUSES], _load_default_statuses).get(category)
    if found is None:
        raise CustomStatus.DoesNotExist(f"no default custom status for {category!r}")
    return found
