"""Support addresses and per-ticket reply addresses (``support+t123-abcdef1234@acme.cn``)."""

import hashlib
import hmac
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import Group

from . import config
from .models import SupportAddress


def ensure_seeded() -> None:
    """``KEFU_SUPPORT_EMAIL`` becomes the first (default) support address when there is none
    (a write: for startup and before an admin's change, never on a read)."""
    config.seed()


def split_address(address: str) -> tuple[str, str, str]:
    """(local part without +tag, tag, domain) of a lower-cased address."""
    local, _at, domain = address.strip().lower().rpartition("@")
    base, _plus, tag = local.partition("+")
    return base, tag, domain


def find_support_address(address: str) -> SupportAddress | None:
    """The support address mail to ``address`` is for (``local+tag@`` counts as ``local@``)."""
    return config.current().find(address)


def default_support_address() -> SupportAddress | None:
    return config.current().default


def is_support_address(address: str) -> bool:
    return find_support_address(address) is not None


def _signature(ticket_id: int) -> str:
    key = hashlib.sha256(b"kefu-email-reply:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, str(ticket_id).encode(), hashlib.sha256).hexdigest()[:10]


def reply_address(address: SupportAddress, ticket_id: int) -> str:
    """The ticket's own reply address: replies to it thread even without any headers."""
    base, _tag, domain = split_address(address.email)
    return f"{base}+t{ticket_id}-{_signature(ticket_id)}@{domain}"


_TOKEN = re.compile(r"^t(\d+)-([0-9a-f]{10})$")


def ticket_id_from_reply_address(address: str) -> int | None:
    """The ticket a reply address names, if its signature is right."""
    _base, tag, _domain = split_address(address)
    match = _TOKEN.match(tag)
    if match is None:
        return None
    ticket_id = int(match.group(1))
    return ticket_id if hmac.compare_digest(match.group(2), _signature(ticket_id)) else None


# --- Actions ----------------------------------------------------------------------------------


def _clean_email(email: str, *, exclude: SupportAddress | None = None) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": [_("Enter a valid email address.")]}) from None
    if "+" in email.partition("@")[0]:
        raise ValidationError({"email": [_("A support address cannot contain “+”.")]})
    taken = SupportAddress.objects.filter(email=email)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationError({"email": [_("This support address already exists.")]})
    return email


@transaction.atomic
def create_support_address(
    *, email: str, name: str = "", group: Group | None = None, default: bool = False
) -> SupportAddress:
    """Answer mail sent to ``email``; new tickets from it go to ``group``. The first address,
    or one created with ``default=True``, becomes the default (it sends for other tickets)."""
    config.seed()  # KEFU_SUPPORT_EMAIL is the first address, whatever an admin adds
    email = _clean_email(email)
    if default or not SupportAddress.objects.exists():
        SupportAddress.objects.filter(default=True).update(default=False)
        default = True
    return SupportAddress.objects.create(
        email=email, name=name.strip(), group=group, default=default
    )


UPDATABLE_FIELDS = {"email", "name", "group", "default"}


@transaction.atomic
def update_support_address(address: SupportAddress, **changes: object) -> SupportAddress:
    """Change an address (keyword per field: email, name, group, default)."""
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    if "email" in changes:
        address.email = _clean_email(str(changes["email"]), exclude=address)
    if "name" in changes:
        address.name = str(changes["name"] or "").strip()
    if "group" in changes:
        address.group = changes["group"]  # type: ignore[assignment]
    if changes.get("default"):
        SupportAddress.objects.exclude(pk=address.pk).filter(default=True).update(default=False)
        address.default = True
    address.save()
    return address


def delete_support_address(address: SupportAddress) -> None:
    """Stop answering for an address (its mail is then refused with 550)."""
    if address.default and SupportAddress.objects.exclude(pk=address.pk).exists():
        raise ValidationError(
            {"default": [_("Make another address the default before deleting this one.")]}
        )
    address.delete()
