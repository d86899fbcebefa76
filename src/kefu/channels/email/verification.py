"""Checking that mail to a support address reaches Kefu (Zendesk's "verify forwarding").

``PUT /api/v2/recipient_addresses/{id}/verify`` with ``{"type": "forwarding"}`` asks Kefu to
send a check email through its outbound SMTP (``KEFU_EMAIL_URL``) *to the support address
itself*. The mail provider delivers it to the mailbox, which forwards it to Kefu's SMTP receiver
or from which Kefu fetches it by IMAP — the way customers' mail arrives. When it comes back
with its token, the address's ``forwarding_status`` becomes ``verified``; the message makes no
ticket. Until then the status is ``waiting``; a check email that cannot be sent makes it
``failed`` with the error. Kefu runs no DNS checks: ``"spf"`` and ``"dns"`` are accepted and
change nothing (their statuses stay ``unknown``). docs/email.md.
"""

import functools
import hmac
import logging
import secrets

from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.tasks import task
from django.utils.translation import gettext as _

from kefu.core import clock

from .models import SupportAddress

log = logging.getLogger(__name__)

HEADER = "X-Kefu-Forwarding-Check"
VERIFY_TYPES = ("forwarding", "spf", "dns")


def verify_support_address(address: SupportAddress, *, type: str = "forwarding") -> SupportAddress:
    """Start a check of ``address`` (``type`` as in Zendesk: forwarding, spf or dns)."""
    if type not in VERIFY_TYPES:
        raise ValidationError({"type": [_("Choose forwarding, spf or dns.")]})
    if type != "forwarding":
        return address  # no DNS checks in a self-hosted Kefu: documented, nothing to do
    token = secrets.token_hex(16)
    with transaction.atomic():
        SupportAddress.objects.filter(pk=address.pk).update(
            forwarding_status="waiting",
            forwarding_token=token,
            forwarding_checked_at=clock.now(),
            forwarding_error="",
        )
        transaction.on_commit(functools.partial(_enqueue, address.pk, token))
    address.refresh_from_db()
    return address


def _enqueue(address_id: int, token: str) -> None:
    try:
        send_forwarding_check_task.enqueue(address_id, token)
    except Exception as exc:  # say so on the address rather than wait for ever
        log.exception("could not enqueue the forwarding check of address %s", address_id)
        _failed(address_id, token, f"The check email could not be queued: {exc}")


def _failed(address_id: int, token: str, error: str) -> None:
    SupportAddress.objects.filter(pk=address_id, forwarding_token=token).update(
        forwarding_status="failed", forwarding_error=error[:2000]
    )


@task()
def send_forwarding_check_task(address_id: int, token: str) -> str:
    return send_forwarding_check(address_id, token)


def send_forwarding_check(address_id: int, token: str) -> str:
    """Send the check email of the latest request (an older token: nothing to do)."""
    from .outbound import _deliver

    address = SupportAddress.objects.filter(pk=address_id, forwarding_token=token).first()
    if address is None:
        return "stale"
    domain = address.email.rpartition("@")[2] or "kefu.invalid"
    message = EmailMultiAlternatives(
        subject="Kefu forwarding check / 客服系统转发验证",
        body=(
            "Kefu sent this message to check that mail to this address reaches it. "
            "It needs no action and creates no ticket.\n\n"
            "客服系统发送此邮件以确认发往此地址的邮件能够到达系统，无需处理，也不会创建工单。\n"
        ),
        from_email=address.email,
        to=[address.email],
        headers={
            HEADER: token,
            "Message-ID": f"<kefu.check.{secrets.token_hex(8)}@{domain}>",
            "Auto-Submitted": "auto-generated",
        },
    )
    try:
        _deliver(message)
    except Exception as exc:
        _failed(address_id, token, f"{type(exc).__name__}: {exc}")
        return "failed"
    return "sent"


def forwarding_check_token(headers: dict[str, str]) -> str:
    """The token a message carries if it is a forwarding check ("" otherwise)."""
    return headers.get(HEADER.lower(), "").strip()


def receive_forwarding_check(address: SupportAddress | None, token: str) -> bool:
    """A check email came back to ``address``: verified if the token is its latest one."""
    if address is None or address.pk is None:
        return False
    current = (
        SupportAddress.objects.filter(pk=address.pk).values_list("forwarding_token", flat=True)
    ).first()
    if not current or not hmac.compare_digest(current, token):
        return False
    SupportAddress.objects.filter(pk=address.pk, forwarding_token=current).update(
        forwarding_status="verified", forwarding_checked_at=clock.now(), forwarding_error=""
    )
    return True
