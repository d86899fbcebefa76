"""Ticket condition fields (Zendesk's names), for views, triggers, automations and SLAs.

The machinery is in ``kefu.core.conditions``; this module only says which ticket columns the
fields read. See docs/conditions.md for the reference and how to add a field.
"""

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import clock
from kefu.core.conditions import (
    BooleanSpec,
    ChoiceSpec,
    Column,
    Conditions,
    ConditionsInput,
    FieldSpec,
    ForeignKeySpec,
    HoursSpec,
    InvalidValue,
    JsonKey,
    NumberSpec,
    OrderedChoiceSpec,
    Registry,
    TagsSpec,
    TextSpec,
    bind,
    parse_conditions,
)

from .choices import PRIORITY_ORDER, STATUS_ORDER, Channel, FieldType, Status, TicketType
from .models import Ticket, TicketField, TicketTag, custom_field_key

CUSTOM_FIELD_PREFIX = "custom_fields_"

ticket_conditions = Registry("ticket")
register = ticket_conditions.register

# --- Values -----------------------------------------------------------------------------------

register(OrderedChoiceSpec(name="status", source=Column("status"), order=STATUS_ORDER))
register(
    OrderedChoiceSpec(
        name="priority", source=Column("priority"), order=PRIORITY_ORDER, nullable=True
    )
)
register(ChoiceSpec(name="type", source=Column("type"), choices=TicketType.values, nullable=True))
# Zendesk's via_id is a number per channel; Kefu's channels are named ("email", "web").
register(ChoiceSpec(name="via_id", source=Column("via_channel"), choices=Channel.values))
register(ChoiceSpec(name="external_id", source=Column("external_id"), nullable=True))
register(TextSpec(name="subject", source=Column("subject")))
register(BooleanSpec(name="is_public", source=Column("is_public")))

# --- People, groups, organizations ------------------------------------------------------------

register(ForeignKeySpec(name="custom_status_id", source=Column("custom_status_id")))
# "current_user" is the agent looking at a view, or the person making an update (Zendesk).
_PEOPLE = ("current_user",)
register(ForeignKeySpec(name="requester_id", source=Column("requester_id"), placeholders=_PEOPLE))
register(ForeignKeySpec(name="submitter_id", source=Column("submitter_id"), placeholders=_PEOPLE))
register(
    ForeignKeySpec(
        name="assignee_id", source=Column("assignee_id"), nullable=True, placeholders=_PEOPLE
    )
)
for _name in ("group_id", "organization_id"):
    register(ForeignKeySpec(name=_name, source=Column(_name), nullable=True))


# --- Tags -------------------------------------------------------------------------------------


def _has_any_tag(tags: list[str]) -> Exists:
    # TicketTag rows are the indexed copy of Ticket.tags; actions write both together.
    return Exists(TicketTag.objects.filter(ticket=OuterRef("pk"), name__in=tags))


def _ticket_tags(ticket: Ticket) -> list[str]:
    return list(ticket.tags)


register(TagsSpec(name="current_tags", exists=_has_any_tag, read=_ticket_tags))

# --- Hours since / until (automations) --------------------------------------------------------

register(HoursSpec(name="NEW", source=Column("created_at")))
# "Hours since open" etc.: since the ticket entered the status it is still in.
for _status in (Status.OPEN, Status.PENDING, Status.HOLD, Status.SOLVED, Status.CLOSED):
    register(
        HoursSpec(
            name=_status.value.upper(),
            source=Column("status_updated_at"),
            when={"status": _status.value},
        )
    )
for _name in ("assigned_at", "updated_at", "requester_updated_at", "assignee_updated_at"):
    register(HoursSpec(name=_name, source=Column(_name)))
register(HoursSpec(name="due_date", source=Column("due_at")))
register(HoursSpec(name="until_due_date", source=Column("due_at"), until=True))


# --- Custom fields: custom_fields_<TicketField id> --------------------------------------------


def _custom_field(rest: str) -> FieldSpec | None:
    """The spec for ``custom_fields_<id>``, from the TicketField row (any, active or not, so
    a stored condition keeps working while a field is hidden). Values live in
    ``Ticket.custom_fields["f<id>"]``; actions drop the key when a field is cleared."""
    if not rest.isascii() or not rest.isdigit():
        return None
    field = TicketField.objects.filter(pk=int(rest)).first()
    if field is None:
        return None
    name = CUSTOM_FIELD_PREFIX + rest
    key = custom_field_key(field.pk)
    match field.type:
        case FieldType.DROPDOWN:
            options = list(field.options.values_list("value", flat=True))
            return ChoiceSpec(
                name=name,
                source=JsonKey("custom_fields", key, "string"),
                choices=options,
                nullable=True,
            )
        case FieldType.TEXT | FieldType.TEXTAREA | FieldType.REGEXP:
            return ChoiceSpec(
                name=name, source=JsonKey("custom_fields", key, "string"), nullable=True
            )
        case FieldType.CHECKBOX:
            return BooleanSpec(name=name, source=JsonKey("custom_fields", key, "boolean"))
        case FieldType.INTEGER | FieldType.DECIMAL:
            return NumberSpec(name=name, source=JsonKey("custom_fields", key, "number"))
    # Multi-select options and checkboxes also set tags: current_tags covers those.
    raise InvalidValue(
        _("Field %(field)s (%(type)s) cannot be used in conditions yet")
        % {"field": name, "type": field.type}
    )


ticket_conditions.register_prefix(CUSTOM_FIELD_PREFIX, _custom_field)


# --- Helpers ----------------------------------------------------------------------------------


def parse_ticket_conditions(data: ConditionsInput) -> Conditions:
    """Validate ticket conditions (raises ``ConditionError``); returns them for storing."""
    return parse_conditions(data, ticket_conditions)


def _context(user: User | None) -> dict[str, Any]:
    return {"current_user": user.pk if user is not None else None}


def ticket_filter(
    conditions: ConditionsInput,
    *,
    now: dt.datetime | None = None,
    user: User | None = None,
) -> Q:
    """``Ticket.objects.filter(ticket_filter(view.conditions, user=agent))``. ``now`` defaults
    to the clock; ``user`` is who ``current_user`` means."""
    return bind(conditions, ticket_conditions).q(now=now or clock.now(), context=_context(user))


def ticket_matches(
    conditions: ConditionsInput,
    ticket: Ticket,
    *,
    now: dt.datetime | None = None,
    user: User | None = None,
) -> bool:
    """Whether ``ticket`` (as it is in memory) meets ``conditions``; agrees with
    ``ticket_filter`` for a ticket that is saved."""
    return bind(conditions, ticket_conditions).matches(
        ticket, now=now or clock.now(), context=_context(user)
    )


__all__ = [
    "CUSTOM_FIELD_PREFIX",
    "parse_ticket_conditions",
    "ticket_conditions",
    "ticket_filter",
    "ticket_matches",
]
