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
    personas, deliver, client, monkeypatch, django_capture_on_commit_callbacks
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

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("email:admin_retry", args=[bad.pk]), follow=True)
    assert "queued for processing" in response.content.decode()
    bad.refresh_from_db()
    assert bad.state == "processed"  # the test settings' task backend runs tasks at once


def _queue_only(settings):  # type: ignore[no-untyped-def]
    """Tasks are kept, not run (as with a real queue and no worker yet); returns the queue."""
    from django.tasks import default_task_backend

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    return default_task_backend.results


def test_retrying_quarantined_mail_queues_a_task_instead_of_processing_in_the_request(
    personas, deliver, client, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from kefu.channels.email import inbound as pipeline

    real = pipeline.parse_email
    monkeypatch.setattr(pipeline, "parse_email", lambda raw: 1 / 0)
    bad = deliver(raw_mail(subject="needs a retry"))
    monkeypatch.setattr(pipeline, "parse_email", real)
    queue = _queue_only(settings)
    client.force_login(personas.admin)

    # when the admin presses "Retry"
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(reverse("email:admin_retry", args=[bad.pk]), follow=True)

    # then the answer says queued, the message waits, and a task processes it later
    assert "queued for processing" in page.content.decode()
    bad.refresh_from_db()
    assert (bad.state, bad.ticket_id) == ("received", None)
    [queued] = queue
    assert (queued.task, queued.args) == (pipeline.process_inbound_task, [bad.pk])
    assert queued.task.call(*queued.args) == "processed"
    bad.refresh_from_db()
    assert bad.ticket.subject == "needs a retry"
    # a second press while it waits or after it ran changes nothing
    assert client.post(reverse("email:admin_retry", args=[bad.pk])).status_code == 404


def test_recovering_suspended_mail_queues_a_task_that_passes_the_rate_limit(
    personas, deliver, client, settings, django_capture_on_commit_callbacks
):
    from kefu.channels.email.actions import update_email_settings
    from kefu.channels.email.inbound import process_pending

    update_email_settings(sender_rate_limit=1)
    deliver(raw_mail(subject="one"))
    held = deliver(raw_mail(subject="two"))
    queue = _queue_only(settings)
    client.force_login(personas.admin)

    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(reverse("email:admin_recover", args=[held.pk]), follow=True)

    assert "queued for processing" in page.content.decode()
    held.refresh_from_db()
    assert held.state == "received"
    assert len(queue) == 1
    # even when the task is lost, the sweeper lets the recovered message past the rate limit
    assert process_pending() == 1
    held.refresh_from_db()
    assert (held.state, held.suspension_cause, held.ticket.subject) == ("processed", "", "two")


def test_the_admin_email_page_recovers_and_deletes_suspended_mail(
    personas, deliver, client, django_capture_on_commit_callbacks
):
    from kefu.channels.email.actions import update_email_settings

    update_email_settings(sender_rate_limit=1)
    deliver(raw_mail(subject="one"))
    keep = deliver(raw_mail(subject="two"))
    drop = deliver(raw_mail(subject="three"))
    client.force_login(personas.admin)

    assert "three" in client.get(reverse("email:admin")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
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
