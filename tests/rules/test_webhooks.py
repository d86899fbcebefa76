"""Webhooks: signing (checked with an independent HMAC), delivery against a real local HTTP
server that fails then succeeds, backoff, the delivery log, pausing, SSRF refusal."""

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from kefu.core import clock
from kefu.rules import actions as rules
from kefu.rules.models import Webhook, WebhookAttempt, WebhookDelivery
from kefu.rules.webhooks import attempt_delivery, retry_due
from kefu.tickets.actions import NewComment, TicketData, create_ticket

START = dt.datetime(2026, 5, 4, 8, 0, tzinfo=dt.UTC)


class Recorder:
    """A local HTTP server answering with the next status of ``statuses``."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[dict] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                recorder.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers),
                     "body": body}
                )  # fmt: skip
                status = recorder.statuses.pop(0) if recorder.statuses else 200
                payload = b"ok" if status < 300 else b"upstream exploded"
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_PUT = do_GET = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/kefu?x=1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server() -> Iterator[Recorder]:
    recorder = Recorder([])
    yield recorder
    recorder.close()


def webhook(p, url: str, **kwargs) -> Webhook:  # type: ignore[no-untyped-def]
    return rules.create_webhook(actor=p.admin, name="Orders", endpoint=url, **kwargs)


PAYLOAD = '{"ticket": "{{ticket.id}}", "subject": "{{ticket.title}}"}'


def fire(p, hook: Webhook, captured) -> None:  # type: ignore[no-untyped-def]
    rules.create_trigger(
        actor=p.admin,
        title="Tell the shop",
        conditions={"all": [{"field": "update_type", "operator": "is", "value": "Create"}]},
        actions=[{"field": "notification_webhook", "value": [hook.pk, PAYLOAD]}],
    )
    with captured(execute=True):
        create_ticket(actor=p.bob, data=TicketData(subject="退货"), comment=NewComment(body="b"))


def test_a_webhook_is_signed_so_the_receiver_can_verify_it(
    personas, server, django_capture_on_commit_callbacks
):
    bearer = {"type": "bearer_token", "data": {"token": "s3cret"}}
    hook = webhook(personas, server.url, authentication=bearer)
    with clock.frozen_at(START):
        fire(personas, hook, django_capture_on_commit_callbacks)
    [request] = server.requests
    body = request["body"]
    assert json.loads(body)["subject"] == "退货"
    headers = request["headers"]
    timestamp = headers["X-Zendesk-Webhook-Signature-Timestamp"]
    assert timestamp == "2026-05-04T08:00:00Z"
    # the receiver's own check, written from Zendesk's documentation
    expected = base64.b64encode(
        hmac.new(hook.signing_secret.encode(), (timestamp + body).encode(), hashlib.sha256).digest()
    ).decode()
    assert headers["X-Zendesk-Webhook-Signature"] == expected
    assert headers["Authorization"] == "Bearer s3cret"
    assert request["path"] == "/hooks/kefu?x=1" and request["method"] == "POST"
    assert headers["Content-Type"] == "application/json"


def test_a_failing_delivery_is_retried_with_backoff_until_it_succeeds(
    personas, django_capture_on_commit_callbacks
):
    server = Recorder([500, 503, 200])
    try:
        hook = webhook(personas, server.url)
        with override_settings(WEBHOOK_BACKOFF_SECONDS=60):
            with clock.frozen_at(START):
                fire(personas, hook, django_capture_on_commit_callbacks)  # attempt 1: 500
                assert retry_due() == 0  # not due yet
            with clock.frozen_at(START + dt.timedelta(seconds=61)):
                assert retry_due() == 1  # attempt 2: 503, next in 120 s
                assert retry_due() == 0
            with clock.frozen_at(START + dt.timedelta(seconds=61 + 121)):
                assert retry_due() == 1  # attempt 3: 200
    finally:
        server.close()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.attempts == 3
    log = list(
        WebhookAttempt.objects.order_by("attempt").values_list("status_code", "response_excerpt")
    )
    assert log == [(500, "upstream exploded"), (503, "upstream exploded"), (200, "ok")]
    assert len(server.requests) == 3
    hook.refresh_from_db()
    assert hook.consecutive_failures == 0


def test_a_webhook_is_paused_after_repeated_failures(personas, django_capture_on_commit_callbacks):
    server = Recorder([500] * 10)
    try:
        hook = webhook(personas, server.url)
        with override_settings(WEBHOOK_PAUSE_AFTER_FAILURES=2, WEBHOOK_BACKOFF_SECONDS=0):
            fire(personas, hook, django_capture_on_commit_callbacks)
            retry_due()
            retry_due()
    finally:
        server.close()
    hook.refresh_from_db()
    assert hook.status == "inactive" and hook.paused_at is not None
    assert len(server.requests) == 2  # nothing sent once paused
    assert WebhookDelivery.objects.get().status == "failed"


def test_a_webhook_that_cannot_be_reached_never_fails_the_ticket_update(
    personas, django_capture_on_commit_callbacks
):
    server = Recorder([])
    url = server.url
    server.close()  # nobody listens any more
    hook = webhook(personas, url)
    fire(personas, hook, django_capture_on_commit_callbacks)
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "Error" in attempt.error
    assert WebhookDelivery.objects.get().status == "pending"  # will be retried


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://169.254.169.254/latest/meta-data",
     "http://[::1]/x", "http://localhost/x", "http://224.0.0.1/x", "http://0.0.0.0/x"],
)  # fmt: skip
def test_private_and_reserved_addresses_are_refused(personas, url):
    with override_settings(WEBHOOK_ALLOW_PRIVATE=False), pytest.raises(ValidationError) as error:
        webhook(personas, url)
    assert "private or reserved" in error.value.message_dict["endpoint"][0]
    assert not Webhook.objects.exists()


def test_a_webhook_created_before_is_still_refused_at_delivery_time(
    personas, server, django_capture_on_commit_callbacks
):
    hook = webhook(personas, server.url)
    with override_settings(WEBHOOK_ALLOW_PRIVATE=False):
        fire(personas, hook, django_capture_on_commit_callbacks)
    assert server.requests == []
    assert "private or reserved" in WebhookAttempt.objects.get().error


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"endpoint": "ftp://example.com/x"}, "endpoint"),
        ({"endpoint": "not a url"}, "endpoint"),
        ({"http_method": "BREW"}, "http_method"),
        ({"request_format": "yaml"}, "request_format"),
        ({"authentication": {"type": "api_key"}}, "authentication"),
        ({"authentication": {"type": "basic_auth", "data": {}}}, "authentication"),
    ],
)
def test_bad_webhooks_are_refused_naming_the_field(personas, server, changes, field):
    with pytest.raises(ValidationError) as error:
        webhook(personas, changes.pop("endpoint", server.url), **changes)
    assert field in error.value.message_dict


def test_form_encoded_webhooks_with_basic_auth(personas, server):
    hook = webhook(personas, server.url, request_format="form_encoded", http_method="PUT",
                   authentication={"type": "basic_auth",
                                   "data": {"username": "kefu", "password": "pw"}})  # fmt: skip
    result = rules.send_test_webhook(actor=personas.admin, webhook=hook, body='{"a": "b c"}')
    assert result["status"] == 200
    [request] = server.requests
    assert request["method"] == "PUT" and request["body"] == "a=b+c"
    assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"kefu:pw").decode()


def test_a_delivery_is_attempted_once_even_if_its_task_runs_twice(
    personas, server, django_capture_on_commit_callbacks
):
    hook = webhook(personas, server.url)
    fire(personas, hook, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert attempt_delivery(delivery.pk) is None
    assert len(server.requests) == 1


def test_a_delivery_whose_worker_died_mid_send_is_retried_after_its_lease(
    personas, server, monkeypatch
):
    """A worker killed while sending leaves the delivery pending with a lease; once the lease
    is over the retry job sends it, counting the lost attempt, and a delivery that keeps
    killing its worker ends failed."""
    from kefu.rules import webhooks

    class Killed(BaseException):  # what SIGKILL looks like from inside: nothing runs after
        pass

    def die(*args: object) -> None:
        raise Killed

    hook = webhook(personas, server.url)
    with clock.frozen_at(START):
        ticket = create_ticket(actor=personas.bob, data=TicketData(subject="x"),
                               comment=NewComment(body="y"))  # fmt: skip
        delivery = webhooks.queue_delivery(
            webhook_id=hook.pk, template="{}", ticket=ticket, actor=None
        )
        assert delivery is not None
        monkeypatch.setattr(webhooks, "send", die)
        with pytest.raises(Killed):
            attempt_delivery(delivery.pk)
        monkeypatch.undo()
    with clock.frozen_at(START + dt.timedelta(seconds=30)):
        assert retry_due() == 0  # still leased: the worker may be alive
    with clock.frozen_at(START + dt.timedelta(minutes=5)):
        assert retry_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert WebhookAttempt.objects.get(delivery=delivery).attempt == 2
    assert len(server.requests) == 1
    # Attempts lost with their worker count against the budget.
    with override_settings(WEBHOOK_MAX_ATTEMPTS=3), clock.frozen_at(START + dt.timedelta(hours=1)):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status="pending", attempts=3, next_attempt_at=START
        )
        assert attempt_delivery(delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.status == "failed" and len(server.requests) == 1
