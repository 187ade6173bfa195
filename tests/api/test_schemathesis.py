"""Property-based run of the whole published schema: no input gives a server error.

schemathesis reads /api/v1/openapi.json from the WSGI application and sends generated
requests (valid and invalid) to every operation with a valid key of a shop that has a
customer, products and an order; any 5xx fails. Bounded to stay well under a minute.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.api.conftest import order_body

EXAMPLES = 30


@pytest.fixture
def keep_test_connection():
    """schemathesis calls the WSGI application itself, whose end of request would close the
    test's database connection (CONN_MAX_AGE = 0) and with it the test's transaction; this
    is what Django's test client does around each request too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(db, storefront, keep_test_connection):
    from config.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def storefront(api, customer, tee, cap):
    assert api.post("/orders", order_body()).status_code == 201
    return api.key


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_api_fail(case, storefront):
    response = case.call(headers={"Authorization": f"Bearer {storefront}"})
    case.validate_response(response, checks=[not_a_server_error])
