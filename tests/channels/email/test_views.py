"""The full original of an emailed comment: one click away, only for who may read the comment."""

from django.urls import reverse

from .conftest import raw_mail

QUOTED = (
    "<p>Thanks, it works now.</p>"
    '<div class="gmail_quote">On Mon, Support wrote:<blockquote>Restart it.</blockquote></div>'
    "<script>alert(1)</script>"
)


def test_the_original_shows_the_folded_history_to_the_requester_and_agents(
    personas, deliver, client
):
    inbound = deliver(raw_mail(body="Thanks", html=QUOTED))
    comment = inbound.comment
    assert "Restart it." not in comment.html_body
    url = reverse("email:original", args=[comment.pk])

    client.force_login(personas.bob)
    response = client.get(url)
    assert response.status_code == 200
    assert "Restart it." in response.content.decode()
    assert "<script>" not in response.content.decode()
    assert "sandbox" in response["Content-Security-Policy"]

    client.force_login(personas.alice)
    assert client.get(url).status_code == 200
    eml = client.get(reverse("email:original_source", args=[comment.pk]))
    assert eml.status_code == 200 and b"Restart it." not in eml.content  # base64 in the source


def test_someone_who_may_not_read_the_comment_gets_404(personas, deliver, client):
    inbound = deliver(raw_mail(body="Private matter"))
    client.force_login(personas.carol)

    assert client.get(reverse("email:original", args=[inbound.comment.pk])).status_code == 404
    client.force_login(personas.bob)
    source = reverse("email:original_source", args=[inbound.comment.pk])
    assert client.get(source).status_code == 404  # the raw source is for agents only


def test_the_admin_email_page_lists_and_retries_quarantined_mail(
    personas, deliver, client, monkeypatch
):
    from kefu.channels.email import inbound as pipeline

    real = pipeline.parse_email
    monkeypatch.setattr(pipeline, "parse_email", lambda raw: 1 / 0)
    bad = deliver(raw_mail(subject="needs a retry"))
    monkeypatch.setattr(pipeline, "parse_email", real)
    client.force_login(personas.admin)

    page = client.get(reverse("email:admin"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "support@kefu.test" in html and "ZeroDivisionError" in html

    response = client.post(reverse("email:admin_retry", args=[bad.pk]))
    assert response.status_code == 302
    bad.refresh_from_db()
    assert bad.state == "processed"


def test_the_admin_email_page_recovers_and_deletes_suspended_mail(personas, deliver, client):
    from kefu.channels.email.actions import update_email_settings

    update_email_settings(sender_rate_limit=1)
    deliver(raw_mail(subject="one"))
    keep = deliver(raw_mail(subject="two"))
    drop = deliver(raw_mail(subject="three"))
    client.force_login(personas.admin)

    assert "three" in client.get(reverse("email:admin")).content.decode()
    client.post(reverse("email:admin_recover", args=[keep.pk]))
    client.post(reverse("email:admin_delete", args=[drop.pk]))

    keep.refresh_from_db()
    drop.refresh_from_db()
    assert (keep.state, drop.state) == ("processed", "deleted")


def test_agents_and_customers_cannot_use_the_admin_email_page(personas, client):
    client.force_login(personas.alice)
    assert client.get(reverse("email:admin")).status_code == 403
    client.force_login(personas.bob)
    assert client.get(reverse("email:admin")).status_code == 404


def test_other_customers_on_the_ticket_do_not_get_someone_else_s_original(
    personas, deliver, client
):
    # An emailed reply can quote anything (an agent's reply may quote an internal note); a
    # customer CC'd on the ticket reads the comment but not its full original.
    from kefu.tickets.actions import TicketData, update_ticket

    inbound = deliver(raw_mail(body="Thanks", html=QUOTED))
    update_ticket(
        inbound.comment.ticket,
        actor=personas.alice,
        data=TicketData(email_ccs=[personas.carol]),
    )
    client.force_login(personas.carol)
    ticket_page = client.get(reverse("portal:request", args=[inbound.comment.ticket_id]))
    assert ticket_page.status_code == 200  # carol may read the ticket ...
    assert client.get(reverse("email:original", args=[inbound.comment.pk])).status_code == 404
