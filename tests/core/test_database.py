"""Kefu's database settings: what every connection to PostgreSQL is told."""

import pytest
from django.db import connection

from kefu.settings import database_config


def test_postgresql_connections_do_not_jit_compile_unless_the_url_says_so():
    plain = database_config("postgres://kefu@db.example.com:5432/kefu")
    assert plain["OPTIONS"]["options"] == "-c jit=off"

    tuned = database_config("postgres://kefu@db/kefu?options=-c%20statement_timeout%3D5000")
    assert tuned["OPTIONS"]["options"] == "-c statement_timeout=5000 -c jit=off"

    chosen = database_config("postgres://kefu@db/kefu?options=-c%20jit%3Don")
    assert chosen["OPTIONS"]["options"] == "-c jit=on"

    assert "options" not in database_config("sqlite:////tmp/kefu.sqlite3")["OPTIONS"]


@pytest.mark.django_db
def test_the_test_database_connection_has_jit_off():
    if connection.vendor != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
