"""Webhook delivery: signing, SSRF protection, retries with backoff, the delivery log.

A rule's ``notification_webhook`` action renders its body and writes a ``WebhookDelivery``
row inside the ticket's transaction; after commit a task sends it. A failed attempt is
logged (``WebhookAttempt``: status code, duration, response excerpt) and retried after
``WEBHOOK_BACKOFF_SECONDS * 2**(attempt-1)`` by the ``rules.retry_webhooks`` job, up to
``WEBHOOK_MAX_ATTEMPTS``. After ``WEBHOOK_PAUSE_AFTER_FAILURES`` failed attempts in a row the
webhook is set inactive (paused). Nothing here ever raises into the ticket update.

Signing (Zendesk): ``X-Zendesk-Webhook-Signature`` = base64(HMAC-SHA256(secret, timestamp +
body)), ``X-Zendesk-Webhook-Signature-Timestamp`` = the timestamp (``2026-11-25T14:00:00Z``).

SSRF: the host is resolved and every address must be public (not private, loopback,
link-local, multicast, reserved or unspecified) unless ``KEFU_WEBHOOK_ALLOW_PRIVATE=1``; the
request is sent to the address that was checked (the ``Host`` header and TLS name stay the
URL's), so a DNS answer that changes between check and connect cannot redirect it.
Redirects are not followed.
"""

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
import urllib.parse
import xml.etree.ElementTree as ET

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import clock
from kefu.core.queueing import enqueue_with_commit
from kefu.tickets.models import Ticket

from .choices import AuthenticationType, DeliveryStatus, RequestFormat, WebhookStatus
from .delivery import placeholder_values, render
from .models import Webhook, WebhookAttempt, WebhookDelivery

log = logging.getLogger(__name__)

EXCERPT = 1000
USER_AGENT = "Kefu-Webhook/1"
# A claimed attempt whose worker never reports back is retried this long after the request's
# timeout would have ended it.
LEASE_MARGIN_SECONDS = 60


# --- Signing ----------------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: str) -> str:
    digest = hmac.new(secret.encode(), (timestamp + body).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


# --- SSRF -------------------------------------------------------------------------------------


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return bool(
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def check_endpoint(url: str) -> tuple[str, int, str]:
    """Validate a webhook URL and resolve it; return (host, port, address to connect to).

    Raises ValidationError({"endpoint": [...]}) for a malformed URL or a refused address."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"endpoint": [_("The endpoint must be an http(s) URL.")]})
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError({"endpoint": [_("The endpoint has an invalid port.")]}) from None
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ValidationError(
            {"endpoint": [_("The endpoint's host %(host)s cannot be resolved.") % {"host": host}]}
        ) from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        refused = [a for a in addresses if _forbidden(a)]
        if refused:
            raise ValidationError(
                {
                    "endpoint": [
                        _("The endpoint resolves to a private or reserved address (%(a)s).")
                        % {"a": refused[0]}
                    ]
                }
            )
    return host, port, str(addresses[0])


# --- Building the request ---------------------------------------------------------------------


def _body(webhook: Webhook, text: str) -> tuple[str, str]:
    """(content type, body) in the webhook's format. A JSON/XML template that is not valid
    JSON is sent as {"message": text} (or <message>)."""
    if webhook.request_format == RequestFormat.JSON:
        return "application/json", text
    try:
        data = json.loads(text)
    except ValueError:
        data = {"message": text}
    if not isinstance(data, dict):
        data = {"value": data}
    if webhook.request_format == RequestFormat.FORM:
        flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
        return "application/x-www-form-urlencoded", urllib.parse.urlencode(flat)
    root = ET.Element("payload")
    for key, value in data.items():
        child = ET.SubElement(root, str(key) if str(key).isidentifier() else "field")
        child.text = value if isinstance(value, str) else json.dumps(value)
    return "application/xml", ET.tostring(root, encoding="unicode")


def _headers(webhook: Webhook, content_type: str, body: str) -> dict[str, str]:
    timestamp = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {str(k): str(v) for k, v in (webhook.custom_headers or {}).items()}
    headers.update(
        {
            "Content-Type": content_type,
            "User-Agent": USER_AGENT,
            "X-Zendesk-Webhook-Id": str(webhook.pk),
            "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
            "X-Zendesk-Webhook-Signature": sign(webhook.signing_secret, timestamp, body),
        }
    )
    auth = webhook.authentication or {}
    data = auth.get("data") or {}
    if auth.get("type") == AuthenticationType.BASIC:
        pair = f"{data.get('username', '')}:{data.get('password', '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    elif auth.get("type") == AuthenticationType.BEARER:
        headers["Authorization"] = f"Bearer {data.get('token', '')}"
    return headers


def send(webhook: Webhook, body_text: str) -> tuple[int | None, int, str, str]:
    """One HTTP request: (status code or None, duration ms, response excerpt, error)."""
    started = time.monotonic()
    try:
        host, port, address = check_endpoint(webhook.endpoint)
        parts = urllib.parse.urlsplit(webhook.endpoint)
        method = webhook.http_method
        content_type, body = _body(webhook, body_text)
        url_path = parts.path or "/"
        if parts.query:
            url_path += "?" + parts.query
        payload: str | None = body
        if method in ("GET", "DELETE"):
            # Zendesk sends GET/DELETE bodies as query parameters.
            payload = None
            query = (
                body
                if content_type.endswith("urlencoded")
                else urllib.parse.urlencode({"payload": body})
            )
            url_path += ("&" if "?" in url_path else "?") + query
        headers = _headers(webhook, content_type, body)
        headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
        timeout = urllib3.Timeout(total=settings.WEBHOOK_TIMEOUT)
        pool: urllib3.HTTPConnectionPool
        if parts.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address, port, server_hostname=host, assert_hostname=host, timeout=timeout,
                retries=False,
            )  # fmt: skip
        else:
            pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
        with pool:
            response = pool.urlopen(
                method,
                url_path,
                body=payload.encode() if payload is not None else None,
                headers=headers,
                redirect=False,
                preload_content=False,
            )
            excerpt = response.read(EXCERPT, decode_content=True).decode("utf-8", "replace")
            response.release_conn()
        duration = int((time.monotonic() - started) * 1000)
        return response.status, duration, excerpt, ""
    except ValidationError as exc:
        return None, int((time.monotonic() - started) * 1000), "", "; ".join(exc.messages)
    except Exception as exc:
        return None, int((time.monotonic() - started) * 1000), "", f"{type(exc).__name__}: {exc}"


# --- Queue and attempts -----------------------------------------------------------------------


def queue_delivery(
    *, webhook_id: int, template: str, ticket: Ticket | None, actor: User | None
) -> WebhookDelivery | None:
    """Render the body and queue it; sent after the current transaction commits."""
    webhook = Webhook.objects.filter(pk=webhook_id).first()
    if webhook is None or webhook.status != WebhookStatus.ACTIVE:
        return None
    body = template
    if ticket is not None:
        body = render(template, placeholder_values(ticket, current_user=actor))
    delivery = WebhookDelivery.objects.create(
        webhook=webhook,
        ticket_id=ticket.pk if ticket else None,
        body=body,
        next_attempt_at=clock.now(),
    )
    from .tasks import deliver_webhook_task

    # With the database queue the task commits with the delivery; an enqueue that fails after
    # commit is logged, and the retry job sends the delivery anyway.
    enqueue_with_commit(deliver_webhook_task, delivery.pk)
    return delivery


def attempt_delivery(delivery_id: int) -> WebhookAttempt | None:
    """Make the next attempt of a due delivery. Idempotent: a delivered one is left alone.

    The attempt is claimed with a conditional update that counts it and moves the delivery's
    ``next_attempt_at`` past the request's timeout (a lease), so two workers never send it at
    once, and a worker that dies mid-send (SIGKILL, OOM) leaves a delivery the retry job takes
    up again when the lease runs out, with that attempt counted: a delivery that keeps killing
    its worker still ends ``failed`` after ``WEBHOOK_MAX_ATTEMPTS``."""
    now = clock.now()
    lease = dt.timedelta(seconds=settings.WEBHOOK_TIMEOUT + LEASE_MARGIN_SECONDS)
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + lease, attempts=F("attempts") + 1)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    webhook = delivery.webhook
    number = delivery.attempts
    mine = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, attempts=number
    )
    if webhook.status != WebhookStatus.ACTIVE or number > settings.WEBHOOK_MAX_ATTEMPTS:
        # Paused meanwhile, or earlier attempts died with their worker and used the budget.
        mine.update(status=DeliveryStatus.FAILED, finished_at=now, next_attempt_at=None)
        return None
    status_code, duration, excerpt, error = send(webhook, delivery.body)
    ok = status_code is not None and 200 <= status_code < 300
    attempt = WebhookAttempt.objects.create(
        delivery=delivery,
        webhook=webhook,
        attempt=number,
        status_code=status_code,
        duration_ms=duration,
        response_excerpt=excerpt[:EXCERPT],
        error=error[:1000],
    )
    if ok:
        mine.update(status=DeliveryStatus.DELIVERED, finished_at=clock.now(), next_attempt_at=None)
        Webhook.objects.filter(pk=webhook.pk).update(consecutive_failures=0)
    else:
        if number >= settings.WEBHOOK_MAX_ATTEMPTS:
            mine.update(status=DeliveryStatus.FAILED, finished_at=clock.now(), next_attempt_at=None)
        else:
            backoff = settings.WEBHOOK_BACKOFF_SECONDS * 2 ** (number - 1)
            mine.update(next_attempt_at=clock.now() + dt.timedelta(seconds=backoff))
        _count_failure(webhook)
    return attempt


def _count_failure(webhook: Webhook) -> None:
    Webhook.objects.filter(pk=webhook.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    paused = Webhook.objects.filter(
        pk=webhook.pk,
        status=WebhookStatus.ACTIVE,
        consecutive_failures__gte=settings.WEBHOOK_PAUSE_AFTER_FAILURES,
    ).update(status=WebhookStatus.INACTIVE, paused_at=clock.now())
    if paused:
        log.warning("webhook %s paused after repeated failures", webhook.pk)


def retry_due(*, limit: int = 500) -> int:
    """Attempt every delivery whose retry time has come (the ``rules.retry_webhooks`` job)."""
    due = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=clock.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in due if attempt_delivery(pk) is not None)
