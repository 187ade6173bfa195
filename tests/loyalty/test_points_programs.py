"""loyalty.programs: tiers, an order's points, redemption caps, expiry. No database."""

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from loyalty import programs
from loyalty.programs import Tier

E11 = (Tier(D("0"), D("2")), Tier(D("1000"), D("3")), Tier(D("3000"), D("5")))


@pytest.mark.parametrize(("lifetime", "percent"), [
    ("0", "2"), ("999.99", "2"), ("1000", "3"), ("2500", "3"), ("2999.99", "3"),
    ("3000", "5"), ("3500", "5"),
])
def test_e11_tier_by_lifetime_spend(lifetime, percent):
    assert programs.tier_percent(E11, D(lifetime)) == D(percent)


def test_e11_points_of_two_1000_orders_from_2500():
    first = programs.order_points(counted=True, net_value=D("1000"),
                                  percent=programs.tier_percent(E11, D("2500")))
    second = programs.order_points(counted=True, net_value=D("1000"),
                                   percent=programs.tier_percent(E11, D("3500")))
    assert (first, second) == (30, 50)


def test_no_tier_reached_gives_none_and_tiers_may_come_in_any_order():
    assert programs.tier_percent((Tier(D("500"), D("10")),), D("499.99")) is None
    assert programs.tier_percent(tuple(reversed(E11)), D("1500")) == D("3")
    assert programs.tier_percent((), D("1500")) is None


def test_order_points_round_down_and_keep_granted_points_while_value_is_kept():
    assert programs.order_points(counted=True, net_value=D("33.33"), percent=D("3")) == 0
    assert programs.order_points(counted=True, net_value=D("999"), percent=D("3")) == 29
    assert programs.order_points(counted=True, net_value=D("10"), percent=D("3"), granted=5) == 5
    assert programs.order_points(counted=True, net_value=D("0"), percent=D("3"), granted=5) == 0
    assert programs.order_points(counted=False, net_value=D("100"), percent=D("3")) == 0
    assert programs.order_points(counted=True, net_value=D("1000"), percent=D("3"), granted=2,
                                 earns_percent=False) == 2


def test_tier_errors_name_each_bad_tier():
    errors = programs.tier_errors([
        (D("0"), D("2")), (D("0"), D("3")), (D("-1"), D("3")), (D("5"), D("100.01")),
        (D("10"), D("100")), (None, D("5")),
    ])
    assert errors == {1: "duplicate", 2: "negative", 3: "percent"}


@pytest.mark.parametrize(("requested", "balance", "value", "total", "expected"), [
    (0, 100, "0.50", "200", (0, "0", "")),
    (50, 100, "0.50", "200", (50, "25.00", "")),
    (500, 100, "0.50", "200", (100, "50.00", "balance")),
    (100, 100, "0.50", "10.25", (20, "10.00", "order_total")),
    (100, 100, "0.30", "10", (33, "9.90", "order_total")),
    (5, 100, "0", "10", (0, "0", "not_redeemable")),
    (5, -3, "1", "10", (0, "0.00", "balance")),
])
def test_redemption_never_beyond_the_balance_or_the_total(requested, balance, value, total,
                                                          expected):
    got = programs.redeem(requested=requested, balance=balance, point_value=D(value),
                          total=D(total))
    points, amount, capped_by = expected
    assert (got.points, got.value, got.capped_by) == (points, D(amount), capped_by)
    assert got.value <= D(total)


def test_redemption_in_a_currency_without_minor_units_stays_within_the_total():
    got = programs.redeem(requested=100, balance=100, point_value=D("0.30"), total=D("10"),
                          exponent=0)
    assert (got.points, got.value) == (33, D("10"))


def test_expiry_first_in_first_out_capped_by_the_balance():
    assert programs.expiring(credited_before_cutoff=100, used=30, balance=120) == 70
    assert programs.expiring(credited_before_cutoff=100, used=130, balance=20) == 0
    assert programs.expiring(credited_before_cutoff=100, used=0, balance=40) == 40


@pytest.mark.parametrize(("moment", "months", "expected"), [
    (datetime(2026, 3, 31, 2, 30, tzinfo=UTC), 1, datetime(2026, 2, 28, 2, 30, tzinfo=UTC)),
    (datetime(2028, 3, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),
    (datetime(2026, 1, 15, tzinfo=UTC), 12, datetime(2025, 1, 15, tzinfo=UTC)),
    (datetime(2026, 1, 15, tzinfo=UTC), 13, datetime(2024, 12, 15, tzinfo=UTC)),
])
def test_months_before(moment, months, expected):
    assert programs.months_before(moment, months) == expected
