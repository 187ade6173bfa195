"""Pricing changelists at constant queries; the "price a cart" page."""

from decimal import Decimal as D

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pricing.services import cart_quote, order_confirm_discounts
from tests.conftest import shared_world
from tests.factories import CustomerFactory, ProductFactory, ShopFactory, order
from tests.pricing.factories import (
    CategoryDiscountFactory,
    LoyaltyCardDiscountFactory,
    LoyaltyCardFactory,
    PromoCodeFactory,
    QuantityDiscountFactory,
    SpecialOfferFactory,
    cumulative,
    money,
    quantity_profile,
    segment,
    threshold,
)

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "pricing_thresholddiscount", "pricing_cumulativediscount", "pricing_quantitydiscount",
    "pricing_quantityprofile", "pricing_specialoffer", "pricing_promocode",
    "pricing_categorydiscount", "pricing_loyaltycarddiscount", "pricing_loyaltycard",
    "pricing_segmentadvantage", "pricing_promocodeuse", "pricing_orderdiscount",
]

_shops = iter(range(10**6))


def make_rows(n):
    """n rows in every pricing changelist, each in a new shop."""
    shop = ShopFactory(code=f"s{next(_shops)}")
    item = ProductFactory(shop=shop, price=money(shop, "100"))
    for i in range(n):
        name = f"n{i}"
        threshold(shop, ("100", "5"), ("200", "7"), name=name)
        cumulative(shop, ("0", "1"), name=name)
        segment(shop, ("50", "5", "0", False), name=name)
        QuantityDiscountFactory(shop=shop, name=name)
        SpecialOfferFactory(shop=shop, name=name)
        CategoryDiscountFactory(shop=shop, name=name)
        LoyaltyCardDiscountFactory(shop=shop, name=name)
        quantity_profile(shop, [ProductFactory(shop=shop)], ("2", "5"))
        buyer = CustomerFactory(shop=shop)
        LoyaltyCardFactory(customer=buyer, percent=D("1"))
        PromoCodeFactory(shop=shop, code=f"C{i}", percent=D("10"), name=f"code {i}")
        quote = cart_quote(shop=shop, customer=buyer, lines=[(item, 1)], promo_code=f"C{i}")
        order_confirm_discounts(order=order(buyer, "80.00", product=item), quote=quote)


def queries_for(client, name):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200
    return len(ctx), response


def _changelist_world() -> dict[str, int]:
    """Built once for the class: a superuser's queries per changelist with 5 rows of each,
    then 45 rows more."""
    make_rows(5)
    admin = User.objects.create_superuser("admin", "admin@example.com", "password")
    few = {}
    for name in CHANGELISTS:
        client = Client()  # as admin_client: a fresh client, force-logged in
        client.force_login(admin)
        few[name], _ = queries_for(client, name)
    make_rows(45)
    return few


class TestChangelistQueries:
    few_queries = shared_world(_changelist_world, scope="class")

    @pytest.mark.parametrize("name", CHANGELISTS)
    def test_pricing_changelist_queries_do_not_grow_with_rows(self, admin_client, few_queries,
                                                              name):
        few = few_queries[name]  # counted with 5 rows
        many, response = queries_for(admin_client, name)

        assert many == few
        assert response.context["cl"].result_count >= 50


def test_tier_summaries_in_the_changelist(admin_client):
    shop = ShopFactory(code="pl")
    threshold(shop, ("500", "5"), ("1000", "10"), name="Big orders")

    _, response = queries_for(admin_client, "pricing_thresholddiscount")

    summary = f"≥ {money(shop, '500')}: 5.00%; ≥ {money(shop, '1000')}: 10.00%"
    assert summary in response.content.decode()


# --- price a cart ----------------------------------------------------------------------------


@pytest.fixture
def cart_setup():
    shop = ShopFactory(code="pl", currency="PLN")
    customer = CustomerFactory(shop=shop, name="Ewa Nowak")
    tee = ProductFactory(shop=shop, sku="TEE", name="T-shirt", price=money(shop, "300"))
    cap = ProductFactory(shop=shop, sku="CAP", name="Cap", price=money(shop, "300"))
    threshold(shop, ("500", "5"), name="5% from 500")
    cumulative(shop, ("10000", "10"), name="Loyal 10%")
    return shop, customer, tee, cap


def cart_post(shop, customer="", client_type="", code="", lines=()):
    data = {"shop": shop.pk, "customer": customer, "client_type": client_type,
            "promo_code": code, "today": "",
            "lines-TOTAL_FORMS": "5", "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "1", "lines-MAX_NUM_FORMS": "1000"}
    for i, (product, quantity) in enumerate(lines):
        data[f"lines-{i}-product"] = product.pk
        data[f"lines-{i}-quantity"] = quantity
    return data


URL = "admin:pricing_price_cart"


def test_price_a_cart_page_shows_the_breakdown_for_a_customer(admin_client, cart_setup):
    shop, customer, tee, cap = cart_setup

    response = admin_client.post(reverse(URL), cart_post(
        shop, customer=customer.pk, code="NOPE", lines=[(tee, 1), (cap, 1)]))

    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["result"].quote.total == D("570.00")
    total = money(shop, "570")
    assert f'<td class="number" id="quote-total"><strong>{total}</strong></td>' in html
    assert "Ewa Nowak" in html
    assert html.count(f"5% from 500: −{money(shop, '15')}") == 2  # on each line
    assert "Loyal 10%" in html and "No tier of this discount is reached." in html
    assert "This promo code does not exist." in html
    rows = response.context["breakdown"]
    assert [(r["name"], str(r["status"]), r["message"]) for r in rows] == [
        ("Loyal 10%", "rejected", "No tier of this discount is reached."),
        ("5% from 500", "applied", ""),
        ("NOPE", "rejected", "This promo code does not exist."),
    ]


def test_price_a_cart_for_a_client_type_without_customer(admin_client, cart_setup):
    shop, customer, tee, cap = cart_setup

    response = admin_client.post(reverse(URL), cart_post(
        shop, client_type="retail", lines=[(tee, 1)]))

    assert response.context["result"].quote.total == D("300.00")


def test_price_a_cart_needs_a_customer_or_a_client_type(admin_client, cart_setup):
    shop, customer, tee, cap = cart_setup

    response = admin_client.post(reverse(URL), cart_post(shop, lines=[(tee, 1)]))

    assert response.context["form"].errors["client_type"] == [
        "Choose a customer or a client type."]
    assert "result" not in response.context


def test_price_a_cart_refuses_products_of_another_shop(admin_client, cart_setup):
    shop, customer, tee, cap = cart_setup
    foreign = ProductFactory(shop=ShopFactory(code="ua", currency="UAH"), sku="UA-1")

    response = admin_client.post(reverse(URL), cart_post(
        shop, customer=customer.pk, lines=[(foreign, 1)]))

    assert response.context["form"].non_field_errors() == [
        "Product UA-1 belongs to another shop."]


def test_price_a_cart_page_is_in_the_merchants_language(admin_client, cart_setup):
    shop, customer, tee, cap = cart_setup

    response = admin_client.post(reverse(URL), cart_post(
        shop, customer=customer.pk, lines=[(tee, 2)]), HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 200
    assert '<html lang="fr"' in response.content.decode()
    assert response.context["result"].quote.total == D("570.00")


def test_price_a_cart_page_needs_pricing_permissions(client, cart_setup):
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get(reverse(URL)).status_code == 403

    user.user_permissions.add(Permission.objects.get(codename="view_thresholddiscount"))
    assert client.get(reverse(URL)).status_code == 200


def test_price_a_cart_link_on_the_applied_discounts_list(admin_client):
    response = admin_client.get(reverse("admin:pricing_orderdiscount_changelist"))

    assert reverse(URL) in response.content.decode()
