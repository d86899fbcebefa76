"""A new ticket on behalf of a customer."""

from django.urls import reverse

from kefu.accounts.models import User
from kefu.tickets.models import Ticket


def test_new_ticket_for_an_existing_customer(agent, personas):
    response = agent.post(
        reverse("tickets:new"),
        {
            "requester_email": "BOB@acme.test",
            "subject": "电话来电：耳机没声音",
            "body": "Customer called about silent earphones.",
            "mode": "public",
            "priority": "high",
            "group": str(personas.support.pk),
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:ticket", args=[ticket.pk])
    assert ticket.requester == personas.bob
    assert ticket.submitter == personas.alice
    assert ticket.priority == "high"
    assert ticket.group == personas.support
    assert ticket.organization == personas.acme


def test_new_ticket_creates_a_new_customer(agent, personas):
    agent.post(
        reverse("tickets:new"),
        {
            "requester_email": "dora@newco.test",
            "requester_name": "Dora 朵拉",
            "subject": "Hello",
            "body": "First contact",
            "mode": "internal",
        },
    )
    dora = User.objects.get(email="dora@newco.test")
    assert dora.name == "Dora 朵拉"
    assert dora.is_end_user
    ticket = Ticket.objects.get(requester=dora)
    assert not ticket.comments.get().public


def test_new_ticket_errors_are_shown_next_to_the_fields_and_input_is_kept(agent, personas):
    response = agent.post(
        reverse("tickets:new"),
        {"requester_email": "not-an-email", "subject": "", "body": "保留我", "mode": "public"},
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["requester_email"]
    assert form.errors["subject"]
    assert "保留我" in response.content.decode()
    assert not Ticket.objects.exists()


def test_new_ticket_in_chinese_shows_chinese_errors(agent, personas):
    from kefu.accounts import actions as accounts

    accounts.update_user(personas.alice, locale="zh-hans")
    response = agent.post(reverse("tickets:new"), {"requester_email": "", "mode": "public"})
    assert "此字段为必填项。" in response.content.decode()


def test_requester_suggestions_match_name_or_email(agent, personas):
    url = reverse("tickets:requester_suggestions")
    assert "bob@acme.test" in agent.get(url, {"requester_email": "bob"}).content.decode()
    assert "carol@globex.test" in agent.get(url, {"requester_email": "陈"}).content.decode()
    assert "No one matches" in agent.get(url, {"requester_email": "zzz"}).content.decode()


def test_new_ticket_page_prefills_the_requester(agent, personas):
    response = agent.get(reverse("tickets:new"), {"requester": "bob@acme.test"})
    assert 'value="bob@acme.test"' in response.content.decode()
