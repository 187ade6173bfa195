"""keeps_until / to_keep / to_next on plain data (loyalty.keeping); worked examples of
docs/notices.md."""

from datetime import date
from decimal import Decimal

import pytest

from loyalty import conditions as c
from loyalty.conditions import CategorySpec, ConditionSpec, Figures, RuleSpec, needs_of
from loyalty.decide import Ladder
from loyalty.keeping import Need, figures_on, is_close, keeping, keeps_until

D = Decimal
AS_OF = date(2027, 3, 1)
ORDERS = [(date(2027, 1, 10), D("400.00")), (date(2027, 2, 1), D("300.00")),
          (date(2027, 2, 20), D("500.00"))]


def spend(amount, days=60):
    return ConditionSpec(kind=c.WINDOW_SPEND, amount=D(amount), days=days)


def rule(*conds, id=None):
    return RuleSpec(id=id, name="r", conditions=tuple(conds))


def ladder(gold_rules, platinum_rules=None):
    platinum_rules = platinum_rules or (rule(spend("2000")),)
    return Ladder([
        CategorySpec(id=1, name="Member", rank=1, is_default=True),
        CategorySpec(id=2, name="Gold", rank=2, rules=tuple(gold_rules)),
        CategorySpec(id=3, name="Platinum", rank=3, rules=tuple(platinum_rules)),
    ])


def run(steps, orders=ORDERS, visible=(1, 2, 3), **fields):
    f = Figures(customer_id=7, category_id=fields.pop("category_id", 2), **fields)
    f = figures_on(f, orders, AS_OF, needs_of(steps.categories))
    return keeping(f, orders, steps, AS_OF, visible=set(visible))


def test_n1_keeps_until_and_to_keep():
    result = run(ladder([rule(spend("1000"))]))
    # 1,200.00 in the 60 days to 1 March; the 400.00 of 10 January counts up to 11 March.
    assert result.keeps_until == date(2027, 3, 11)
    assert result.to_keep == Need(D("200.00"), 0, D("1000"), None)
    assert result.next_category_id == 3
    assert result.to_next == Need(D("800.00"), 0, D("2000"), None)


def test_n1_or_of_rules_is_the_latest_day():
    orders_rule = ConditionSpec(kind=c.WINDOW_ORDERS, count=3, days=90)
    result = run(ladder([rule(spend("1000"), id=10), rule(orders_rule, id=11)]))
    # Three orders in 90 days hold until 10 April (10 January + 90 days).
    assert result.keeps_until == date(2027, 4, 10)
    # On 11 April: 2 orders of 3 (one missing), 500.00 of 1,000.00 in 60 days: one order
    # is cheaper than 500.00.
    assert result.to_keep == Need(D("0"), 1, None, 3, rule_id=11)


def test_and_of_conditions_is_the_earliest_day():
    recent = ConditionSpec(kind=c.DAYS_SINCE_LAST_ORDER, operator=c.LT, count=10)
    result = run(ladder([rule(spend("1000"), recent)]), last_order_date=date(2027, 2, 20))
    # "Last order less than 10 days ago" stops on 2 March (20 February + 10).
    assert result.keeps_until == date(2027, 3, 1)
    assert result.to_keep.orders == 1 and result.to_keep.amount == D("0")


def test_lifetime_rule_holds_without_time_limit():
    lifetime = ConditionSpec(kind=c.LIFETIME_SPEND, amount=D("1000"))
    result = run(ladder([rule(lifetime)]), lifetime_spend=D("1200.00"))
    assert result.keeps_until is None and result.to_keep is None


def test_default_category_has_no_keeps_until():
    result = run(ladder([rule(spend("5000"))]), category_id=1)
    assert result.keeps_until is None
    assert result.next_category_id == 2
    assert result.to_next == Need(D("3800.00"), 0, D("5000"), None)


def test_not_qualifying_today_or_locked_gives_no_date():
    assert run(ladder([rule(spend("1500"))])).keeps_until is None
    locked = run(ladder([rule(spend("1000"))]), locked=True)
    assert locked.keeps_until is None and locked.to_next is None


def test_hidden_next_category_is_skipped():
    result = run(ladder([rule(spend("5000"))]), category_id=1, visible=(1, 3))
    assert result.next_category_id == 3


def test_unreachable_rules_are_left_out_of_to_next():
    wholesale = ConditionSpec(kind=c.CLIENT_TYPE, client_type="wholesale")
    result = run(ladder([rule(spend("1000"))], [rule(wholesale)]))
    assert result.next_category_id == 3 and result.to_next is None


def test_lifetime_and_window_gaps_are_one_purchase():
    both = rule(spend("2000"), ConditionSpec(kind=c.LIFETIME_SPEND, amount=D("3000")))
    result = run(ladder([rule(spend("1000"))], [both]), lifetime_spend=D("2500.00"))
    assert result.to_next.amount == D("800.00")  # not 800 + 500


def test_exact_boundary_order_on_the_last_window_day():
    # A rule met exactly (1,000.00 of 1,000.00) holds until the first order leaves.
    orders = [(date(2027, 1, 1), D("1000.00"))]
    result = run(ladder([rule(spend("1000"))]), orders=orders)
    assert result.keeps_until == date(2027, 3, 2)  # 1 January + 60 days
    assert keeps_until(ladder([rule(spend("1000"))]).by_id[2],
                       figures_on(Figures(customer_id=1, window_spend={60: D(0)}), orders,
                                  date(2027, 3, 2)), orders, date(2027, 3, 2)) == date(2027, 3, 2)


@pytest.mark.parametrize(("need", "amount", "percent", "close"), [
    (Need(D("100.00"), 0, D("1000")), D("100"), None, True),
    (Need(D("100.01"), 0, D("1000")), D("100"), None, False),
    (Need(D("100.00"), 0, D("1000")), None, D("10"), True),
    (Need(D("100.01"), 0, D("1000")), None, D("10"), False),
    (Need(D("0"), 1, None, 10), None, D("10"), True),
    (Need(D("0"), 2, None, 10), D("500"), D("10"), False),
    (Need(D("0"), 0), D("100"), D("10"), False),
    (Need(D("50"), 0, D("1000")), None, None, False),
    (None, D("100"), D("10"), False),
])
def test_is_close_boundaries(need, amount, percent, close):
    assert is_close(need, amount=amount, percent=percent) is close
