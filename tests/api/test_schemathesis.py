"""schemathesis over the served OpenAPI document: generated requests (valid and not) to every
operation, as an admin, must never get a 5xx.

Bounded: ``SCHEMATHESIS_EXAMPLES`` examples per operation (default 8), no deadline; the
whole run takes a minute or two on the 2-core CI machine.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import translation
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from kefu.accounts import actions as accounts
from kefu.api.site import openapi_document

from .conftest import make_ticket

schema = schemathesis.openapi.from_dict(openapi_document())
schema.app = get_wsgi_application()

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))


@pytest.fixture(autouse=True)
def _keep_the_test_connection():  # type: ignore[no-untyped-def]
    # schemathesis calls the WSGI app directly; like Django's test client, stop the request
    # signals from closing the connection that holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    # Generated requests may give the admin a saved locale, which the preferences middleware
    # activates for the thread; later tests in this process expect the default language.
    translation.deactivate()


@pytest.fixture
def admin_token(personas):  # type: ignore[no-untyped-def]
    make_ticket(personas.bob)  # something for the ids to hit now and then
    _record, token = accounts.create_api_token(user=personas.admin)
    return token


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_operation_answers_a_server_error(case, admin_token):  # type: ignore[no-untyped-def]
    case.call_and_validate(
        headers={"Authorization": f"Bearer {admin_token}"}, checks=[not_a_server_error]
    )
