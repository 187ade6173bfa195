"""The write path of POST /orders stays thin: the order's facts and one event, and the
answer built from what was written (its effects come from the intake drain)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shops.models import IntakeEvent, Order
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
    assert sql[0].startswith("SELECT") and "shops_apitoken" in sql[0]  # the token
    assert sql[1].startswith("SELECT") and "UNION ALL" in sql[1]  # number, customer, SKUs
    if connection.vendor == "postgresql":
        # One statement writes order, lines and event (atomic by itself: outside the
        # test's transaction no BEGIN/COMMIT, 3 statements in all).
        assert len(sql) == 5, "\n".join(sql)
        assert sql[2].startswith("SAVEPOINT") and sql[4].startswith("RELEASE")
        assert sql[3].startswith("WITH o AS (INSERT INTO \"shops_order\"")
        assert "INSERT INTO \"shops_orderline\"" in sql[3]
        assert "INSERT INTO \"shops_intakeevent\"" in sql[3]
    else:
        # BEGIN; order, lines, event; COMMIT
        assert len(sql) == 7, "\n".join(sql)
        assert sum(s.startswith("INSERT") for s in sql) == 3  # order, lines, event
    assert sum(s.startswith("SELECT") for s in sql) == 2
    assert IntakeEvent.objects.filter(order__number="W-1", status="pending").count() == 1
    order = Order.objects.get(number="W-1")
    assert sorted(order.lines.values_list("product__sku", "quantity", "unit_price",
                                          "discount")) == [
        ("CAP", 1, Decimal("30.00"), Decimal("0.00")),
        ("TEE", 2, Decimal("50.00"), Decimal("5.00")),
    ]
    assert (order.goods_total.amount, order.shipping_cost.amount, order.status,
            order.paid_in_full) == (Decimal("125.00"), Decimal("12.00"), "completed", True)
