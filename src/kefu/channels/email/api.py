"""Zendesk's ``recipient_addresses`` (the support addresses): agents read, admins write.
Thin — parse, check, call the email actions."""

import json
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Status
from pydantic import ValidationError as PydanticValidationError

from kefu.accounts.models import Group, User
from kefu.api.auth import current_user
from kefu.api.pagination import paginate

from . import actions
from .access import can_manage_email, visible_support_addresses
from .schemas import (
    RecipientAddressEnvelope,
    RecipientAddressIn,
    RecipientAddressInEnvelope,
    RecipientAddressList,
    RecipientAddressVerifyIn,
    recipient_address_json,
    with_forwarding,
)

router = Router(tags=["Support addresses"])


def _agent(request: HttpRequest) -> User:
    user = current_user(request)
    if not user.is_agent:
        raise PermissionDenied(_("Only agents see support addresses."))
    return user


def _admin(request: HttpRequest) -> User:
    user = current_user(request)
    if not can_manage_email(user):
        raise PermissionDenied(_("Only admins manage support addresses."))
    return user


def _changes(data: RecipientAddressIn) -> dict[str, Any]:
    """The fields the client sent, as the actions name them (unknown ones are ignored)."""
    sent = data.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {}
    for name in ("email", "name"):
        if name in sent:
            changes[name] = sent[name] or ""
    if sent.get("default"):
        changes["default"] = True
    if "group_id" in sent:
        group_id = sent["group_id"]
        group = Group.objects.filter(pk=group_id).first() if group_id is not None else None
        if group_id is not None and group is None:
            raise ValidationError({"group_id": [_("There is no group with this id.")]})
        changes["group"] = group
    return changes


@router.get("recipient_addresses", response=RecipientAddressList, summary="List support addresses")
def list_recipient_addresses(request: HttpRequest) -> HttpResponse:
    user = _agent(request)
    return paginate(
        request,
        with_forwarding(visible_support_addresses(user)),
        key="recipient_addresses",
        serialize=lambda rows: [recipient_address_json(row) for row in rows],
    )


@router.get(
    "recipient_addresses/{int:address_id}",
    response=RecipientAddressEnvelope,
    summary="Show a support address",
)
def show_recipient_address(request: HttpRequest, address_id: int) -> dict:
    user = _agent(request)
    address = get_object_or_404(with_forwarding(visible_support_addresses(user)), pk=address_id)
    return {"recipient_address": recipient_address_json(address)}


@router.post(
    "recipient_addresses",
    response={201: RecipientAddressEnvelope},
    summary="Create a support address",
)
def create_recipient_address(request: HttpRequest, payload: RecipientAddressInEnvelope) -> Status:
    _admin(request)
    changes = _changes(payload.recipient_address)
    address = actions.create_support_address(
        email=changes.get("email", ""),
        name=changes.get("name", ""),
        group=changes.get("group"),
        default=bool(changes.get("default")),
    )
    return Status(201, {"recipient_address": recipient_address_json(address)})


@router.put(
    "recipient_addresses/{int:address_id}",
    response=RecipientAddressEnvelope,
    summary="Update a support address",
)
def update_recipient_address(
    request: HttpRequest, address_id: int, payload: RecipientAddressInEnvelope
) -> dict:
    user = _admin(request)
    address = get_object_or_404(visible_support_addresses(user), pk=address_id)
    address = actions.update_support_address(address, **_changes(payload.recipient_address))
    return {"recipient_address": recipient_address_json(address)}


@router.delete(
    "recipient_addresses/{int:address_id}",
    response={204: None},
    summary="Delete a support address",
)
def delete_recipient_address(request: HttpRequest, address_id: int) -> Status:
    user = _admin(request)
    address = get_object_or_404(visible_support_addresses(user), pk=address_id)
    actions.delete_support_address(address)
    return Status(204, None)


@router.put(
    "recipient_addresses/{int:address_id}/verify",
    response=RecipientAddressEnvelope,
    summary="Verify a support address's forwarding",
)
def verify_recipient_address(request: HttpRequest, address_id: int) -> dict:
    """Zendesk's "Verify Support Address Forwarding": ``{"type": "forwarding"}`` (the default)
    sends a check email to the address; ``forwarding_status`` is ``waiting`` until it comes
    back through the inbound path, then ``verified`` (``failed`` if it cannot be sent).
    ``spf`` and ``dns`` are accepted; Kefu runs no DNS checks (their statuses stay unknown)."""
    user = _admin(request)
    address = get_object_or_404(visible_support_addresses(user), pk=address_id)
    # The body is optional (Zendesk: the type defaults to forwarding), so it is read by hand.
    try:
        sent = json.loads(request.body or b"{}")
        kind = RecipientAddressVerifyIn.model_validate(sent if isinstance(sent, dict) else {}).type
    except (ValueError, PydanticValidationError):
        raise ValidationError({"type": [_("Choose forwarding, spf or dns.")]}) from None
    address = actions.verify_support_address(address, type=kind)
    return {"recipient_address": recipient_address_json(address)}
