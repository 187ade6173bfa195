"""SPEC section 5's segment examples, priced end to end: segments defined by rules, membership
refreshed, advantages loaded by pricing.services.cart_quote."""

from decimal import Decimal as D

import pytest
from djmoney.money import Money

from loyalty import segments
from loyalty.models import Condition, Rule, Segment
from pricing.engine import Reason
from pricing.services import cart_quote
from tests.factories import CustomerFactory, ProductFactory, ShopFactory, order
from tests.pricing.factories import money, segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return ShopFactory(code="fr", currency="EUR", timezone="Europe/Paris", default_language="fr")


def product(shop, price):
    return ProductFactory(shop=shop, price=money(shop, price), min_price=money(shop, "0"))


def add_segment(shop, code, *conditions):
    seg = Segment.objects.create(shop=shop, code=code, name=code)
    rule = Rule.objects.create(segment=seg, name=code)
    for spec in conditions:
        Condition.objects.create(rule=rule, **spec)
    return seg


def entry(result, name):
    return next(e for e in result.quote.breakdown if e.name == name)


def test_free_shipping_for_wholesale_customers_delivering_to_paris(shop):
    paris_pros = add_segment(shop, "paris-pros",
                             {"kind": "client_type", "client_type": "wholesale"},
                             {"kind": "delivery_city", "text": "Paris"})
    segment(shop, ("0", "0", "0", True), name="Free shipping to Paris",
            client_type="wholesale", segment=paris_pros)
    pro_in_paris = CustomerFactory(shop=shop, client_type="wholesale", city="Paris")
    pro_in_lyon = CustomerFactory(shop=shop, client_type="wholesale", city="Lyon")
    segments.segments_refresh(shop=shop)
    cart = [(product(shop, "80"), 1)]

    paris = cart_quote(shop=shop, customer=pro_in_paris, lines=cart)
    lyon = cart_quote(shop=shop, customer=pro_in_lyon, lines=cart)

    assert (paris.total, paris.quote.free_shipping) == (Money("80.00", "EUR"), True)
    assert (lyon.total, lyon.quote.free_shipping) == (Money("80.00", "EUR"), False)
    assert entry(lyon, "Free shipping to Paris").reason is Reason.NOT_IN_SEGMENT


@pytest.mark.parametrize(("carrier_orders", "to_pay"), [(4, "200.00"), (5, "180.00")])
def test_ten_percent_for_five_counted_orders_shipped_by_a_carrier(shop, carrier_orders, to_pay):
    regulars = add_segment(shop, "colissimo-regulars",
                           {"kind": "shipping_method_used", "text": "colissimo", "count": 5})
    segment(shop, ("0", "0", "10", False), name="10% Colissimo regulars", segment=regulars)
    customer = CustomerFactory(shop=shop)
    for _ in range(carrier_orders):
        order(customer, "30.00", days_ago=20, shipping_method="colissimo")
    order(customer, "30.00", days_ago=10, shipping_method="chronopost")
    order(customer, "30.00", days_ago=10, shipping_method="colissimo", paid=False)
    segments.segments_refresh(shop=shop)

    result = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "100"), 2)])

    assert result.total == Money(to_pay, "EUR")


def test_the_fifth_carrier_order_gives_ten_percent_on_the_next_quote(
    shop, django_capture_on_commit_callbacks
):
    regulars = add_segment(shop, "colissimo-regulars",
                           {"kind": "shipping_method_used", "text": "colissimo", "count": 5})
    segment(shop, ("0", "0", "10", False), name="10% Colissimo regulars", segment=regulars)
    customer = CustomerFactory(shop=shop)
    for _ in range(4):
        order(customer, "30.00", days_ago=20, shipping_method="colissimo")
    segments.segments_refresh(shop=shop)
    cart = [(product(shop, "100"), 2)]
    assert cart_quote(shop=shop, customer=customer, lines=cart).total == Money("200.00", "EUR")

    with django_capture_on_commit_callbacks(execute=True):
        order(customer, "30.00", days_ago=0, shipping_method="colissimo")

    assert cart_quote(shop=shop, customer=customer, lines=cart).total == Money("180.00", "EUR")


def test_five_percent_for_customers_who_bought_a_product(shop):
    candle = product(shop, "25")
    buyers = add_segment(shop, "candle-buyers", {"kind": "bought_product", "product": candle})
    segment(shop, ("0", "0", "5", False), name="5% candle buyers", segment=buyers)
    bought = CustomerFactory(shop=shop)
    order(bought, "25.00", product=candle, days_ago=300)
    returned_unpaid = CustomerFactory(shop=shop)
    order(returned_unpaid, "25.00", product=candle, paid=False)
    segments.segments_refresh(shop=shop)
    cart = [(product(shop, "60"), 1), (product(shop, "40"), 1)]

    yes = cart_quote(shop=shop, customer=bought, lines=cart)
    no = cart_quote(shop=shop, customer=returned_unpaid, lines=cart)

    assert yes.total == Money("95.00", "EUR")
    assert [line.line_total for line in yes.quote.lines] == [D("57.00"), D("38.00")]
    assert no.total == Money("100.00", "EUR")


@pytest.mark.parametrize(("cart_total", "to_pay", "free_shipping"), [
    ("49.99", "49.99", False),
    ("50", "45.00", False),
    ("60", "55.00", False),
    ("149.99", "144.99", False),
    ("150", "135.00", True),
    ("200", "180.00", True),
])
def test_cart_tiers_five_off_from_50_and_ten_percent_with_free_shipping_from_150(
    shop, cart_total, to_pay, free_shipping
):
    segments.segments_ensure_built_in(shop=shop)
    customers = Segment.objects.get(shop=shop, built_in="customers")  # >= 1 counted order
    segment(shop, ("50", "5", "0", False), ("150", "0", "10", True), name="Cart tiers",
            segment=customers)
    buyer = CustomerFactory(shop=shop)
    order(buyer, "10.00", days_ago=3)
    newcomer = CustomerFactory(shop=shop)
    segments.segments_refresh(shop=shop)
    cart = [(product(shop, cart_total), 1)]

    result = cart_quote(shop=shop, customer=buyer, lines=cart)
    not_yet = cart_quote(shop=shop, customer=newcomer, lines=cart)

    assert (result.total, result.quote.free_shipping) == (Money(to_pay, "EUR"), free_shipping)
    assert (not_yet.total, not_yet.quote.free_shipping) == (Money(cart_total, "EUR"), False)


def test_an_advantage_without_its_special_discount_keeps_free_shipping_only(shop):
    segments.segments_ensure_built_in(shop=shop)
    everyone = Segment.objects.get(shop=shop, built_in="without_orders")
    segment(shop, ("150", "0", "10", True), name="Welcome shipping", segment=everyone,
            special_discount=False)
    newcomer = CustomerFactory(shop=shop)

    result = cart_quote(shop=shop, customer=newcomer, lines=[(product(shop, "200"), 1)])

    assert (result.total, result.quote.free_shipping) == (Money("200.00", "EUR"), True)
    assert entry(result, "Welcome shipping").percent is None
