"""Issue 15 item 4: a shop's currency is fixed once it has data; a time zone change of a shop
with data asks for confirmation and says what moves. Also the admin's caps on order sizes
(item 3)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.urls import reverse
from djmoney.money import Money

from shops import services
from shops.models import Order, Shop
from tests.factories import CustomerFactory, ProductFactory, ShopFactory, order
from tests.pricing.factories import threshold

pytestmark = pytest.mark.django_db

FIXED = ("The currency of a shop cannot change once it has data (%s): its amounts would "
         "be read in the new currency.")
TIMEZONE = ("This shop has data: a new time zone moves every day boundary: rule windows "
            "(“in the last N days”), the day categories are recalculated as of, promo "
            "code validity and the statistics' days and weeks. The nightly schedules keep "
            "the server's time, so they run at another local hour. Tick “confirm the time "
            "zone change” to save.")


@pytest.fixture
def shop():
    return ShopFactory(code="pl", name="Sklep", currency="PLN", timezone="Europe/Warsaw")


def shop_form(admin_client, shop, **changes):
    data = {"code": shop.code, "name": shop.name, "currency": shop.currency,
            "default_language": shop.default_language, "timezone": shop.timezone,
            "staff_access-TOTAL_FORMS": "0", "staff_access-INITIAL_FORMS": "0"}
    data.update(changes)
    return admin_client.post(reverse("admin:shops_shop_change", args=[shop.pk]), data)


@pytest.mark.parametrize(("make", "what"), [
    (lambda shop: ProductFactory(shop=shop), "products"),
    (lambda shop: order(CustomerFactory(shop=shop), "10.00"), "products, orders"),
    (lambda shop: threshold(shop, ("500", "5")), "discount configurations"),
])
def test_the_currency_of_a_shop_with_data_cannot_change(admin_client, shop, make, what):
    make(shop)

    response = shop_form(admin_client, shop, currency="EUR")

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["currency"] == [FIXED % what]
    assert Shop.objects.get(pk=shop.pk).currency == "PLN"
    with pytest.raises(ValidationError) as refused:
        services.shop_update(shop=shop, currency="EUR")
    assert refused.value.message_dict == {"currency": [FIXED % what]}
    assert Shop.objects.get(pk=shop.pk).currency == "PLN"


def test_the_currency_of_a_shop_without_data_can_change(admin_client, shop):
    CustomerFactory(shop=shop)  # a customer has no amounts

    response = shop_form(admin_client, shop, currency="EUR")

    assert response.status_code == 302
    assert Shop.objects.get(pk=shop.pk).currency == "EUR"


def test_the_same_currency_saved_again_is_no_change(admin_client, shop):
    ProductFactory(shop=shop)

    assert shop_form(admin_client, shop, name="Sklep 2").status_code == 302
    assert Shop.objects.get(pk=shop.pk).name == "Sklep 2"


def test_a_time_zone_change_of_a_shop_with_data_asks_for_confirmation(admin_client, shop):
    order(CustomerFactory(shop=shop), "10.00")

    asked = shop_form(admin_client, shop, timezone="Europe/Kyiv")
    assert asked.status_code == 200
    assert asked.context["adminform"].form.errors["timezone"] == [TIMEZONE]
    assert Shop.objects.get(pk=shop.pk).timezone == "Europe/Warsaw"

    confirmed = shop_form(admin_client, shop, timezone="Europe/Kyiv", confirm_timezone="on")
    assert confirmed.status_code == 302
    assert Shop.objects.get(pk=shop.pk).timezone == "Europe/Kyiv"


def test_a_time_zone_change_of_an_empty_shop_needs_no_confirmation(admin_client, shop):
    assert shop_form(admin_client, shop, timezone="Europe/Kyiv").status_code == 302
    assert Shop.objects.get(pk=shop.pk).timezone == "Europe/Kyiv"


def test_the_service_refuses_an_unconfirmed_time_zone_change(shop):
    ProductFactory(shop=shop)
    with pytest.raises(ValidationError) as refused:
        services.shop_update(shop=shop, timezone="Europe/Kyiv")
    assert refused.value.message_dict == {"timezone": [TIMEZONE]}
    assert services.shop_update(shop=shop, timezone="Europe/Kyiv",
                                confirm_timezone=True).timezone == "Europe/Kyiv"


@pytest.mark.postgres
def test_the_database_refuses_a_currency_change_behind_the_services(on_postgres, shop):
    ProductFactory(shop=shop)
    with pytest.raises(DatabaseError, match="currency of shop"), transaction.atomic():
        Shop.objects.filter(pk=shop.pk).update(currency="EUR")
    assert Shop.objects.get(pk=shop.pk).currency == "PLN"
    empty = ShopFactory(code="empty", currency="PLN")
    Shop.objects.filter(pk=empty.pk).update(currency="EUR")  # no data: allowed
    assert Shop.objects.get(pk=empty.pk).currency == "EUR"


# --- the admin caps order sizes at the documented maxima -------------------------------------


def order_form(admin_client, shop, product, *, quantity="1", unit_price="10.00",
               shipping="0.00", returned=None):
    customer = CustomerFactory(shop=shop)
    data = {"shop": shop.pk, "number": "ADM-1", "customer": customer.pk,
            "placed_at_0": "2026-01-01", "placed_at_1": "10:00:00", "status": "completed",
            "paid_in_full": "on", "shipping_cost_0": shipping, "shipping_cost_1": "PLN",
            "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0",
            "lines-0-product": product.pk, "lines-0-quantity": quantity,
            "lines-0-unit_price_0": unit_price, "lines-0-unit_price_1": "PLN",
            "lines-0-discount_0": "0", "lines-0-discount_1": "PLN",
            "returns-TOTAL_FORMS": "0", "returns-INITIAL_FORMS": "0"}
    if returned:
        data.update({"returns-TOTAL_FORMS": "1", "returns-0-value_0": returned,
                     "returns-0-value_1": "PLN", "returns-0-returned_at_0": "2026-01-02",
                     "returns-0-returned_at_1": "10:00:00", "returns-0-reference": "R"})
    return admin_client.post(reverse("admin:shops_order_add"), data)


def inline_errors(response, prefix):
    formset = next(f for f in response.context["inline_admin_formsets"]
                   if f.formset.prefix == prefix).formset
    return formset.forms[0].errors, formset.non_form_errors()


@pytest.mark.parametrize(("kwargs", "prefix", "field", "message"), [
    ({"quantity": "100001"}, "lines", "quantity", "Must be at most 100,000."),
    ({"unit_price": "10000000000.00"}, "lines", "unit_price",
     "Must be at most 9,999,999,999.99."),
    ({"unit_price": "9999999999.99", "returned": "10000000000.00"}, "returns", "value",
     "Must be at most 9,999,999,999.99."),
])
def test_the_order_admin_refuses_sizes_above_the_maxima(admin_client, shop, kwargs, prefix,
                                                        field, message):
    product = ProductFactory(shop=shop, price=Money(Decimal("10.00"), "PLN"))

    response = order_form(admin_client, shop, product, **kwargs)

    assert response.status_code == 200
    errors, _ = inline_errors(response, prefix)
    assert errors[field] == [message]
    assert not Order.objects.exists()


def test_the_order_admin_refuses_a_goods_total_above_the_maximum(admin_client, shop):
    product = ProductFactory(shop=shop, price=Money(Decimal("10.00"), "PLN"))

    response = order_form(admin_client, shop, product, quantity="100000",
                          unit_price="9999999999.99")

    assert response.status_code == 200
    _, non_form = inline_errors(response, "lines")
    assert list(non_form) == [
        "The order's goods total is above the maximum of 999,999,999,999.99."]
    assert not Order.objects.exists()


def test_the_order_admin_refuses_a_shipping_cost_above_the_maximum(admin_client, shop):
    product = ProductFactory(shop=shop, price=Money(Decimal("10.00"), "PLN"))

    response = order_form(admin_client, shop, product, shipping="10000000000.00")

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["shipping_cost"] == [
        "Must be at most 9,999,999,999.99."]
