"""The ``recipient_addresses`` API's shapes (Zendesk's, plus Kefu's ``group_id`` routing)."""

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from ninja import Schema

from kefu.api.formats import timestamp

from .models import InboundMessage, SupportAddress


class RecipientAddressIn(Schema):
    email: str | None = None
    name: str | None = None
    default: bool | None = None
    brand_id: int | None = None
    group_id: int | None = None


class RecipientAddressInEnvelope(Schema):
    recipient_address: RecipientAddressIn


class RecipientAddressVerifyIn(Schema):
    type: str = "forwarding"


class RecipientAddressEnvelope(Schema):
    recipient_address: dict[str, Any]


class RecipientAddressList(Schema):
    recipient_addresses: list[dict[str, Any]]
    next_page: str | None = None
    previous_page: str | None = None
    count: int | None = None
    meta: dict[str, Any] | None = None
    links: dict[str, Any] | None = None


def with_forwarding(queryset: QuerySet[SupportAddress]) -> QuerySet[SupportAddress]:
    """Annotate ``has_mail``: whether any message for the address has reached Kefu."""
    received = InboundMessage.objects.filter(recipient=OuterRef("email"))
    return queryset.annotate(has_mail=Exists(received))


def recipient_address_json(address: SupportAddress) -> dict[str, Any]:
    """Zendesk's recipient address. Kefu checks no DNS, so ``spf_status``/``cname_status`` are
    ``unknown``; ``forwarding_status`` is the last forwarding check's result (``waiting``,
    ``verified``, ``failed``: ``PUT .../verify``), and without one ``verified`` once mail for the
    address has arrived (by SMTP or IMAP), else ``waiting``. ``group_id`` is Kefu's: new
    tickets go to it."""
    status = address.forwarding_status
    if not status:
        has_mail = getattr(address, "has_mail", None)
        if has_mail is None:
            has_mail = InboundMessage.objects.filter(recipient=address.email).exists()
        status = "verified" if has_mail else "waiting"
    return {
        "id": address.pk,
        "email": address.email,
        "name": address.name,
        "default": address.default,
        "brand_id": None,
        "forwarding_status": status,
        "spf_status": "unknown",
        "cname_status": "unknown",
        "domain_verification_status": "unknown",
        "group_id": address.group_id,
        "created_at": timestamp(address.created_at),
        "updated_at": timestamp(address.updated_at),
    }
