"""Property-based run of the whole published schema: no input gives a server error.

schemathesis reads /api/v1/openapi.json from the WSGI application and sends generated
requests (valid and invalid) to every operation with a valid key of a shop that has a
customer, products and an order; any 5xx fails. Bounded to stay well under a minute.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.api.conftest import order_body

EXAMPLES = 30


@pytest.fixture
def api_schema(db):
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
