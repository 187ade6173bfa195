"""The points ledger: earning once, reversal on returns and cancellation, spending,
staff adjustments; the balance always equals the ledger sum."""

from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from loyalty import hooks, points
from loyalty.models import PointsAccount, PointsEntry
from shops import events, services
from shops.models import Return
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, order
from tests.loyalty.points_builders import bonus_shop, customer_of, entries

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return bonus_shop(tiers=(("0", "3"),))  # 3% of every order


@pytest.fixture
def customer(shop):
    return customer_of(shop)


@pytest.fixture
def staff():
    return get_user_model().objects.create_user("staff", is_staff=True)


def test_partial_return_reverses_the_points_on_the_returned_value(customer):
    placed = order(customer, "1000.00")  # 30 points
    ret = services.return_record(order=placed, value=D("200.00"))  # 3% of 200 = 6 back

    reversal = PointsEntry.objects.get(kind="reversed")
    assert (reversal.points, reversal.order_id, reversal.return_record_id) == (
        -6, placed.pk, ret.pk)
    assert points.order_points(placed.pk) == 24
    assert points.balance(customer.pk) == 24


def test_successive_partial_returns_then_the_rest_reverse_exactly_what_was_earned(customer):
    placed = order(customer, "1000.00")  # 30
    services.return_record(order=placed, value=D("250.00"))  # keeps floor(22.5) = 22: -8
    services.return_record(order=placed, value=D("250.00"))  # keeps 15: -7
    services.return_record(order=placed, value=D("500.00"))  # full return: keeps 0: -15

    assert entries(customer) == [("earned", 30), ("reversed", -8), ("reversed", -7),
                                 ("reversed", -15)]
    returns = list(Return.objects.order_by("pk").values_list("pk", flat=True))
    assert list(PointsEntry.objects.filter(kind="reversed").order_by("pk")
                .values_list("return_record_id", flat=True)) == returns
    assert points.order_points(placed.pk) == 0 == points.balance(customer.pk)


def test_full_return_in_one_go_reverses_all_the_order_earned(customer):
    placed = order(customer, "999.00")  # floor(29.97) = 29
    services.return_record(order=placed, value=D("999.00"))
    assert entries(customer) == [("earned", 29), ("reversed", -29)]
    assert points.balance(customer.pk) == 0


def test_a_duplicated_counted_event_earns_once(customer):
    placed = order(customer, "1000.00")
    event = events.FiguresChanged(
        shop_id=placed.shop_id, customer_id=customer.pk, order_id=placed.pk, what="counted"
    )
    hooks.figures_changed(event)
    hooks.figures_changed(event)
    points.order_points_sync(order_id=placed.pk, what="counted")

    assert entries(customer) == [("earned", 30)]
    assert points.balance(customer.pk) == 30


def test_the_database_refuses_a_second_earned_entry_for_an_order(customer):
    placed = order(customer, "1000.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.create(shop_id=placed.shop_id, customer=customer, kind="earned",
                                   points=30, order=placed)


def test_an_order_cancelled_after_completion_loses_its_points_and_regains_them(customer):
    placed = order(customer, "1000.00")
    services.return_record(order=placed, value=D("100.00"))  # 27 kept
    services.order_update(order=placed, status="cancelled")
    assert points.order_points(placed.pk) == 0
    reversal = PointsEntry.objects.filter(kind="reversed").latest("pk")
    assert (reversal.points, reversal.return_record_id) == (-27, None)

    services.order_update(order=placed, status="completed")  # counts again: same 3%
    assert entries(customer)[-1] == ("corrected", 27)
    assert points.balance(customer.pk) == 27


def test_earning_uses_the_percent_of_the_category_the_customer_is_in(shop):
    plain = CategoryFactory(shop=shop, name="No program", rank=5)
    customer = customer_of(shop)
    customer.category = plain
    customer.save(update_fields=["category"])
    placed = order(customer, "1000.00")
    assert points.order_points(placed.pk) == 0
    assert not PointsEntry.objects.exists()  # no program, nothing granted: no entry


def test_orders_that_never_counted_earn_nothing(customer):
    order(customer, "1000.00", status="completed", paid=False)
    order(customer, "1000.00", status="new")
    assert not PointsEntry.objects.exists()
    assert points.balance(customer.pk) == 0


def test_spending_takes_points_and_cannot_overdraw(customer):
    order(customer, "1000.00")  # 30
    spent_on = order(customer, "10.00", status="new", paid=False)
    points.points_spend(order=spent_on, points=20)
    assert points.balance(customer.pk) == 10

    other = order(customer, "10.00", status="new", paid=False)
    with pytest.raises(points.PointsUnavailable) as caught:
        points.points_spend(order=other, points=11)
    assert caught.value.message_dict == {
        "points": ["The balance of 10 points does not cover 11."]}
    assert points.balance(customer.pk) == 10
    assert not PointsEntry.objects.filter(order=other).exists()


def test_points_are_spent_once_per_order(customer):
    order(customer, "1000.00")
    spent_on = order(customer, "10.00", status="new", paid=False)
    points.points_spend(order=spent_on, points=5)
    with pytest.raises(ValidationError) as caught:
        points.points_spend(order=spent_on, points=5)
    assert caught.value.message_dict == {"points": ["Points were already spent on this order."]}
    assert points.balance(customer.pk) == 25


def test_a_customer_without_points_cannot_spend(customer):
    placed = order(customer, "10.00", status="new", paid=False)
    with pytest.raises(points.PointsUnavailable):
        points.points_spend(order=placed, points=1)
    assert not PointsEntry.objects.exists()


def test_staff_adjustment_needs_a_reason_and_records_the_user(customer, staff):
    with pytest.raises(ValidationError) as caught:
        points.points_adjust(customer_ids=[customer.pk], points=10, reason=" ", staff_user=staff)
    assert caught.value.message_dict == {"reason": ["Say why the points are adjusted."]}
    with pytest.raises(ValidationError):
        points.points_adjust(customer_ids=[customer.pk], points=0, reason="x", staff_user=staff)

    (entry,) = points.points_adjust(customer_ids=[customer.pk], points=15,
                                    reason="Goodwill after a late delivery", staff_user=staff)
    assert (entry.kind, entry.points, entry.staff_user, entry.reason) == (
        "adjusted", 15, staff, "Goodwill after a late delivery")
    assert points.balance(customer.pk) == 15


def test_a_deduction_beyond_any_balance_changes_nobody(shop, customer, staff):
    rich = customer_of(shop)
    points.points_adjust(customer_ids=[customer.pk], points=5, reason="gift", staff_user=staff)
    points.points_adjust(customer_ids=[rich.pk], points=50, reason="gift", staff_user=staff)

    with pytest.raises(ValidationError) as caught:
        points.points_adjust(customer_ids=[customer.pk, rich.pk], points=-10,
                             reason="correction", staff_user=staff)
    assert caught.value.message_dict == {
        "points": ["1 of the customers do not have 10 points: nothing was changed."]}
    assert (points.balance(customer.pk), points.balance(rich.pk)) == (5, 50)
    assert PointsEntry.objects.count() == 2


def test_the_database_refuses_an_adjustment_without_a_reason(customer):
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.create(shop_id=customer.shop_id, customer=customer,
                                   kind="adjusted", points=5, reason="")


def test_a_reversal_of_spent_points_may_take_the_balance_below_zero(customer):
    placed = order(customer, "1000.00")  # 30
    points.points_spend(order=order(customer, "5.00", status="new", paid=False), points=30)
    services.return_record(order=placed, value=D("1000.00"))
    assert points.balance(customer.pk) == -30 == points.ledger_sum(customer.pk)


def test_balances_of_other_shops_customers_stay_apart(customer):
    other_shop = ShopFactory(code="fr", currency="EUR")
    stranger = CustomerFactory(shop=other_shop)
    order(customer, "1000.00")
    order(stranger, "1000.00")  # no bonus program in that shop
    assert points.balance(customer.pk) == 30
    assert points.balance(stranger.pk) == 0
    assert PointsAccount.objects.get(customer=customer).shop_id == customer.shop_id
