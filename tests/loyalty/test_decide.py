"""The pure decision function: no database."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from loyalty.conditions import (
    CategorySpec,
    ConditionSpec,
    Figures,
    RuleSpec,
    check,
    needs_of,
    rule_holds,
)
from loyalty.decide import DOWN, UP, Ladder, decide

TODAY = date(2026, 11, 22)


def spend(days, amount, op="gte"):
    return ConditionSpec(kind="window_spend", days=days, amount=Decimal(amount), operator=op)


def cat(id, rank, *rules, **flags):
    return CategorySpec(
        id=id, name=f"c{id}", rank=rank,
        rules=tuple(RuleSpec(id=10 * id + i, name=f"r{i}", conditions=tuple(r))
                    for i, r in enumerate(rules)),
        **flags,
    )


DEFAULT = cat(1, 1, is_default=True)
SILVER = cat(2, 2, [spend(30, "1000")])
GOLD = cat(3, 3, [spend(30, "3000")])
VIP = cat(4, 4, [spend(30, "10000")], auto_enter=False, auto_leave=False)
LADDER = Ladder([SILVER, DEFAULT, VIP, GOLD])


def fig(amount, category=1, **kw):
    return Figures(customer_id=7, category_id=category, window_spend={30: Decimal(amount)}, **kw)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("999.99", 1), ("1000", 2), ("2999.99", 2), ("3000", 3), ("0", 1)],
)
def test_threshold_is_inclusive(amount, expected):
    assert decide(fig(amount), LADDER, TODAY).to_id == expected


def test_highest_holding_category_wins_and_is_up():
    d = decide(fig("50000"), LADDER, TODAY)
    assert (d.to_id, d.direction, d.reason) == (3, UP, "rule")  # VIP holds but is manual-only
    assert d.figures == {"window_spend_30d": "50000"}


def test_moving_down_goes_to_highest_that_still_holds():
    d = decide(fig("1500", category=3), LADDER, TODAY)
    assert (d.to_id, d.direction) == (2, DOWN)


def test_nothing_holds_falls_back_to_default_with_lost_figures():
    d = decide(fig("10", category=3), LADDER, TODAY)
    assert (d.to_id, d.reason, d.figures) == (1, "fallback", {"window_spend_30d": "10"})


def test_without_default_category_nothing_holds_means_no_category():
    d = decide(fig("10", category=2), Ladder([SILVER, GOLD]), TODAY)
    assert (d.to_id, d.direction) == (None, DOWN)


def test_locked_customer_is_never_moved():
    assert not decide(fig("50000", locked=True), LADDER, TODAY).moves
    assert not decide(fig("0", category=3, locked=True), LADDER, TODAY).moves


def test_manual_only_category_is_never_left_nor_entered():
    assert decide(fig("0", category=4), LADDER, TODAY).to_id == 4
    assert decide(fig("99999", category=2), LADDER, TODAY).to_id == 3


def test_category_closed_for_leaving_keeps_customers_even_when_rules_fail():
    sticky = cat(2, 2, [spend(30, "1000")], auto_leave=False)
    assert decide(fig("0", category=2), Ladder([DEFAULT, sticky]), TODAY).to_id == 2


def test_category_closed_for_entering_keeps_its_own_members_when_rules_hold():
    closed = cat(3, 3, [spend(30, "3000")], auto_enter=False)
    ladder = Ladder([DEFAULT, SILVER, closed])
    assert decide(fig("5000", category=3), ladder, TODAY).to_id == 3
    assert decide(fig("5000", category=2), ladder, TODAY).to_id == 2


def test_zero_threshold_holds_for_everyone_and_empty_rule_for_no_one():
    zero = cat(2, 2, [spend(30, "0")])
    empty = cat(3, 3, [])
    ladder = Ladder([DEFAULT, zero, empty])
    assert decide(Figures(customer_id=1, category_id=1), ladder, TODAY).to_id == 2


def test_rules_are_ored_conditions_are_anded():
    retail = ConditionSpec(kind="client_type", client_type="retail")
    two = cat(2, 2, [retail, spend(30, "100")], [ConditionSpec(kind="delivery_city", text="Paris")])
    ladder = Ladder([DEFAULT, two])
    assert decide(fig("100", client_type="retail"), ladder, TODAY).to_id == 2
    assert decide(fig("100", client_type="wholesale"), ladder, TODAY).to_id == 1
    assert decide(fig("0", client_type="wholesale", city=" paris "), ladder, TODAY).to_id == 2


@pytest.mark.parametrize(("days_ago", "op", "count", "holds"), [
    (30, "gte", 30, True), (29, "gte", 30, False), (29, "lt", 30, True), (30, "lt", 30, False),
])
def test_days_since_last_order_boundaries(days_ago, op, count, holds):
    c = ConditionSpec(kind="days_since_last_order", operator=op, count=count)
    f = Figures(customer_id=1, last_order_date=TODAY - timedelta(days=days_ago))
    assert rule_holds(RuleSpec(1, "r", (c,)), f, TODAY) is holds


def test_customer_without_orders_counts_as_long_inactive():
    inactive = ConditionSpec(kind="days_since_last_order", operator="gte", count=90)
    recent = ConditionSpec(kind="days_since_last_order", operator="lt", count=90)
    f = Figures(customer_id=1)
    assert rule_holds(RuleSpec(1, "r", (inactive,)), f, TODAY)
    assert not rule_holds(RuleSpec(1, "r", (recent,)), f, TODAY)


def test_check_reports_the_gap_to_meet_a_condition():
    result = check(spend(30, "3000"), fig("2500"), TODAY)
    assert (result.met, result.measured, result.wanted, result.gap) == (
        False, Decimal("2500"), Decimal("3000"), Decimal("500"))
    below = check(spend(30, "3000", op="lt"), fig("3200"), TODAY)
    assert (below.met, below.gap) == (False, Decimal("200"))


def test_needs_lists_only_what_rules_use():
    needs = needs_of([GOLD, SILVER, cat(5, 5, [ConditionSpec(kind="largest_order", amount=1)])])
    assert needs.spend_windows == {30}
    assert needs.largest_ever and not needs.lifetime
    assert needs.oldest_window is None
    assert needs_of([GOLD, SILVER]).oldest_window == 30
