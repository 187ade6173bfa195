"""Each constraint is enforced by the database itself, not only by forms."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from djmoney.money import Money

from shops.models import Customer, Order, OrderLine, Product, Return
from tests.factories import CustomerFactory, ProductFactory, ShopFactory, order

pytestmark = pytest.mark.django_db


def rejected(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


@pytest.fixture
def shop():
    return ShopFactory(code="pl", currency="PLN")


def test_customer_external_id_is_unique_per_shop(shop):
    Customer.objects.create(shop=shop, external_id="A1", name="a")
    rejected(lambda: Customer.objects.create(shop=shop, external_id="A1", name="b"))
    Customer.objects.create(shop=ShopFactory(code="ua", currency="UAH"), external_id="A1", name="c")


def test_order_number_is_unique_per_shop(shop):
    placed = order(CustomerFactory(shop=shop), "10.00", number="N1")
    rejected(lambda: Order.objects.create(
        shop=shop, number="N1", customer=placed.customer, placed_at=timezone.now()))


@pytest.mark.parametrize("field", ["goods_total", "shipping_cost"])
def test_order_amounts_are_not_negative(shop, field):
    customer = CustomerFactory(shop=shop)
    rejected(lambda: Order.objects.create(
        shop=shop, number="X", customer=customer, placed_at=timezone.now(),
        **{field: Money(-1, "PLN")}))


def test_returned_value_never_above_goods_value(shop):
    placed = order(CustomerFactory(shop=shop), "100.00")
    rejected(lambda: Order.objects.filter(pk=placed.pk).update(returned_total=Decimal("100.01")))
    Order.objects.filter(pk=placed.pk).update(returned_total=Decimal("100.00"))


def test_return_value_must_be_positive(shop):
    placed = order(CustomerFactory(shop=shop), "100.00")
    rejected(lambda: Return.objects.create(order=placed, value=Money(0, "PLN")))


def test_line_quantity_and_amounts(shop):
    placed = order(CustomerFactory(shop=shop), "100.00")
    product = placed.lines.get().product
    rejected(lambda: OrderLine.objects.create(
        order=placed, product=product, quantity=0, unit_price=Money(1, "PLN")))
    rejected(lambda: OrderLine.objects.create(
        order=placed, product=product, quantity=1, unit_price=Money(-1, "PLN")))
    rejected(lambda: OrderLine.objects.create(
        order=placed, product=product, quantity=1, unit_price=Money(1, "PLN"),
        discount=Money(-1, "PLN")))


def test_minimum_price_not_above_price(shop):
    rejected(lambda: Product.objects.create(
        shop=shop, sku="S", name="s", price=Money(10, "PLN"), min_price=Money("10.01", "PLN")))
    rejected(lambda: Product.objects.create(
        shop=shop, sku="T", name="t", price=Money(-1, "PLN"), min_price=Money(-2, "PLN")))
    ProductFactory(shop=shop, price=Money(10, "PLN"), min_price=Money(10, "PLN"))


def test_client_type_and_status_are_from_their_lists(shop):
    rejected(lambda: Customer.objects.create(
        shop=shop, external_id="Z", name="z", client_type="vip"))
    customer = CustomerFactory(shop=shop)
    rejected(lambda: Order.objects.create(
        shop=shop, number="S", customer=customer, placed_at=timezone.now(), status="lost"))
