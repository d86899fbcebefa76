"""Zendesk's ``recipient_addresses`` API over the support addresses."""

import pytest

from kefu.channels.email import actions
from kefu.channels.email.models import SupportAddress
from tests.api.conftest import ApiClient

from .conftest import SUPPORT, raw_mail

pytestmark = pytest.mark.django_db

ZENDESK_FIELDS = {
    "id", "email", "name", "default", "brand_id", "forwarding_status", "spf_status",
    "cname_status", "created_at", "updated_at",
}  # fmt: skip


def test_agents_list_addresses_in_zendesk_shape_with_the_routing_group(personas, support_address):
    # given a second address and mail that reached the first one
    actions.create_support_address(email="sales@kefu.test", name="销售")
    actions.store_inbound(raw=raw_mail(), recipients=[SUPPORT])
    # when an agent lists them
    response = ApiClient(personas.alice).get("recipient_addresses.json")
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2
    by_email = {a["email"]: a for a in body["recipient_addresses"]}
    support = by_email[SUPPORT]
    assert set(support) >= ZENDESK_FIELDS
    assert (support["default"], support["group_id"], support["forwarding_status"]) == (
        True,
        personas.support.pk,
        "verified",
    )
    assert by_email["sales@kefu.test"]["forwarding_status"] == "waiting"
    assert by_email["sales@kefu.test"]["name"] == "销售"
    assert support["created_at"].endswith("Z")


def test_an_agent_shows_one_address_and_an_unknown_id_is_404(personas, support_address):
    client = ApiClient(personas.alice)
    shown = client.get(f"recipient_addresses/{support_address.pk}")
    assert shown.json()["recipient_address"]["email"] == SUPPORT
    assert client.get("recipient_addresses/999999").status_code == 404


def test_an_admin_creates_updates_and_deletes_an_address(personas, support_address):
    admin = ApiClient(personas.admin)
    created = admin.post(
        "recipient_addresses",
        {"recipient_address": {"email": "Shouhou@KEFU.test", "name": "售后", "group_id": None}},
    )
    assert created.status_code == 201, created.content
    address = created.json()["recipient_address"]
    assert (address["email"], address["default"]) == ("shouhou@kefu.test", False)

    updated = admin.put(
        f"recipient_addresses/{address['id']}",
        {"recipient_address": {"default": True, "group_id": personas.support.pk}},
    )
    assert updated.status_code == 200, updated.content
    changed = updated.json()["recipient_address"]
    assert (changed["default"], changed["group_id"]) == (True, personas.support.pk)
    support_address.refresh_from_db()
    assert support_address.default is False

    assert admin.delete(f"recipient_addresses/{support_address.pk}").status_code == 204
    assert list(SupportAddress.objects.values_list("email", flat=True)) == ["shouhou@kefu.test"]


def test_bad_input_answers_a_zendesk_422_naming_the_field(personas, support_address):
    admin = ApiClient(personas.admin)
    invalid = admin.post("recipient_addresses", {"recipient_address": {"email": "not an address"}})
    assert invalid.status_code == 422
    assert invalid.json()["error"] == "RecordInvalid"
    assert list(invalid.json()["details"]) == ["email"]
    duplicate = admin.post("recipient_addresses", {"recipient_address": {"email": SUPPORT}})
    assert (duplicate.status_code, list(duplicate.json()["details"])) == (422, ["email"])
    no_group = admin.put(
        f"recipient_addresses/{support_address.pk}",
        {"recipient_address": {"group_id": 987654}},
    )
    assert (no_group.status_code, list(no_group.json()["details"])) == (422, ["group_id"])
    # the default address cannot go while another exists
    actions.create_support_address(email="other@kefu.test")
    refused = admin.delete(f"recipient_addresses/{support_address.pk}")
    assert (refused.status_code, list(refused.json()["details"])) == (422, ["default"])
    assert SupportAddress.objects.count() == 2


def test_agents_cannot_write_and_end_users_cannot_read(personas, support_address):
    alice = ApiClient(personas.alice)
    body = {"recipient_address": {"email": "new@kefu.test"}}
    assert alice.post("recipient_addresses", body).status_code == 403
    assert alice.put(f"recipient_addresses/{support_address.pk}", body).status_code == 403
    assert alice.delete(f"recipient_addresses/{support_address.pk}").status_code == 403
    bob = ApiClient(personas.bob)
    assert bob.get("recipient_addresses").status_code == 403
    assert bob.get(f"recipient_addresses/{support_address.pk}").status_code == 403
    assert bob.post("recipient_addresses", body).status_code == 403
    assert ApiClient(None).get("recipient_addresses").status_code == 401
    assert list(SupportAddress.objects.values_list("email", flat=True)) == [SUPPORT]


def test_the_list_pages_by_cursor(personas, support_address):
    for n in range(3):
        actions.create_support_address(email=f"a{n}@kefu.test")
    client = ApiClient(personas.alice)
    first = client.get("recipient_addresses", data={"page[size]": 2}).json()
    assert len(first["recipient_addresses"]) == 2 and first["meta"]["has_more"] is True
    rest = client.client.get(first["links"]["next"], headers=client.headers).json()
    assert len(rest["recipient_addresses"]) == 2


def test_verify_forwarding_sends_a_check_that_verifies_the_address_when_it_comes_back(
    personas, support_address, outbox, django_capture_on_commit_callbacks
):
    from kefu.channels.email.models import InboundMessage
    from kefu.tickets.models import Ticket

    client = ApiClient(personas.admin)
    path = f"recipient_addresses/{support_address.pk}"
    # when an admin asks for a forwarding check (Zendesk's request)
    with django_capture_on_commit_callbacks(execute=True):
        asked = client.put(f"{path}/verify", {"type": "forwarding"})
    # then the answer says waiting, and a check email left through the outbound SMTP
    assert asked.status_code == 200
    assert asked.json()["recipient_address"]["forwarding_status"] == "waiting"
    [(mail_from, rcpt_tos, raw)] = outbox.messages
    assert (mail_from, rcpt_tos) == (SUPPORT, [SUPPORT])
    assert client.get(path).json()["recipient_address"]["forwarding_status"] == "waiting"
    # when the provider forwards it to Kefu's inbound path
    with django_capture_on_commit_callbacks(execute=True):
        [inbound] = actions.store_inbound(raw=raw, recipients=[SUPPORT])
    # then the address is verified and no ticket was made
    inbound.refresh_from_db()
    assert (inbound.state, inbound.ticket_id) == ("processed", None)
    assert client.get(path).json()["recipient_address"]["forwarding_status"] == "verified"
    assert not Ticket.objects.exists()
    assert InboundMessage.objects.count() == 1


def test_a_forged_or_stale_check_verifies_nothing_and_spf_dns_change_nothing(
    personas, support_address, outbox, django_capture_on_commit_callbacks
):
    client = ApiClient(personas.admin)
    path = f"recipient_addresses/{support_address.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.put(f"{path}/verify", "").status_code == 200  # type defaults to forwarding
    forged = raw_mail(sender=SUPPORT, headers={"X-Kefu-Forwarding-Check": "0" * 32})
    with django_capture_on_commit_callbacks(execute=True):
        actions.store_inbound(raw=forged, recipients=[SUPPORT])

    shown = client.get(path).json()["recipient_address"]
    assert shown["forwarding_status"] == "waiting"
    for kind in ("spf", "dns"):
        answer = client.put(f"{path}/verify", {"type": kind}).json()["recipient_address"]
        assert (answer["forwarding_status"], answer["spf_status"]) == ("waiting", "unknown")
    bad = client.put(f"{path}/verify", {"type": "carrier-pigeon"})
    assert bad.status_code == 422 and "type" in bad.json()["details"]


def test_a_check_that_cannot_be_sent_marks_forwarding_failed_and_only_admins_verify(
    personas, support_address, outbox, django_capture_on_commit_callbacks
):
    outbox.refuse = "554 no relay"
    path = f"recipient_addresses/{support_address.pk}"
    assert ApiClient(personas.alice).put(f"{path}/verify", "").status_code == 403

    with django_capture_on_commit_callbacks(execute=True):
        ApiClient(personas.admin).put(f"{path}/verify", {"type": "forwarding"})

    support_address.refresh_from_db()
    assert support_address.forwarding_status == "failed"
    assert "554" in support_address.forwarding_error
    shown = ApiClient(personas.alice).get(path).json()["recipient_address"]
    assert shown["forwarding_status"] == "failed"
