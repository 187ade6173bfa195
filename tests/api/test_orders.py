"""POST /orders (idempotent on the number), PATCH /orders/{number}, returns."""

from decimal import Decimal

import pytest
from django.test import override_settings

from shops.models import Customer, Order, OrderLine, Return
from tests.api.conftest import fields, order_body

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def catalogue(customer, tee, cap):
    return customer, tee, cap


def test_an_order_is_recorded_with_its_lines_and_totals(api, shop):
    response = api.post("/orders", order_body())

    assert response.status_code == 201
    body = response.json()
    assert (body["goods_total"], body["returned_total"], body["net_value"]) == (
        "125.00", "0.00", "125.00")  # 2 x 50 - 5 + 30; shipping excluded
    assert (body["currency"], body["counted"], body["shipping_cost"]) == ("PLN", True, "12.00")
    assert body["lines"] == [
        {"sku": "TEE", "quantity": 2, "unit_price": "50.00", "discount": "5.00",
         "total": "95.00"},
        {"sku": "CAP", "quantity": 1, "unit_price": "30.00", "discount": "0.00",
         "total": "30.00"},
    ]
    order = Order.objects.get()
    assert (order.number, order.customer.external_id, order.goods_total.amount) == (
        "A-1", "C1", Decimal("125.00"))
    assert order.placed_at.isoformat() == "2026-11-02T09:30:00+00:00"


def test_the_same_order_posted_twice_is_recorded_once(api):
    first = api.post("/orders", order_body())
    again = api.post("/orders", order_body())

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert (Order.objects.count(), OrderLine.objects.count()) == (1, 2)


def test_a_number_recorded_meanwhile_by_another_request_is_judged_as_a_replay(
        api, monkeypatch):
    """The number's unique constraint catches what the lookup could not see (a concurrent
    POST of the same number): nothing is written twice, the request goes on (its
    transaction intact) and answers as a replay would."""
    from shops import api as shops_api
    from shops.api_lookups import order_post_lookup

    assert api.post("/orders", order_body()).status_code == 201

    def lookup_too_early(**kwargs):  # what a lookup racing the first POST saw
        found = order_post_lookup(**kwargs)
        found.recorded = False
        return found

    monkeypatch.setattr(shops_api, "order_post_lookup", lookup_too_early)
    same = api.post("/orders", order_body())
    other = api.post("/orders", order_body(status="new"))

    assert same.status_code == 200
    assert same.json()["goods_total"] == "125.00"
    assert other.status_code == 409
    assert set(fields(other)) == {"status"}
    assert Order.objects.count() == 1
    assert OrderLine.objects.count() == 2


def test_lines_in_another_order_and_numbers_as_json_numbers_are_the_same_payload(api):
    api.post("/orders", order_body())
    body = order_body(shipping_cost=12, lines=[
        {"sku": "CAP", "quantity": 1, "unit_price": 30.0},
        {"sku": "TEE", "quantity": 2, "unit_price": 50, "discount": 5.00},
    ])
    body["placed_at"] = "2026-11-02T09:30:00Z"  # the same instant

    assert api.post("/orders", body).status_code == 200
    assert Order.objects.count() == 1


@pytest.mark.parametrize(("change", "differ"), [
    ({"status": "new"}, ["status"]),
    ({"paid_in_full": False, "shipping_cost": "0"}, ["paid_in_full", "shipping_cost"]),
    ({"lines": [{"sku": "TEE", "quantity": 3, "unit_price": "50.00", "discount": "5.00"},
                {"sku": "CAP", "quantity": 1, "unit_price": "30.00"}]}, ["lines"]),
    ({"placed_at": "2026-11-03T10:30:00+01:00"}, ["placed_at"]),
])
def test_the_same_number_with_other_content_is_a_409_naming_what_differs(api, change, differ):
    api.post("/orders", order_body())

    response = api.post("/orders", order_body(**change))

    assert response.status_code == 409
    message = ("Order A-1 is already recorded with other content; change its status or "
               "payment with PATCH.")
    assert fields(response) == dict.fromkeys(differ, message)
    order = Order.objects.get()
    assert (order.status, order.paid_in_full, order.lines.count()) == ("completed", True, 2)


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"currency": "EUR"}, "currency", "Currency EUR does not match the shop's currency PLN."),
    ({"currency": "pln"}, "currency", "String should match pattern '^[A-Z]{3}$'"),
    ({"customer": "C404"}, "customer", "No customer with this external id in this shop."),
    ({"lines": [{"sku": "TEE", "quantity": 1, "unit_price": "50"},
                {"sku": "HAT", "quantity": 1, "unit_price": "50"}]},
     "lines.1.sku", "No product with SKU HAT in this shop."),
    ({"lines": [{"sku": "TEE", "quantity": -1, "unit_price": "50"}]},
     "lines.0.quantity", "Input should be greater than or equal to 1"),
    ({"lines": [{"sku": "TEE", "quantity": 0, "unit_price": "50"}]},
     "lines.0.quantity", "Input should be greater than or equal to 1"),
    ({"lines": [{"sku": "TEE", "quantity": 1, "unit_price": "-50"}]},
     "lines.0.unit_price", "Input should be greater than or equal to 0"),
    ({"lines": [{"sku": "TEE", "quantity": 1, "unit_price": "50.001"}]},
     "lines.0.unit_price", "Decimal input should have no more than 2 decimal places"),
    ({"lines": [{"sku": "TEE", "quantity": 1, "unit_price": "50", "discount": "60"}]},
     "lines", "A line's discount cannot exceed its value."),
    ({"lines": []}, "lines", "List should have at least 1 item after validation, not 0"),
    ({"shipping_cost": "-1"}, "shipping_cost", "Input should be greater than or equal to 0"),
    ({"placed_at": "2026-13-40T10:00:00Z"}, "placed_at",
     "Input should be a valid datetime or date, month value is outside expected range of 1-12"),
    ({"placed_at": "2026-11-02 10:30"}, "placed_at", "Input should have timezone info"),
    ({"placed_at": "1900-01-01T00:00:00Z"}, "placed_at",
     "Value error, must be between 1970-01-01 and 2100-01-01"),
    ({"status": "shipped"}, "status", "Input should be 'new', 'completed' or 'cancelled'"),
    ({"number": "A\x00"}, "number", "String should match pattern '^[^\\x00]*$'"),
])
def test_bad_orders_get_a_422_naming_the_field_and_nothing_is_written(
        api, change, field, message):
    response = api.post("/orders", order_body(**change))

    assert response.status_code == 422
    assert response.json()["detail"] == "Invalid input."
    assert fields(response) == {field: message}
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()


def test_a_body_that_is_not_json_is_a_400(api):
    response = api.post("/orders", raw="{not json")

    assert response.status_code == 400
    assert fields(response) == {None: "Cannot parse request body"}
    assert not Order.objects.exists()


@override_settings(API_MAX_BODY_BYTES=2000)
def test_an_oversized_body_is_a_413_and_is_not_read(api):
    lines = [{"sku": "TEE", "quantity": 1, "unit_price": "50.00"}] * 60
    response = api.post("/orders", order_body(lines=lines))

    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is larger than 2000 bytes.",
                               "errors": []}
    assert not Order.objects.exists()


def test_changing_status_and_payment_makes_the_order_count(api):
    api.post("/orders", order_body(status="new", paid_in_full=False))

    response = api.patch("/orders/A-1", {"status": "completed"})
    assert (response.status_code, response.json()["counted"]) == (200, False)
    response = api.patch("/orders/A-1", {"paid_in_full": True})

    assert (response.status_code, response.json()["counted"]) == (200, True)
    assert Customer.objects.get().orders_changed_at is not None


def test_patch_needs_something_to_change(api):
    api.post("/orders", order_body())

    response = api.patch("/orders/A-1", {})

    assert response.status_code == 422
    assert fields(response) == {None: "Give a status, a payment (paid_in_full) or both."}


def test_patch_with_a_bad_status_changes_nothing(api):
    api.post("/orders", order_body())

    response = api.patch("/orders/A-1", {"status": "lost", "paid_in_full": False})

    assert response.status_code == 422
    assert fields(response) == {
        "status": "Input should be 'new', 'completed' or 'cancelled'"}
    assert Order.objects.get().paid_in_full is True


def test_patching_an_unknown_order_is_404(api):
    assert api.patch("/orders/NOPE", {"status": "cancelled"}).status_code == 404


def test_reading_an_order(api):
    api.post("/orders", order_body())

    response = api.get("/orders/A-1")

    assert response.status_code == 200
    assert response.json()["number"] == "A-1"
    assert api.get("/orders/A-2").status_code == 404


# --- returns -------------------------------------------------------------------------------


def test_a_return_lowers_the_order_value_and_is_recorded_once(api):
    api.post("/orders", order_body())
    body = {"reference": "R-1", "value": "25.00", "currency": "PLN",
            "returned_at": "2026-11-05T12:00:00Z"}

    first = api.post("/orders/A-1/returns", body)
    again = api.post("/orders/A-1/returns", body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == {"reference": "R-1", "value": "25.00",
                            "returned_at": "2026-11-05T12:00:00Z"}
    assert Return.objects.count() == 1
    assert api.get("/orders/A-1").json()["net_value"] == "100.00"


def test_the_same_return_reference_with_another_value_is_a_409(api):
    api.post("/orders", order_body())
    api.post("/orders/A-1/returns", {"reference": "R-1", "value": "25.00", "currency": "PLN"})

    response = api.post("/orders/A-1/returns",
                        {"reference": "R-1", "value": "30.00", "currency": "PLN"})

    assert response.status_code == 409
    assert fields(response) == {
        "reference": "Return R-1 is already recorded with another value or date."}
    assert Order.objects.get().returned_total.amount == Decimal("25.00")


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"value": "125.01"}, "value",
     "Returned value 150.01 is above the order's goods value 125.00."),
    ({"value": "0"}, "value", "Input should be greater than 0"),
    ({"currency": "UAH"}, "currency", "Currency UAH does not match the shop's currency PLN."),
    ({"reference": ""}, "reference", "String should have at least 1 character"),
    ({"returned_at": "05/11/2026"}, "returned_at",
     "Input should be a valid datetime or date, invalid character in year"),
])
def test_bad_returns_get_a_422_and_nothing_is_written(api, body, field, message):
    api.post("/orders", order_body())
    api.post("/orders/A-1/returns", {"reference": "R-0", "value": "25.00", "currency": "PLN"})

    response = api.post("/orders/A-1/returns",
                        {"reference": "R-1", "value": "10.00", "currency": "PLN", **body})

    assert response.status_code == 422
    assert fields(response) == {field: message}
    assert Return.objects.count() == 1
    assert Order.objects.get().returned_total.amount == Decimal("25.00")


def test_a_return_on_an_unknown_order_is_404(api):
    response = api.post("/orders/NOPE/returns",
                        {"reference": "R-1", "value": "10.00", "currency": "PLN"})
    assert response.status_code == 404
