"""What a counted order is and what it is worth."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from shops import services
from shops.counting import COUNTED_ORDER, ORDER_NET_VALUE
from shops.models import Order
from tests.factories import CustomerFactory, ProductFactory, ShopFactory, order

pytestmark = pytest.mark.django_db


def counted_spend(customer):
    return Order.objects.filter(COUNTED_ORDER, customer=customer).aggregate(
        s=Sum(ORDER_NET_VALUE))["s"] or Decimal(0)


def test_only_completed_and_fully_paid_orders_count():
    customer = CustomerFactory(shop=ShopFactory())
    counted = order(customer, "100.00")
    order(customer, "200.00", paid=False)
    order(customer, "400.00", status="new", paid=True)
    order(customer, "800.00", status="cancelled", paid=True)
    assert [o.is_counted for o in Order.objects.order_by("pk")] == [True, False, False, False]
    assert counted.is_counted
    assert counted_spend(customer) == Decimal("100.00")


def test_value_excludes_shipping_and_line_discounts_and_drops_with_returns():
    shop = ShopFactory()
    customer = CustomerFactory(shop=shop)
    product = ProductFactory(shop=shop)
    placed = services.order_record(
        shop=shop, number="A", customer=customer, placed_at=order(customer, 1).placed_at,
        status="completed", paid_in_full=True, shipping_cost=Decimal("15.00"),
        lines=[services.LineInput(product=product, quantity=3, unit_price=Decimal("50.00"),
                                  discount=Decimal("10.00")),
               services.LineInput(product=product, quantity=1, unit_price=Decimal("20.00"))],
    )
    assert placed.goods_total.amount == Decimal("160.00")
    services.return_record(order=placed, value=Decimal("60.00"))
    services.return_record(order=placed, value=Decimal("40.00"))
    placed.refresh_from_db()
    assert placed.net_value.amount == Decimal("60.00")
    assert counted_spend(customer) == Decimal("61.00")  # plus the 1.00 helper order


def test_return_above_remaining_goods_is_refused_and_changes_nothing():
    customer = CustomerFactory(shop=ShopFactory())
    placed = order(customer, "100.00")
    services.return_record(order=placed, value=Decimal("70.00"))
    with pytest.raises(ValidationError, match="above the order's goods value"):
        services.return_record(order=placed, value=Decimal("30.01"))
    placed.refresh_from_db()
    assert placed.returned_total.amount == Decimal("70.00")
    assert placed.returns.count() == 1


def test_an_order_with_another_shops_product_is_refused_whole():
    shop, other = ShopFactory(code="a"), ShopFactory(code="b")
    customer = CustomerFactory(shop=shop)
    with pytest.raises(ValidationError, match="belongs to another shop"):
        services.order_record(
            shop=shop, number="Z", customer=customer, placed_at=order(customer, 1).placed_at,
            lines=[services.LineInput(product=ProductFactory(shop=shop), quantity=1,
                                      unit_price=Decimal(1)),
                   services.LineInput(product=ProductFactory(shop=other), quantity=1,
                                      unit_price=Decimal(1))],
        )
    assert not Order.objects.filter(number="Z").exists()
