"""SPEC section 2 worked examples E1-E4, through the recalculation service."""

from decimal import Decimal

import pytest

from loyalty import services
from loyalty.models import CategoryChange
from shops import services as shop_services
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, add_rule, order

# The orders' own effects (the intake drain) stay off: these examples are judged by the
# full recalculation, not by each order's recalculation.
pytestmark = [pytest.mark.django_db, pytest.mark.intake_on_commit]


def recalculate(shop):
    return services.categories_recalculate(shop=shop)


@pytest.fixture
def pln_shop():
    return ShopFactory(code="pl", currency="PLN", timezone="Europe/Warsaw")


@pytest.fixture
def minus20(pln_shop):
    default = CategoryFactory(shop=pln_shop, name="Standard", rank=1, is_default=True)
    group = CategoryFactory(
        shop=pln_shop, name="-20%", rank=2, program="discount", discount_percent=Decimal(20)
    )
    add_rule(
        group,
        {"kind": "client_type", "client_type": "retail"},
        {"kind": "window_spend", "days": 60, "operator": "gte", "amount": Decimal(1000)},
        {"kind": "window_orders", "days": 60, "operator": "gte", "count": 2},
        name="E1",
    )
    return default, group


def customer_with_e1_orders(shop, client_type="retail"):
    customer = CustomerFactory(shop=shop, client_type=client_type)
    first = order(customer, "600.00", days_ago=10)
    order(customer, "500.00", days_ago=40)
    return customer, first


def test_e1_retail_customer_joins_and_leaves_after_return(pln_shop, minus20):
    default, group = minus20
    customer, first = customer_with_e1_orders(pln_shop)

    summary = recalculate(pln_shop)
    customer.refresh_from_db()
    assert customer.category == group
    assert summary.moved_up == 1
    change = CategoryChange.objects.get(customer=customer, to_category=group)
    assert change.figures == {
        "client_type": "retail", "window_spend_60d": "1100.00", "window_orders_60d": 2,
    }
    assert change.rule.name == "E1"

    shop_services.return_record(order=first, value=Decimal("200.00"))
    summary = recalculate(pln_shop)
    customer.refresh_from_db()
    assert customer.category == default
    assert summary.moved_down == 1
    down = CategoryChange.objects.get(customer=customer, from_category=group)
    assert down.figures["window_spend_60d"] == "900.00"


def test_e1_wholesale_customer_never_joins(pln_shop, minus20):
    default, group = minus20
    customer, _ = customer_with_e1_orders(pln_shop, client_type="wholesale")
    recalculate(pln_shop)
    customer.refresh_from_db()
    assert customer.category == default


def test_e1_single_order_of_1500_does_not_join(pln_shop, minus20):
    default, group = minus20
    customer = CustomerFactory(shop=pln_shop)
    order(customer, "1500.00", days_ago=5)
    recalculate(pln_shop)
    customer.refresh_from_db()
    assert customer.category == default


def test_e2_locked_customer_keeps_category_both_ways_until_unlocked(pln_shop, minus20, admin_user):
    default, group = minus20
    customer, first = customer_with_e1_orders(pln_shop)
    services.customer_lock(customer=customer, locked=True, staff_user=admin_user)

    summary = recalculate(pln_shop)
    customer.refresh_from_db()
    assert customer.category == default  # rules hold, but locked: not moved up
    assert summary.skipped_locked == 1

    services.customer_lock(customer=customer, locked=False, staff_user=admin_user)
    recalculate(pln_shop)
    customer.refresh_from_db()
    assert customer.category == group

    services.customer_lock(customer=customer, locked=True, staff_user=admin_user)
    shop_services.return_record(order=first, value=Decimal("200.00"))
    recalculate(pln_shop)
    customer.refresh_from_db()
    assert customer.category == group  # rules fail, but locked: not moved down

    services.customer_lock(customer=customer, locked=False, staff_user=admin_user)
    recalculate(pln_shop)
    customer.refresh_from_db()
    assert customer.category == default
    history = CategoryChange.objects.filter(customer=customer).order_by("id")
    reasons = list(history.values_list("reason", flat=True))
    assert reasons == ["registered", "locked", "unlocked", "rule", "locked", "unlocked", "fallback"]


@pytest.fixture
def uah_tiers():
    shop = ShopFactory(code="ua", currency="UAH", default_language="uk", timezone="Europe/Kyiv")
    default = CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    silver = CategoryFactory(shop=shop, name="Silver", rank=2)
    gold = CategoryFactory(shop=shop, name="Gold", rank=3)
    vip = CategoryFactory(shop=shop, name="VIP", rank=4, auto_enter=False, auto_leave=False)
    return shop, default, silver, gold, vip


def test_e3_single_purchase_tiers_and_manual_only_vip(uah_tiers, admin_user):
    shop, default, silver, gold, vip = uah_tiers
    add_rule(silver, {"kind": "largest_order", "amount": Decimal("5000.01")})
    add_rule(gold, {"kind": "largest_order", "amount": Decimal("10000.01")})
    add_rule(vip, {"kind": "lifetime_spend", "operator": "gte", "amount": Decimal("20000.01")})

    at_5000 = CustomerFactory(shop=shop)
    order(at_5000, "5000.00", days_ago=3)
    over_5000 = CustomerFactory(shop=shop)
    order(over_5000, "5000.01", days_ago=3)
    over_10000 = CustomerFactory(shop=shop)
    order(over_10000, "10500.00", days_ago=3)
    big_spender = CustomerFactory(shop=shop)  # lifetime 25000, largest order 12500
    order(big_spender, "12500.00", days_ago=100)
    order(big_spender, "12500.00", days_ago=50)
    vip_by_hand = CustomerFactory(shop=shop)
    services.customer_move(customer=vip_by_hand, category=vip, staff_user=admin_user)

    recalculate(shop)
    for customer in (at_5000, over_5000, over_10000, big_spender, vip_by_hand):
        customer.refresh_from_db()
    assert at_5000.category == default
    assert over_5000.category == silver
    assert over_10000.category == gold
    assert big_spender.category == gold  # VIP's rule holds but VIP is never entered by rules
    assert vip_by_hand.category == vip  # VIP's rule fails but VIP is never left by rules


def test_e4_inactivity_moves_gold_down_to_silver_then_default(uah_tiers):
    shop, default, silver, gold, vip = uah_tiers
    add_rule(gold, {"kind": "window_spend", "days": 30, "amount": Decimal(3000)})
    add_rule(silver, {"kind": "window_orders", "days": 90, "count": 1})
    customer = CustomerFactory(shop=shop)
    placed = order(customer, "3500.00", days_ago=1)
    recalculate(shop)
    customer.refresh_from_db()
    assert customer.category == gold

    placed.placed_at = placed.placed_at.replace() - __import__("datetime").timedelta(days=30)
    placed.save(update_fields=["placed_at"])  # now 31 days ago
    recalculate(shop)
    customer.refresh_from_db()
    assert customer.category == silver

    placed.placed_at -= __import__("datetime").timedelta(days=60)
    placed.save(update_fields=["placed_at"])  # now 91 days ago
    recalculate(shop)
    customer.refresh_from_db()
    assert customer.category == default
