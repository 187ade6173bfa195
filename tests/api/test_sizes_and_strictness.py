"""Issue 15 item 3: sizes that overflowed 32-bit columns, documented maxima, strict inputs.

The order of 11 x 9,999,999,999.99 at a 2% bonus answered 500 "integer out of range" on
PostgreSQL: its 2,199,999,999 points do not fit a 32-bit column. Run on PostgreSQL
(DATABASE_URL) to see the original failure; on SQLite integers were always 64-bit.
"""

from decimal import Decimal

import pytest
from djmoney.money import Money

from loyalty import points
from loyalty.models import PointsEntry
from shops.api_schemas import MAX_AMOUNT, MAX_ORDER_TOTAL, MAX_QUANTITY
from shops.models import Customer, Order, Return
from tests.api.conftest import fields, order_body
from tests.factories import CategoryFactory, CustomerFactory, ProductFactory
from tests.loyalty.points_builders import bonus_program

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def catalogue(customer, tee, cap):
    return customer, tee, cap


@pytest.fixture
def two_percent(shop):
    member = CategoryFactory(shop=shop, name="Member", rank=1, is_default=True, program="bonus")
    bonus_program(member, ("0", "2"))
    return member


def test_the_largest_order_earns_its_exact_points_instead_of_a_500(api, shop, two_percent):
    buyer = CustomerFactory(shop=shop, external_id="BIG", name="Big spender")
    Customer.objects.filter(pk=buyer.pk).update(category=two_percent)
    ProductFactory(shop=shop, sku="GOLD", name="Gold bar",
                   price=Money(Decimal("9999999999.99"), "PLN"))
    body = order_body(customer="BIG", lines=[
        {"sku": "GOLD", "quantity": 11, "unit_price": "9999999999.99"}])

    response = api.post("/orders", body)

    assert response.status_code == 201, response.content
    assert response.json()["goods_total"] == "109999999999.89"
    # 2% of 109,999,999,999.89 = 2,199,999,999.9978, rounded down: above 2**31 - 1.
    assert points.balance(buyer.pk) == 2_199_999_999
    assert PointsEntry.objects.get(customer=buyer).points == 2_199_999_999
    api.post("/orders", order_body(number="A-2", customer="BIG", lines=[
        {"sku": "GOLD", "quantity": 11, "unit_price": "9999999999.99"}]))
    assert points.balance(buyer.pk) == 4_399_999_998  # a balance above 2**32 too


def test_an_order_above_the_documented_total_is_a_422_naming_the_lines(api):
    lines = [{"sku": "TEE", "quantity": MAX_QUANTITY, "unit_price": str(MAX_AMOUNT)}] * 2
    response = api.post("/orders", order_body(lines=lines))

    assert response.status_code == 422
    assert fields(response) == {"lines": "The order's goods total is above the maximum of "
                                         "999,999,999,999.99."}
    assert not Order.objects.exists()


@pytest.mark.parametrize(("line", "field", "message"), [
    ({"sku": "TEE", "quantity": MAX_QUANTITY + 1, "unit_price": "1"}, "lines.0.quantity",
     "Input should be less than or equal to 100000"),
    ({"sku": "TEE", "quantity": 1, "unit_price": "10000000000.00"}, "lines.0.unit_price",
     "Input should be less than or equal to 9999999999.99"),
    ({"sku": "TEE", "quantity": 1, "unit_price": "1", "discount": "10000000000"},
     "lines.0.discount", "Input should be less than or equal to 9999999999.99"),
])
def test_amounts_and_quantities_above_their_maxima_are_422_naming_the_field(
        api, line, field, message):
    response = api.post("/orders", order_body(lines=[line]))

    assert response.status_code == 422
    assert fields(response) == {field: message}
    assert not Order.objects.exists()


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"lines": [{"sku": "TEE", "quantity": True, "unit_price": "50"}]},
     "lines.0.quantity", "Input should be a valid integer"),
    ({"lines": [{"sku": "TEE", "quantity": "5", "unit_price": "50"}]},
     "lines.0.quantity", "Input should be a valid integer"),
    ({"lines": [{"sku": "TEE", "quantity": 2.0, "unit_price": "50"}]},
     "lines.0.quantity", "Input should be a valid integer"),
    ({"placed_at": 1793611800}, "placed_at",
     "Input should be a date and time as an ISO 8601 string with an offset"),
    ({"paid_in_full": "yes"}, "paid_in_full", "Input should be a valid boolean"),
    ({"paid_in_full": 1}, "paid_in_full", "Input should be a valid boolean"),
    ({"shipping_cost": True}, "shipping_cost",
     "Input should be an amount: a decimal number or a string"),
    ({"number": 12}, "number", "Input should be a valid string"),
])
def test_the_api_does_not_coerce_wrong_types(api, change, field, message):
    response = api.post("/orders", order_body(**change))

    assert response.status_code == 422
    assert fields(response) == {field: message}
    assert not Order.objects.exists()


def test_returns_customers_and_quotes_are_strict_too(api):
    api.post("/orders", order_body())

    ret = api.post("/orders/A-1/returns", {"reference": "R-1", "value": "1.00",
                                           "currency": "PLN", "returned_at": 1793611800})
    customer = api.put("/customers/C9", {"name": "Ola", "is_active": "false"})
    quote = api.post("/quotes", {"customer": "C1", "lines": [{"sku": "TEE", "quantity": "1"}]})
    big_return = api.post("/orders/A-1/returns", {"reference": "R-2", "value": "1e11",
                                                  "currency": "PLN"})

    assert (ret.status_code, customer.status_code, quote.status_code) == (422, 422, 422)
    assert fields(ret) == {"returned_at": "Input should be a date and time as an ISO 8601 "
                                          "string with an offset"}
    assert fields(customer) == {"is_active": "Input should be a valid boolean"}
    assert fields(quote) == {"lines.0.quantity": "Input should be a valid integer"}
    assert fields(big_return) == {"value": "Input should be less than or equal to 9999999999.99"}
    assert not Return.objects.exists()
    assert not Customer.objects.filter(external_id="C9").exists()


def test_the_openapi_schema_documents_maxima_and_the_400_and_422_answers(client):
    schema = client.get("/api/v1/openapi.json").json()
    line = schema["components"]["schemas"]["LineIn"]["properties"]
    assert line["quantity"]["maximum"] == MAX_QUANTITY
    post = schema["paths"]["/api/v1/orders"]["post"]["responses"]
    assert {"400", "422"} <= set(post)
    assert post["400"]["description"] and post["422"]["description"]
    assert line["unit_price"]["anyOf"][0]["maximum"] == float(MAX_AMOUNT)
    assert str(MAX_ORDER_TOTAL) in schema["components"]["schemas"]["OrderIn"]["properties"][
        "lines"]["description"]
