"""The write path of POST /orders stays thin: the order's facts and one event, and the
answer built from what was written (its effects come from the intake drain)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shops.models import IntakeEvent
from tests.api.conftest import order_body

pytestmark = [pytest.mark.django_db, pytest.mark.intake_on_commit]


@pytest.fixture(autouse=True)
def catalogue(customer, tee, cap):
    return customer, tee, cap


def test_an_order_post_costs_at_most_ten_statements_with_begin_and_commit(api):
    api.post("/orders", order_body(number="W-0"))  # the token's "last used" is written once
    with CaptureQueriesContext(connection) as statements:
        response = api.post("/orders", order_body(number="W-1"))
    assert response.status_code == 201
    assert response.json()["goods_total"] == "125.00"
    # Inside the test's transaction the service's BEGIN/COMMIT show as SAVEPOINT/RELEASE.
    sql = [q["sql"] for q in statements.captured_queries]
    assert len(sql) <= 10, "\n".join(sql)
    # token; number, customer and SKUs in one read; BEGIN; order, lines, event; COMMIT
    assert len(sql) == 7, "\n".join(sql)
    assert sum(s.startswith("INSERT") for s in sql) == 3  # order, lines, event
    assert sum(s.startswith("SELECT") for s in sql) == 2
    assert IntakeEvent.objects.filter(order__number="W-1", status="pending").count() == 1
