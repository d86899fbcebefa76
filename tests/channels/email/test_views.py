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
