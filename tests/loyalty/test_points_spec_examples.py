"""SPEC section 4, [E11]: bonus points by tiers of lifetime spend before the order."""

from decimal import Decimal as D

import pytest

from loyalty import points
from shops import services
from tests.factories import order
from tests.loyalty.points_builders import bonus_shop, customer_of, entries

pytestmark = pytest.mark.django_db


def complete(placed):
    return services.order_update(order=placed, status="completed", paid_in_full=True)


def test_e11_customer_at_2500_earns_30_then_50_on_two_1000_uah_orders():
    shop = bonus_shop()  # 2% under 1000 UAH, 3% from 1000 up to 3000, 5% from 3000
    customer = customer_of(shop)
    order(customer, "2500.00", days_ago=30)  # lifetime before it 0: 2% of 2500 = 50
    first = order(customer, "1000.00", days_ago=2, status="new", paid=False)
    second = order(customer, "1000.00", days_ago=1, status="new", paid=False)
    assert points.balance(customer.pk) == 50

    complete(first)  # lifetime spend before it: 2500 -> 3%
    assert points.order_points(first.pk) == 30

    complete(second)  # lifetime spend before it: 3500 -> 5%
    assert points.order_points(second.pk) == 50
    assert entries(customer) == [("earned", 50), ("earned", 30), ("earned", 50)]
    assert points.balance(customer.pk) == 130 == points.ledger_sum(customer.pk)


def test_e11_tier_boundaries_are_inclusive_from_the_lower_bound():
    shop = bonus_shop()
    customer = customer_of(shop)
    order(customer, "999.99", days_ago=10)  # 2% of 999.99 = 19.9998 -> 19
    at_999 = order(customer, "100.00", days_ago=9)  # before it 999.99: still 2% -> 2
    order(customer, "0.01", days_ago=8)  # lifetime 1100.00 (0% of 0.01 points)
    assert points.order_points(at_999.pk) == 2
    exactly_3000 = customer_of(shop)
    order(exactly_3000, "3000.00", days_ago=5)  # 2% -> 60
    at_3000 = order(exactly_3000, "100.00", days_ago=4)  # from 3000: 5% -> 5
    assert points.order_points(at_3000.pk) == 5
    assert points.balance(exactly_3000.pk) == 65
    assert [e[1] for e in entries(customer)] == [19, 2, 0]
    assert points.lifetime_spend_before(at_3000) == D("3000.00")
