"""Category rules on points: earned in the last N days, and the current balance."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from loyalty import points, services
from loyalty.models import CategoryChange, PointsEntry
from shops import services as shop_services
from shops.models import Customer
from tests.factories import CategoryFactory, add_rule, order
from tests.loyalty.points_builders import bonus_shop, customer_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return bonus_shop(tiers=(("0", "10"),))  # 10%: 100.00 earns 10 points


@pytest.fixture
def staff():
    return get_user_model().objects.create_user("staff", is_staff=True)


def category_of(customer):
    return Customer.objects.get(pk=customer.pk).category


def test_rule_on_points_earned_in_the_last_30_days(shop):
    active = CategoryFactory(shop=shop, name="Active earner", rank=2)
    earner, short, stale = customer_of(shop), customer_of(shop), customer_of(shop)
    order(earner, "500.00")  # 50 points
    order(short, "490.00")  # 49 points
    old = order(stale, "900.00")  # 90 points, earned 31 days ago
    PointsEntry.objects.filter(order=old).update(
        created_at=timezone.now() - timedelta(days=31))
    # The rule comes after the orders: the full run, not each order's own recalculation,
    # is what this test measures.
    add_rule(active, {"kind": "points_earned", "days": 30, "count": 50})

    summary = services.categories_recalculate(shop=shop)

    assert summary.moved_up == 1
    assert category_of(earner) == active
    assert category_of(short).name == category_of(stale).name == "Member"
    change = CategoryChange.objects.get(customer=earner, to_category=active)
    assert change.figures == {"points_earned_30d": 50}


def test_points_earned_are_net_of_reversals_in_the_window(shop):
    active = CategoryFactory(shop=shop, name="Active earner", rank=2)
    add_rule(active, {"kind": "points_earned", "days": 30, "count": 50})
    customer = customer_of(shop)
    placed = order(customer, "500.00")  # 50
    services.customer_recalculate(customer_id=customer.pk)
    assert category_of(customer) == active
    shop_services.return_record(order=placed, value=placed.goods_total.amount / 10)  # -5
    services.customer_recalculate(customer_id=customer.pk)
    assert category_of(customer).name == "Member"


def test_rule_on_the_current_balance(shop, staff):
    rich = CategoryFactory(shop=shop, name="Points rich", rank=2)
    add_rule(rich, {"kind": "points_balance", "count": 100})
    at_100, at_99 = customer_of(shop), customer_of(shop)
    order(at_100, "1000.00")  # 100 points
    order(at_99, "990.00")  # 99 points

    services.categories_recalculate(shop=shop)
    assert category_of(at_100) == rich
    assert category_of(at_99).name == "Member"

    points.points_adjust(customer_ids=[at_100.pk], points=-1, reason="correction",
                         staff_user=staff)
    services.categories_recalculate(shop=shop)
    assert category_of(at_100).name == "Member"


def test_rule_on_a_balance_below_a_number(shop, staff):
    low = CategoryFactory(shop=shop, name="Few points", rank=2)
    add_rule(low, {"kind": "points_balance", "operator": "lt", "count": 10})
    none_yet, some = customer_of(shop), customer_of(shop)
    order(some, "100.00")  # 10 points: not below 10

    services.categories_recalculate(shop=shop)
    assert category_of(none_yet) == low  # no account at all: balance 0
    assert category_of(some).name == "Member"
