"""The web shell: who may open /agent/, the language switch, per-person language and time zone."""

import datetime as dt

import pytest
from django.urls import reverse

from kefu.accounts import actions as accounts
from kefu.accounts.models import User
from kefu.core import clock
from kefu.tickets.actions import NewComment, TicketData, create_ticket


@pytest.fixture
def agent_client(client, personas):
    client.force_login(personas.alice)
    return client


def test_anonymous_visitor_is_sent_to_sign_in(client, db):
    response = client.get("/agent/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert "next=/agent/" in response["Location"]


def test_anonymous_htmx_request_redirects_the_whole_page(client, db):
    response = client.get("/agent/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/login/")


def test_end_user_is_sent_to_the_portal(client, personas):
    client.force_login(personas.bob)
    response = client.get("/agent/")
    assert response.status_code == 302
    assert response["Location"] == "/portal/"


def test_agent_without_views_sees_the_shell_with_search_language_switch_and_sign_out(agent_client):
    response = agent_client.get("/agent/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en"' in html
    assert 'name="viewport"' in html
    assert "vendor/htmx/htmx.min.js" in html
    assert 'id="quick-search"' in html
    assert reverse("web:set_language") in html
    assert "Sign out" in html
    assert 'href="#main"' in html


def test_browser_language_chooses_the_interface_language(client, personas):
    client.force_login(personas.admin)
    response = client.get("/agent/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    html = response.content.decode()
    assert '<html lang="zh-hans"' in html
    assert "退出" in html


def test_saved_locale_wins_over_the_browser(client, personas):
    accounts.update_user(personas.alice, locale="zh-hans")
    client.force_login(personas.alice)
    response = client.get("/agent/", headers={"Accept-Language": "en"})
    assert '<html lang="zh-hans"' in response.content.decode()


def test_language_switch_saves_the_choice_to_the_person(agent_client, personas):
    response = agent_client.post(
        reverse("web:set_language"), {"language": "zh-hans", "next": "/agent/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/agent/"
    assert User.objects.get(pk=personas.alice.pk).locale == "zh-hans"
    html = agent_client.get("/agent/").content.decode()
    assert '<html lang="zh-hans"' in html


def test_language_switch_ignores_an_unknown_language(agent_client, personas):
    response = agent_client.post(reverse("web:set_language"), {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert User.objects.get(pk=personas.alice.pk).locale == ""


def test_language_switch_works_for_anonymous_visitors(client, db):
    response = client.post(reverse("web:set_language"), {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "zh-hans"


def test_language_switch_refuses_get(client, db):
    assert client.get(reverse("web:set_language")).status_code == 405


def test_times_are_shown_in_the_persons_time_zone(agent_client, personas):
    accounts.update_user(personas.alice, time_zone="America/New_York")
    with clock.frozen_at(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)):
        create_ticket(
            actor=personas.alice,
            data=TicketData(subject="Time zone check", requester=personas.bob),
            comment=NewComment(body="hi"),
        )
    response = agent_client.get("/agent/search/", {"q": "Time zone"})
    assert 'datetime="2026-03-01T07:00:00-05:00"' in response.content.decode()


def test_quick_search_finds_chinese_words_and_emails(agent_client, personas):
    create_ticket(
        actor=personas.alice,
        data=TicketData(subject="退货申请 订单 1001", requester=personas.bob),
        comment=NewComment(body="请帮忙"),
    )
    assert b"1001" in agent_client.get("/agent/search/", {"q": "退货"}).content
    assert b"1001" in agent_client.get("/agent/search/", {"q": "bob@acme.test"}).content
    assert b"1001" in agent_client.get("/agent/search/", {"q": "status:new 订单"}).content
    assert b"No tickets match" in agent_client.get("/agent/search/", {"q": "不存在"}).content


def test_quick_search_jumps_to_a_ticket_number(agent_client, personas):
    ticket = create_ticket(
        actor=personas.alice,
        data=TicketData(subject="Jump", requester=personas.bob),
        comment=NewComment(body="x"),
    )
    for query in (f"#{ticket.pk}", str(ticket.pk), f"# {ticket.pk}"):
        response = agent_client.get("/agent/search/", {"q": query})
        assert response.status_code == 302
        assert response["Location"] == reverse("tickets:ticket", args=[ticket.pk])


def test_quick_search_does_not_jump_to_a_ticket_the_agent_may_not_see(agent_client, personas):
    billing = accounts.create_group(name="Billing")
    ticket = create_ticket(
        actor=personas.admin,
        data=TicketData(subject="Secret", requester=personas.bob, group=billing),
        comment=NewComment(body="x"),
    )
    response = agent_client.get("/agent/search/", {"q": f"#{ticket.pk}"})
    assert response.status_code == 200
    assert "Secret" not in response.content.decode()


def test_quick_search_explains_a_query_it_cannot_run(agent_client, personas):
    response = agent_client.get("/agent/search/", {"q": "order_by:password"})
    assert response.status_code == 200
    assert 'class="errornote"' in response.content.decode()


def test_pages_load_images_only_from_kefu(client, personas):
    """A remote image in a customer's email (a tracking pixel) is never fetched: every page's
    Content-Security-Policy allows images from Kefu itself only."""
    from kefu.tickets.actions import NewComment, TicketData, create_ticket

    ticket = create_ticket(
        actor=personas.bob,
        data=TicketData(subject="Pixel"),
        comment=NewComment(
            body="hi", html_body='<p>hi</p><img src="https://tracker.example/p.gif" alt="x">'
        ),
    )
    client.force_login(personas.alice)
    response = client.get(f"/agent/tickets/{ticket.pk}/")
    assert response.status_code == 200
    assert "tracker.example" in response.content.decode()  # kept in the HTML, but not loaded:
    policy = response["Content-Security-Policy"]
    assert "img-src 'self' data: blob:" in policy and "object-src 'none'" in policy
    client.force_login(personas.bob)
    assert "img-src 'self'" in client.get("/portal/")["Content-Security-Policy"]
