"""The customer portal through the test client: who sees what, what customers can do."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kefu.accounts import actions as accounts
from kefu.crm import actions as crm
from kefu.tickets.actions import (
    NewComment,
    TicketData,
    create_ticket,
    create_ticket_field,
    update_ticket,
)
from kefu.tickets.models import Attachment, Ticket


def bob_request(p, subject="打印机坏了 Printer broken", **data):  # type: ignore[no-untyped-def]
    return create_ticket(
        actor=p.bob,
        data=TicketData(subject=subject, via_channel="portal", **data),
        comment=NewComment(body="It prints blank pages."),
    )


@pytest.fixture
def bob(client, personas):  # type: ignore[no-untyped-def]
    client.force_login(personas.bob)
    return client


# --- Pages and access ---------------------------------------------------------------------------


def test_the_home_page_is_public_and_keeps_a_place_for_the_knowledge_base(client, db):
    response = client.get("/portal/")

    assert response.status_code == 200
    assert 'id="knowledge-base"' in response.content.decode()


def test_anonymous_visitors_are_asked_to_sign_in_for_requests(client, db):
    for path in ("/portal/requests/", "/portal/requests/new/", "/portal/requests/1/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.url.startswith("/login/?next=")


def test_carol_gets_not_found_for_bobs_request(client, personas):
    ticket = bob_request(personas)
    client.force_login(personas.carol)

    assert client.get(f"/portal/requests/{ticket.pk}/").status_code == 404
    assert client.post(f"/portal/requests/{ticket.pk}/", {"body": "me too"}).status_code == 404
    assert ticket.comments.count() == 1


def test_my_requests_lists_only_mine(bob, personas):
    mine = bob_request(personas)
    create_ticket(
        actor=personas.carol,
        data=TicketData(subject="Carol's secret"),
        comment=NewComment(body="x"),
    )

    html = bob.get("/portal/requests/").content.decode()

    assert mine.subject in html
    assert "Carol&#x27;s secret" not in html and "Carol's secret" not in html


def test_organization_requests_appear_only_where_the_organization_shares(client, personas):
    colleague = accounts.create_user(name="Dan", email="dan@acme.test")
    ticket = bob_request(personas, subject="Shared office printer")
    client.force_login(colleague)

    assert "Organization requests" not in client.get("/portal/requests/").content.decode()
    crm.update_organization(personas.acme, shared_tickets=True)
    html = client.get("/portal/requests/?scope=organization").content.decode()

    assert "Shared office printer" in html
    assert client.get(f"/portal/requests/{ticket.pk}/").status_code == 200


# --- Submitting ---------------------------------------------------------------------------------


def test_a_customer_submits_a_request_with_an_attachment_and_portal_fields(bob, personas):
    order = create_ticket_field(type="text", title="Order number", visible_in_portal=True,
                                editable_in_portal=True, required_in_portal=True)  # fmt: skip
    options = [("洗衣机 Washer", "washer"), ("Dryer", "dryer")]
    model = create_ticket_field(type="tagger", title="Model", visible_in_portal=True,
                                editable_in_portal=True, options=options)  # fmt: skip

    response = bob.post(
        "/portal/requests/new/",
        {
            "subject": "洗衣机漏水",
            "description": "Water on the floor after every wash.",
            f"custom_{order.pk}": "A-1001",
            f"custom_{model.pk}": "washer",
            "attachments": [SimpleUploadedFile("漏水.jpg", b"jpeg bytes", "image/jpeg")],
        },
    )

    ticket = Ticket.objects.get(subject="洗衣机漏水")
    assert response.status_code == 302
    assert response.url == f"/portal/requests/{ticket.pk}/"
    assert ticket.requester == personas.bob and ticket.via_channel == "portal"
    assert ticket.custom_fields == {order.key: "A-1001", model.key: "washer"}
    assert "washer" in ticket.tags
    assert [a.file_name for a in Attachment.objects.filter(comment__ticket=ticket)] == ["漏水.jpg"]


def test_a_required_portal_field_is_enforced_next_to_the_field(bob, personas):
    order = create_ticket_field(type="text", title="Order number", visible_in_portal=True,
                                editable_in_portal=True, required_in_portal=True)  # fmt: skip

    response = bob.post("/portal/requests/new/", {"subject": "Help", "description": "Please"})

    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_custom_{order.pk}_error"' in html
    assert 'value="Help"' in html
    assert not Ticket.objects.exists()


def test_an_invalid_field_value_from_the_action_lands_next_to_the_field(bob, personas):
    serial = create_ticket_field(type="regexp", title="Serial", visible_in_portal=True,
                                 editable_in_portal=True,
                                 regexp_for_validation=r"SN-\d{4}")  # fmt: skip

    response = bob.post(
        "/portal/requests/new/",
        {"subject": "Help", "description": "Please", f"custom_{serial.pk}": "nope"},
    )

    assert response.status_code == 400
    assert f'id="id_custom_{serial.pk}_error"' in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_forbidden_attachment_is_refused_with_a_message_and_nothing_is_saved(bob, personas):
    response = bob.post(
        "/portal/requests/new/",
        {
            "subject": "Invoice",
            "description": "See attached",
            "attachments": [SimpleUploadedFile("invoice.exe", b"MZ...", "application/x-msdos")],
        },
    )

    assert response.status_code == 400
    assert "Files of type .exe are not accepted." in response.content.decode()
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()


def test_an_oversized_attachment_is_refused_in_the_customers_language(bob, personas):
    accounts.update_account_settings(max_attachment_mb=1)
    big = SimpleUploadedFile("scan.pdf", b"x" * (1024 * 1024 + 1), "application/pdf")

    response = bob.post(
        "/portal/requests/new/",
        {"subject": "Scan", "description": "Attached", "attachments": [big]},
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )

    assert response.status_code == 400
    assert "scan.pdf 的大小超过了 1 MB" in response.content.decode()


def test_internal_fields_are_not_on_the_form(bob, personas):
    internal = create_ticket_field(type="text", title="Fraud score")

    html = bob.get("/portal/requests/new/").content.decode()

    assert "Fraud score" not in html
    assert f"custom_{internal.pk}" not in html


def test_a_field_customers_may_only_see_is_shown_on_the_request_but_not_on_the_form(bob, personas):
    visible = create_ticket_field(type="text", title="Repair centre", visible_in_portal=True)
    ticket = bob_request(personas)
    update_ticket(ticket, actor=personas.alice,
                  data=TicketData(custom_fields={visible.pk: "上海 Shanghai"}))  # fmt: skip

    assert "Repair centre" not in bob.get("/portal/requests/new/").content.decode()
    assert "上海 Shanghai" in bob.get(f"/portal/requests/{ticket.pk}/").content.decode()


# --- The request page ---------------------------------------------------------------------------


def test_the_request_page_shows_public_replies_but_never_internal_notes_or_fields(bob, personas):
    secret = create_ticket_field(type="text", title="Fraud score")
    ticket = bob_request(personas)
    note = NewComment(body="Customer seems angry; refund quietly.", public=False)
    update_ticket(ticket, actor=personas.alice, data=TicketData(custom_fields={secret.pk: "97"}),
                  comment=note)  # fmt: skip
    update_ticket(ticket, actor=personas.alice, data=TicketData(status="pending"),
                  comment=NewComment(body="Could you send a photo of the label?"))  # fmt: skip

    html = bob.get(f"/portal/requests/{ticket.pk}/").content.decode()

    assert "Could you send a photo of the label?" in html
    assert "refund quietly" not in html
    assert "Fraud score" not in html and ">97<" not in html
    assert "Waiting for you" in html


def test_agents_looking_at_the_portal_see_only_the_public_conversation(client, personas):
    ticket = bob_request(personas)
    update_ticket(ticket, actor=personas.alice,
                  comment=NewComment(body="Internal: VIP", public=False))  # fmt: skip
    client.force_login(personas.admin)

    assert "Internal: VIP" not in client.get(f"/portal/requests/{ticket.pk}/").content.decode()


def test_a_customer_reply_reopens_a_pending_request(bob, personas):
    ticket = bob_request(personas)
    update_ticket(ticket, actor=personas.alice, data=TicketData(status="pending"),
                  comment=NewComment(body="Which model?"))  # fmt: skip

    response = bob.post(
        f"/portal/requests/{ticket.pk}/",
        {"body": "The 2024 model.", "attachments": [SimpleUploadedFile("a.txt", b"hi")]},
    )

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "open"
    last = ticket.comments.order_by("-created_at", "-id").first()
    assert last.body == "The 2024 model." and last.public and last.via_channel == "portal"
    assert last.attachments.count() == 1


def test_an_empty_reply_is_refused_next_to_the_reply_box(bob, personas):
    ticket = bob_request(personas)

    response = bob.post(f"/portal/requests/{ticket.pk}/", {"body": "  "})

    assert response.status_code == 400
    assert 'id="id_body_error"' in response.content.decode()
    assert ticket.comments.count() == 1


def test_the_requester_marks_the_request_solved(bob, personas):
    ticket = bob_request(personas)

    response = bob.post(f"/portal/requests/{ticket.pk}/", {"solve": "1"})

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "solved"
    assert "Mark as solved" not in bob.get(f"/portal/requests/{ticket.pk}/").content.decode()


def test_a_colleague_cannot_mark_someone_elses_request_solved(client, personas):
    crm.update_organization(personas.acme, shared_tickets=True, shared_comments=True)
    colleague = accounts.create_user(name="Dan", email="dan@acme.test")
    ticket = bob_request(personas)
    client.force_login(colleague)

    response = client.post(f"/portal/requests/{ticket.pk}/", {"solve": "1"})

    assert response.status_code == 400
    assert "Only the requester can mark it as solved." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status != "solved"


def test_a_closed_request_has_no_reply_box(bob, personas):
    ticket = bob_request(personas)
    update_ticket(ticket, actor=personas.alice, data=TicketData(status="solved"))
    update_ticket(ticket, actor=None, data=TicketData(status="closed"))

    html = bob.get(f"/portal/requests/{ticket.pk}/").content.decode()

    assert 'id="reply"' not in html
    assert "This request is closed" in html
    refused = bob.post(f"/portal/requests/{ticket.pk}/", {"body": "hello?"})
    assert refused.status_code == 400
    assert "You cannot reply to this request." in refused.content.decode()


def test_portal_forms_need_the_csrf_token(personas):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(personas.bob)

    response = strict.post("/portal/requests/new/", {"subject": "x", "description": "y"})

    assert response.status_code == 403
    assert not Ticket.objects.exists()


# --- Queries ------------------------------------------------------------------------------------


def test_the_request_list_uses_a_fixed_number_of_queries(
    bob, personas, django_assert_max_num_queries
):
    for number in range(30):
        bob_request(personas, subject=f"Request {number}")

    with django_assert_max_num_queries(12):
        response = bob.get("/portal/requests/")

    assert response.status_code == 200


def test_the_request_page_uses_a_fixed_number_of_queries(
    bob, personas, django_assert_max_num_queries
):
    ticket = bob_request(personas)
    for number in range(15):
        update_ticket(ticket, actor=personas.alice, data=TicketData(status="pending"),
                      comment=NewComment(body=f"Reply {number}"))  # fmt: skip
        upload = bob.post(
            f"/portal/requests/{ticket.pk}/",
            {"body": f"Answer {number}", "attachments": [SimpleUploadedFile("f.txt", b"x")]},
        )
        assert upload.status_code == 302

    with django_assert_max_num_queries(18):
        response = bob.get(f"/portal/requests/{ticket.pk}/")

    assert response.status_code == 200
    assert response.content.decode().count('<li class="message-bubble') == 31
