"""POST /quotes prices a cart; POST /orders/{number}/discounts records it on the order."""

from decimal import Decimal

import pytest
from djmoney.money import Money

from pricing.models import OrderDiscount, OrderGift, PromoCode, PromoCodeUse
from tests.api.conftest import fields, order_body
from tests.factories import ProductFactory
from tests.pricing.factories import PromoCodeFactory, threshold

pytestmark = pytest.mark.django_db


@pytest.fixture
def shirt(shop):
    return ProductFactory(shop=shop, sku="SHIRT", name="Shirt",
                          price=Money(Decimal("600.00"), "PLN"))


@pytest.fixture
def socks(shop):
    return ProductFactory(shop=shop, sku="SOCKS", name="Socks",
                          price=Money(Decimal("400.00"), "PLN"))


@pytest.mark.parametrize(("sku", "to_pay"), [("SHIRT", "570.00"), ("SOCKS", "400.00")])
def test_e5_threshold_discount_quoted_through_the_api(api, customer, shirt, socks, sku, to_pay):
    threshold(customer.shop, ("500", "5"), name="5% from 500")

    response = api.post("/quotes", {"customer": "C1", "lines": [{"sku": sku, "quantity": 1}]})

    assert response.status_code == 200
    body = response.json()
    assert (body["currency"], body["total"]) == ("PLN", to_pay)
    entry = body["discounts"][0]
    assert (entry["name"], entry["status"]) == (
        "5% from 500", "applied" if sku == "SHIRT" else "rejected")
    if sku == "SOCKS":
        assert (entry["reason"], entry["message"]) == (
            "tier_not_reached", "No tier of this discount is reached.")


def test_a_quote_has_lines_breakdown_gifts_and_points(api, customer, shirt, tee):
    tier = threshold(customer.shop, ("500", "5", 25), name="5% from 500").tiers.get()
    tier.gifts.add(tee)

    body = api.post("/quotes", {"customer": "C1", "currency": "PLN",
                                "lines": [{"sku": "SHIRT", "quantity": 2}]}).json()

    assert (body["goods_total"], body["discount_total"], body["total"]) == (
        "1200.00", "60.00", "1140.00")
    assert (body["points_to_earn"], body["free_shipping"]) == (25, False)
    assert body["gifts"] == [{"id": tee.pk, "sku": "TEE", "name": "T-shirt"}]
    line = body["lines"][0]
    assert (line["sku"], line["quantity"], line["unit_price"], line["total"],
            line["final_unit_price"]) == ("SHIRT", 2, "600.00", "1140.00", "570.00")
    assert line["discounts"] == [{"kind": "threshold", "name": "5% from 500", "amount": "60.00"}]


def test_reasons_come_in_the_requested_language(api, customer, socks):
    threshold(customer.shop, ("500", "5"), name="5% from 500")

    body = api.post("/quotes?lang=fr", {"customer": "C1",
                                        "lines": [{"sku": "SOCKS", "quantity": 1}]}).json()

    assert body["discounts"][0]["reason"] == "tier_not_reached"
    assert body["discounts"][0]["message"] != "No tier of this discount is reached."


def test_a_quote_for_a_client_type_without_a_customer(api, shop, shirt):
    threshold(shop, ("500", "5"), name="5% from 500", client_type="wholesale")

    body = api.post("/quotes", {"client_type": "wholesale",
                                "lines": [{"sku": "SHIRT", "quantity": 1}]}).json()

    assert (body["client_type"], body["total"]) == ("wholesale", "570.00")


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"lines": [{"sku": "SHIRT", "quantity": 1}]}, "client_type",
     "Give a customer or a client type."),
    ({"customer": "C404", "lines": [{"sku": "SHIRT", "quantity": 1}]}, "customer",
     "No customer with this external id in this shop."),
    ({"customer": "C1", "lines": [{"sku": "NOPE", "quantity": 1}]}, "lines.0.sku",
     "No product with SKU NOPE in this shop."),
    ({"customer": "C1", "lines": [{"sku": "SHIRT", "quantity": -2}]}, "lines.0.quantity",
     "Input should be greater than or equal to 1"),
    ({"customer": "C1", "lines": []}, "lines",
     "List should have at least 1 item after validation, not 0"),
    ({"customer": "C1", "currency": "EUR", "lines": [{"sku": "SHIRT", "quantity": 1}]},
     "currency", "Currency EUR does not match the shop's currency PLN."),
    ({"customer": "C1", "date": "2026-02-30", "lines": [{"sku": "SHIRT", "quantity": 1}]},
     "date", "Input should be a valid date or datetime, day value is outside expected range"),
])
def test_bad_quotes_name_the_field(api, customer, shirt, body, field, message):
    response = api.post("/quotes", body)

    assert response.status_code == 422
    assert fields(response) == {field: message}


def test_an_unknown_promo_code_is_reported_in_the_quote_not_as_an_error(api, customer, shirt):
    body = api.post("/quotes", {"customer": "C1", "promo_code": "NOPE",
                                "lines": [{"sku": "SHIRT", "quantity": 1}]}).json()

    assert body["total"] == "600.00"
    assert body["promo_code"] is None
    assert [(d["status"], d["reason"]) for d in body["discounts"]] == [
        ("rejected", "code_unknown")]


def test_confirming_records_the_discounts_on_the_order_once(api, customer, tee, cap, shop):
    threshold(shop, ("100", "10"), name="10% from 100")
    PromoCodeFactory(shop=shop, code="HELLO", percent=Decimal("5"), usage_limit=1,
                     stacking="sequential")
    api.post("/orders", order_body())  # 2 x TEE (50), 1 x CAP (30): 130 at list prices

    response = api.post("/orders/A-1/discounts", {"promo_code": "hello"})

    assert response.status_code == 201
    body = response.json()
    assert body["quote"]["total"] == "111.15"  # 130 x 0.9 x 0.95
    assert {(d["kind"], d["sku"], d["amount"]) for d in body["discounts"]} == {
        ("threshold", "TEE", "10.00"), ("threshold", "CAP", "3.00"),
        ("promo_code", "TEE", "4.50"), ("promo_code", "CAP", "1.35")}
    assert OrderDiscount.objects.count() == 4
    assert PromoCode.objects.get().times_used == 1

    again = api.post("/orders/A-1/discounts", {"promo_code": "hello"})
    assert again.status_code == 409
    assert fields(again) == {"number": "This order's discounts are already recorded."}
    assert (OrderDiscount.objects.count(), PromoCodeUse.objects.count()) == (4, 1)


def test_a_used_up_promo_code_is_not_applied_nor_counted(api, customer, tee, cap, shop):
    PromoCodeFactory(shop=shop, code="ONCE", percent=Decimal("5"), usage_limit=1,
                     times_used=1)
    api.post("/orders", order_body())

    response = api.post("/orders/A-1/discounts", {"promo_code": "ONCE"})

    assert response.status_code == 201
    body = response.json()
    assert body["quote"]["total"] == "130.00"
    assert [(d["status"], d["reason"]) for d in body["quote"]["discounts"]] == [
        ("rejected", "code_limit_reached")]
    assert body["discounts"] == []
    assert not PromoCodeUse.objects.exists()
    assert PromoCode.objects.get().times_used == 1


def test_the_chosen_gift_is_recorded_and_returned(api, customer, tee, cap, shop):
    tier = threshold(shop, ("100", "10"), name="10% from 100").tiers.get()
    tier.gifts.add(cap)
    api.post("/orders", order_body())

    response = api.post("/orders/A-1/discounts", {"gift_product_id": cap.pk})

    assert response.status_code == 201
    body = response.json()
    assert body["quote"]["gifts"] == [{"id": cap.pk, "sku": "CAP", "name": "Cap"}]
    assert body["gift"] == {"id": cap.pk, "sku": "CAP", "name": "Cap",
                            "discount": "10% from 100"}
    assert OrderGift.objects.get().sku == "CAP"


def test_a_gift_not_on_offer_is_a_422_and_records_nothing(api, customer, tee, cap, shop):
    tier = threshold(shop, ("100", "10"), name="10% from 100").tiers.get()
    tier.gifts.add(cap)
    api.post("/orders", order_body())

    response = api.post("/orders/A-1/discounts", {"gift_product_id": tee.pk})

    assert response.status_code == 422
    assert fields(response) == {
        "gift_product_id": "This product is not one of the gifts on offer for this order."}
    assert not OrderDiscount.objects.exists() and not OrderGift.objects.exists()
    assert api.post("/orders/A-1/discounts", {"gift_product_id": cap.pk}).status_code == 201
