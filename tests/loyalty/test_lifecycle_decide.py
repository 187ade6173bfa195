"""loyalty.decide's lifecycle rules on plain data (no database)."""

from datetime import date
from decimal import Decimal

import pytest

from loyalty import conditions as c
from loyalty.conditions import CategorySpec, ConditionSpec, Figures, RuleSpec
from loyalty.decide import DOWN, GRACE, LOCKED, UP, WAITING, Ladder, decide, next_reevaluation
from loyalty.validation import reevaluation_dates, until_error

SPEND = ConditionSpec(kind=c.WINDOW_SPEND, days=30, amount=Decimal("1000.00"))
MEMBER = CategorySpec(id=1, name="Member", rank=1, is_default=True)
SILVER = CategorySpec(id=2, name="Silver", rank=2, grace_days=7, rules=(RuleSpec(
    2, "silver", (ConditionSpec(kind=c.WINDOW_SPEND, days=30, amount=Decimal("500.00")),)),))
GOLD = CategorySpec(id=3, name="Gold", rank=3, grace_days=14, reevaluate_on=((1, 1),),
                    rules=(RuleSpec(3, "gold", (SPEND,)),))
LADDER = Ladder([MEMBER, SILVER, GOLD])


def gold_customer(spend, **state):
    return Figures(customer_id=9, category_id=3, window_spend={30: Decimal(spend)}, **state)


def test_first_lapse_starts_the_grace_period():
    d = decide(gold_customer("0"), LADDER, date(2026, 7, 11))
    assert (d.reason, d.to_id, d.grace_start, d.grace_until, d.rules_to_id) == (
        GRACE, 3, True, date(2026, 7, 25), 1)


def test_grace_period_ends_on_its_last_date_then_waits_for_the_fixed_date():
    state = {"grace_category_id": 3, "grace_since": date(2026, 7, 11)}
    kept = decide(gold_customer("0", **state), LADDER, date(2026, 7, 24))
    assert (kept.reason, kept.grace_start, kept.grace_until) == (GRACE, False, date(2026, 7, 25))
    waits = decide(gold_customer("0", **state), LADDER, date(2026, 7, 25))
    assert (waits.reason, waits.next_date, waits.to_id) == (WAITING, date(2027, 1, 1), 3)
    moves = decide(gold_customer("0", **state), LADDER, date(2027, 1, 1))
    assert (moves.to_id, moves.direction, moves.grace_ended, moves.grace_clear) == (
        1, DOWN, True, True)


def test_falling_two_steps_during_grace_goes_straight_to_the_default():
    silver_spend = gold_customer("600", grace_category_id=3, grace_since=date(2026, 12, 1))
    assert decide(silver_spend, LADDER, date(2027, 1, 1)).to_id == 2
    nothing = gold_customer("0", grace_category_id=3, grace_since=date(2026, 12, 1))
    d = decide(nothing, LADDER, date(2027, 1, 1))
    assert (d.to_id, d.grace_start) == (1, False)  # Silver's grace does not apply


def test_qualifying_again_clears_the_grace_period():
    d = decide(gold_customer("1000.00", grace_category_id=3, grace_since=date(2026, 7, 11)),
               LADDER, date(2026, 7, 20))
    assert (d.moves, d.grace_clear, d.reason) == (False, True, "unchanged")


def test_grace_recorded_for_another_category_starts_anew():
    d = decide(gold_customer("0", grace_category_id=2, grace_since=date(2026, 1, 1)),
               LADDER, date(2026, 7, 11))
    assert (d.reason, d.grace_start, d.grace_clear, d.grace_until) == (
        GRACE, True, True, date(2026, 7, 25))


def test_moves_up_are_never_delayed():
    member = Figures(customer_id=9, category_id=1, window_spend={30: Decimal("1000.00")})
    d = decide(member, LADDER, date(2026, 7, 11))
    assert (d.to_id, d.direction) == (3, UP)


@pytest.mark.parametrize("as_of, reason, to_id, returned", [
    (date(2027, 3, 30), LOCKED, 3, False),
    (date(2027, 3, 31), "fallback", 1, True),  # no grace, no fixed date on a return
    (date(2027, 4, 2), "fallback", 1, True),
])
def test_temporary_hold_ends_on_its_date(as_of, reason, to_id, returned):
    held = gold_customer("0", locked=True, manual_until=date(2027, 3, 31))
    d = decide(held, LADDER, as_of)
    assert (d.reason, d.to_id, d.returned) == (reason, to_id, returned)


@pytest.mark.parametrize("as_of, first, end", [
    (date(2025, 12, 31), date(2025, 1, 1), date(2026, 1, 1)),
    (date(2026, 1, 1), date(2026, 1, 1), date(2026, 1, 2)),
])
def test_current_year_bounds(as_of, first, end):
    assert c.period_bounds(c.CURRENT_YEAR, as_of) == (first, end)


def test_previous_quarter_bounds_across_a_year():
    assert c.period_bounds(c.PREVIOUS_QUARTER, date(2026, 2, 15)) == (
        date(2025, 10, 1), date(2026, 1, 1))
    assert c.period_bounds(c.PREVIOUS_YEAR, date(2026, 2, 15)) == (
        date(2025, 1, 1), date(2026, 1, 1))


def test_reevaluation_dates_are_parsed_and_checked():
    assert reevaluation_dates(" 07-01,1-1 ") == ((1, 1), (7, 1))
    with pytest.raises(ValueError, match="“02-29” is not a month-day date"):
        reevaluation_dates("01-01, 02-29")
    assert next_reevaluation(((1, 1), (7, 1)), date(2026, 7, 1)) == date(2027, 1, 1)


def test_until_must_be_after_today():
    assert until_error(date(2027, 1, 10), date(2027, 1, 10)) == (
        "The end date must be in the future (after 2027-01-10).")
    assert until_error(date(2027, 1, 11), date(2027, 1, 10)) is None
