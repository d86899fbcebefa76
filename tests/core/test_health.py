"""``GET /healthz``: what load balancers and ``kefu run``'s users poll."""

from unittest import mock

from django.db import OperationalError, connection


def test_healthz_is_ok_when_the_database_answers(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_naming_the_database_when_it_cannot_be_reached(client, db):
    # given
    unreachable = OperationalError("could not connect to server")

    # when
    with mock.patch.object(connection, "cursor", side_effect=unreachable):
        response = client.get("/healthz")

    # then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "error"
    assert body["detail"] == "OperationalError"


def test_healthz_needs_no_sign_in_and_sets_no_cookie(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert not response.cookies
