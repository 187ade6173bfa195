"""Lifecycle worked examples (docs/lifecycle.md) and the lifecycle services, on the database."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from loyalty import lifecycle, services
from loyalty.models import CategoryChange, CustomerLifecycle
from shops import services as shop_services
from shops.models import Customer, Shop
from tests.factories import CategoryFactory, CustomerFactory, ProductFactory, ShopFactory, add_rule

# Recalculations here are dated by hand: the orders' own recalculation (the drain) stays off.
pytestmark = [pytest.mark.django_db, pytest.mark.intake_on_commit]


@pytest.fixture
def shop():
    return ShopFactory(code="pl", timezone="Europe/Warsaw")


def placed(shop, customer, value, when: datetime):
    """A completed, paid order worth `value` placed at `when` (aware)."""
    return shop_services.order_record(
        shop=shop, number=f"N{Customer.objects.count()}-{when:%Y%m%d%H%M}-{value}",
        customer=customer, placed_at=when, status="completed", paid_in_full=True,
        lines=[shop_services.LineInput(product=ProductFactory(shop=shop), quantity=1,
                                       unit_price=Decimal(value))],
    )


def noon(shop, day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=shop.tz)


def category_of(customer):
    return Customer.objects.get(pk=customer.pk).category


def recalc(shop, day, **kwargs):
    return services.categories_recalculate(shop=shop, as_of=day, **kwargs)


@pytest.fixture
def gold_ladder(shop):
    member = CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    gold = CategoryFactory(shop=shop, name="Gold", rank=3, grace_days=14)
    add_rule(gold, {"kind": "window_spend", "days": 30, "amount": Decimal("1000.00")})
    return member, gold


def test_l1_grace_period_keeps_gold_14_days(shop, gold_ladder):
    member, gold = gold_ladder
    anna = CustomerFactory(shop=shop, name="Anna")
    placed(shop, anna, "1200.00", noon(shop, date(2026, 6, 10)))
    assert recalc(shop, date(2026, 6, 10)).moved_up == 1
    recalc(shop, date(2026, 7, 10))  # the order is 30 days old: still inside the window
    assert not CustomerLifecycle.objects.filter(grace_since__isnull=False).exists()
    first = recalc(shop, date(2026, 7, 11))  # outside: the grace period starts
    assert (first.moved_down, first.in_grace) == (0, 1)
    assert category_of(anna) == gold
    state = CustomerLifecycle.objects.get(customer=anna)
    assert (state.grace_category, state.grace_since) == (gold, date(2026, 7, 11))
    assert recalc(shop, date(2026, 7, 24)).in_grace == 1  # the 14th day of grace
    assert category_of(anna) == gold
    assert CustomerLifecycle.objects.get(customer=anna).grace_since == date(2026, 7, 11)
    last = recalc(shop, date(2026, 7, 25))
    assert (last.moved_down, last.in_grace) == (1, 0)
    assert category_of(anna) == member
    change = CategoryChange.objects.filter(customer=anna).first()
    assert (change.from_category, change.to_category, change.reason, change.direction) == (
        gold, member, "grace_ended", -1)
    assert CustomerLifecycle.objects.get(customer=anna).grace_since is None


def test_l1_qualifying_again_clears_the_grace_period(shop, gold_ladder):
    member, gold = gold_ladder
    anna = CustomerFactory(shop=shop)
    placed(shop, anna, "1200.00", noon(shop, date(2026, 6, 10)))
    recalc(shop, date(2026, 6, 10))
    recalc(shop, date(2026, 7, 11))
    placed(shop, anna, "1000.00", noon(shop, date(2026, 7, 20)))
    summary = recalc(shop, date(2026, 7, 20))
    assert (summary.in_grace, summary.moved_down) == (0, 0)
    assert CustomerLifecycle.objects.get(customer=anna).grace_since is None
    # A new lapse starts a new, full grace period.
    recalc(shop, date(2026, 8, 20))
    assert CustomerLifecycle.objects.get(customer=anna).grace_since == date(2026, 8, 20)
    recalc(shop, date(2026, 9, 2))
    assert category_of(anna) == gold
    recalc(shop, date(2026, 9, 3))
    assert category_of(anna) == member


def test_dry_run_counts_in_grace_apart_from_moves_down_and_writes_nothing(shop, gold_ladder):
    member, gold = gold_ladder
    lapsed, fresh = CustomerFactory(shop=shop), CustomerFactory(shop=shop)
    placed(shop, lapsed, "1200.00", noon(shop, date(2026, 6, 10)))
    placed(shop, fresh, "1500.00", noon(shop, date(2026, 6, 20)))
    recalc(shop, date(2026, 6, 20))
    recalc(shop, date(2026, 7, 11))  # lapsed enters grace
    dry = recalc(shop, date(2026, 7, 21), dry_run=True)  # fresh lapses too, lapsed is in grace
    assert (dry.moved_down, dry.in_grace, dry.unchanged) == (0, 2, 2)
    dry = recalc(shop, date(2026, 7, 26), dry_run=True)
    assert (dry.moved_down, dry.in_grace) == (1, 1)
    assert CustomerLifecycle.objects.filter(grace_since__isnull=False).count() == 1
    assert category_of(lapsed) == gold


def test_l2_temporary_vip_returns_to_the_rules(shop, gold_ladder, monkeypatch, admin_user):
    member, gold = gold_ladder
    vip = CategoryFactory(shop=shop, name="VIP", rank=5, auto_enter=False)
    monkeypatch.setattr(Shop, "today", lambda self: date(2027, 1, 10))
    ben = CustomerFactory(shop=shop, name="Ben")
    placed(shop, ben, "1500.00", noon(shop, date(2027, 1, 5)))
    recalc(shop, date(2027, 1, 10))
    assert category_of(ben) == gold
    move = services.customer_move(customer=ben, category=vip, staff_user=admin_user,
                                  until=date(2027, 3, 31), note="Fair guest")
    assert (move.reason, move.until, move.from_category, move.to_category) == (
        "manual", date(2027, 3, 31), gold, vip)
    assert Customer.objects.get(pk=ben.pk).category_locked
    assert recalc(shop, date(2027, 3, 30)).skipped_locked == 1
    assert category_of(ben) == vip
    back = recalc(shop, date(2027, 3, 31))  # the 1,500.00 order is long out of the window
    assert (back.moved_down, back.returned, back.skipped_locked) == (1, 1, 0)
    ben = Customer.objects.get(pk=ben.pk)
    assert (ben.category, ben.category_locked) == (member, False)
    rows = list(CategoryChange.objects.filter(customer=ben).order_by("changed_at", "id")
                .values_list("reason", "from_category__name", "to_category__name", "until"))
    assert rows == [
        ("registered", None, "Member", None),
        ("rule", "Member", "Gold", None),
        ("manual", "Gold", "VIP", date(2027, 3, 31)),
        ("locked", "VIP", "VIP", date(2027, 3, 31)),
        ("temporary_ended", "VIP", "Member", None),
    ]
    assert not CustomerLifecycle.objects.filter(manual_until__isnull=False).exists()


def test_temporary_lock_that_ends_in_the_same_category_says_so(shop, gold_ladder, monkeypatch,
                                                               admin_user):
    member, gold = gold_ladder
    monkeypatch.setattr(Shop, "today", lambda self: date(2027, 1, 10))
    cara = CustomerFactory(shop=shop, category=member)
    services.customer_lock(customer=cara, locked=True, staff_user=admin_user,
                           until=date(2027, 2, 1))
    summary = recalc(shop, date(2027, 2, 1))
    assert (summary.returned, summary.moved_up, summary.moved_down) == (1, 0, 0)
    last = CategoryChange.objects.filter(customer=cara).first()
    assert (last.reason, last.direction, last.to_category) == ("temporary_ended", 0, member)
    assert not Customer.objects.get(pk=cara.pk).category_locked


@pytest.mark.parametrize("until, message", [
    (date(2027, 1, 10), "The end date must be in the future (after 2027-01-10)."),
    (date(2026, 12, 31), "The end date must be in the future (after 2027-01-10)."),
    (date(2037, 6, 1), "The end date must be within ten years; lock without an end date "
                       "instead."),
])
def test_temporary_move_refuses_an_end_date_today_or_past(shop, gold_ladder, monkeypatch,
                                                          admin_user, until, message):
    member, gold = gold_ladder
    monkeypatch.setattr(Shop, "today", lambda self: date(2027, 1, 10))
    dan = CustomerFactory(shop=shop, category=member)
    with pytest.raises(ValidationError) as error:
        services.customer_move(customer=dan, category=gold, staff_user=admin_user,
                               until=until)
    assert error.value.message_dict == {"until": [message]}
    dan = Customer.objects.get(pk=dan.pk)
    assert (dan.category, dan.category_locked) == (member, False)
    assert not CategoryChange.objects.filter(customer=dan).exists()


def test_a_permanent_lock_replaces_a_temporary_one(shop, gold_ladder, monkeypatch, admin_user):
    member, gold = gold_ladder
    monkeypatch.setattr(Shop, "today", lambda self: date(2027, 1, 10))
    eve = CustomerFactory(shop=shop, category=gold)
    services.customer_lock(customer=eve, locked=True, staff_user=admin_user,
                           until=date(2027, 2, 1))
    change = services.customer_lock(customer=eve, locked=True, staff_user=admin_user)
    assert (change.reason, change.until) == ("locked", None)
    recalc(shop, date(2027, 2, 2))
    assert Customer.objects.get(pk=eve.pk).category_locked


@pytest.fixture
def year_ladder(shop):
    member = CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    gold = CategoryFactory(shop=shop, name="Gold", rank=3)
    add_rule(gold, {"kind": "period_spend", "period": "current_year",
                    "amount": Decimal("2000.00")})
    return member, gold


def test_l3_calendar_year_rule_at_year_end(shop, year_ladder):
    member, gold = year_ladder
    olga = CustomerFactory(shop=shop, name="Olga")
    placed(shop, olga, "1500.00", noon(shop, date(2025, 3, 10)))
    placed(shop, olga, "800.00", noon(shop, date(2025, 11, 20)))
    assert recalc(shop, date(2025, 12, 31)).moved_up == 1
    change = CategoryChange.objects.filter(customer=olga).first()
    assert change.figures == {"period_spend_current_year": "2300.00"}
    assert recalc(shop, date(2026, 1, 1)).moved_down == 1
    assert category_of(olga) == member
    assert CategoryChange.objects.filter(customer=olga).first().figures == {
        "period_spend_current_year": "0.00"}


def test_l3_previous_calendar_year_keeps_gold_through_the_next_year(shop):
    member = CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    gold = CategoryFactory(shop=shop, name="Gold", rank=3)
    add_rule(gold, {"kind": "period_spend", "period": "current_year",
                    "amount": Decimal("2000.00")}, name="this year")
    add_rule(gold, {"kind": "period_spend", "period": "previous_year",
                    "amount": Decimal("2000.00")}, name="last year")
    olga = CustomerFactory(shop=shop)
    placed(shop, olga, "2300.00", noon(shop, date(2025, 3, 10)))
    recalc(shop, date(2025, 12, 31))
    recalc(shop, date(2026, 1, 1))
    recalc(shop, date(2026, 12, 31))
    assert category_of(olga) == gold
    recalc(shop, date(2027, 1, 1))
    assert category_of(olga) == member


def test_calendar_year_starts_at_local_midnight(shop, year_ladder):
    member, gold = year_ladder
    late, early = CustomerFactory(shop=shop), CustomerFactory(shop=shop)
    # 23:30 on 31 December in Warsaw is 2025; 00:30 on 1 January is 2026 (23:30 UTC, 31 Dec).
    placed(shop, late, "2000.00", datetime(2025, 12, 31, 23, 30, tzinfo=shop.tz))
    placed(shop, early, "2000.00", datetime(2026, 1, 1, 0, 30, tzinfo=shop.tz))
    assert datetime(2026, 1, 1, 0, 30, tzinfo=shop.tz).astimezone(UTC).day == 31
    recalc(shop, date(2025, 12, 31))
    assert (category_of(late), category_of(early)) == (gold, member)
    recalc(shop, date(2026, 1, 1))
    assert (category_of(late), category_of(early)) == (member, gold)


def test_quarter_orders_condition_counts_the_previous_quarter(shop):
    member = CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    regular = CategoryFactory(shop=shop, name="Regular", rank=2)
    add_rule(regular, {"kind": "period_orders", "period": "previous_quarter", "count": 3})
    kim = CustomerFactory(shop=shop)
    for day in (date(2026, 4, 1), date(2026, 5, 15), date(2026, 6, 30)):
        placed(shop, kim, "10.00", noon(shop, day))
    recalc(shop, date(2026, 6, 30))
    assert category_of(kim) == member  # those orders are in the current quarter
    recalc(shop, date(2026, 7, 1))
    assert category_of(kim) == regular
    recalc(shop, date(2026, 10, 1))
    assert category_of(kim) == member


@pytest.fixture
def fixed_ladder(shop):
    member = CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    gold = CategoryFactory(shop=shop, name="Gold", rank=3, reevaluate_on="01-01")
    add_rule(gold, {"kind": "window_spend", "days": 365, "amount": Decimal("2000.00")})
    return member, gold


def test_l4_fixed_reevaluation_date_moves_down_only_on_1_january(shop, fixed_ladder):
    member, gold = fixed_ladder
    piotr = CustomerFactory(shop=shop, name="Piotr")
    placed(shop, piotr, "2300.00", noon(shop, date(2024, 3, 10)))
    assert recalc(shop, date(2024, 3, 10)).moved_up == 1  # up at once, any day
    recalc(shop, date(2025, 3, 10))  # 365 days: still inside
    held = recalc(shop, date(2025, 3, 11))
    assert (held.moved_down, held.waiting) == (0, 1)
    recalc(shop, date(2025, 12, 31))
    assert category_of(piotr) == gold
    assert recalc(shop, date(2026, 1, 1)).moved_down == 1
    assert category_of(piotr) == member


def test_customers_due_lists_each_time_driven_moment(shop, gold_ladder, monkeypatch, admin_user):
    member, gold = gold_ladder
    gold.reevaluate_on = "07-01"
    gold.save()
    yearly = CategoryFactory(shop=shop, name="Yearly", rank=2)
    add_rule(yearly, {"kind": "period_spend", "period": "current_year",
                      "amount": Decimal("5000.00")})
    monkeypatch.setattr(Shop, "today", lambda self: date(2026, 5, 1))
    in_grace, held, in_gold, buyer, idle = (CustomerFactory(shop=shop) for _ in range(5))
    CustomerLifecycle.objects.create(customer=in_grace, grace_category=gold,
                                     grace_since=date(2026, 5, 10))  # ends 2026-05-24
    services.customer_lock(customer=held, locked=True, staff_user=admin_user,
                           until=date(2026, 6, 15))
    Customer.objects.filter(pk=in_gold.pk).update(category=gold)
    placed(shop, buyer, "10.00", noon(shop, date(2024, 5, 1)))
    pid = shop.pk

    def due(fn, since, until):
        return set(fn(pid, since, until))

    assert due(lifecycle.grace_ending_due, date(2026, 5, 20), date(2026, 5, 23)) == set()
    assert due(lifecycle.grace_ending_due, date(2026, 5, 23), date(2026, 5, 24)) == {
        in_grace.pk}
    assert due(lifecycle.temporary_ending_due, date(2026, 6, 13), date(2026, 6, 14)) == set()
    assert due(lifecycle.temporary_ending_due, date(2026, 6, 14), date(2026, 6, 15)) == {
        held.pk}
    assert due(lifecycle.fixed_date_due, date(2026, 6, 29), date(2026, 6, 30)) == set()
    assert due(lifecycle.fixed_date_due, date(2026, 6, 30), date(2026, 7, 1)) == {in_gold.pk}
    assert due(lifecycle.calendar_boundary_due, date(2026, 12, 30), date(2026, 12, 31)) == set()
    assert due(lifecycle.calendar_boundary_due, date(2026, 12, 31), date(2027, 1, 1)) == set()
    assert due(lifecycle.calendar_boundary_due, date(2025, 12, 31), date(2026, 1, 1)) == {
        buyer.pk}  # 2024 was "previous" until that boundary
    assert due(lifecycle.customers_due, date(2026, 6, 30), date(2026, 7, 1)) == {
        in_grace.pk, held.pk, in_gold.pk}
    assert idle.pk not in due(lifecycle.customers_due, date(2025, 12, 31), date(2026, 7, 1))


def test_manual_move_forgets_the_grace_period(shop, gold_ladder, admin_user):
    member, gold = gold_ladder
    fay = CustomerFactory(shop=shop, category=gold)
    CustomerLifecycle.objects.create(customer=fay, grace_category=gold,
                                     grace_since=timezone.localdate())
    services.customer_move(customer=fay, category=member, staff_user=admin_user)
    assert CustomerLifecycle.objects.get(customer=fay).grace_since is None
