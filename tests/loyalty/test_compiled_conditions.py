"""The compiled predicates used by recalculation agree with the readable evaluation."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from loyalty import conditions as c

TODAY = date(2026, 11, 22)
money = st.decimals(min_value=0, max_value=5000, places=2)
small = st.integers(min_value=0, max_value=5)
days = st.sampled_from([30, 60])

condition = st.builds(
    c.ConditionSpec,
    kind=st.sampled_from([
        c.CLIENT_TYPE, c.ACTIVE, c.WINDOW_SPEND, c.WINDOW_ORDERS, c.LARGEST_ORDER,
        c.LIFETIME_SPEND, c.DAYS_SINCE_LAST_ORDER, c.DELIVERY_CITY, c.SHIPPING_METHOD_USED,
        c.BOUGHT_PRODUCT,
    ]),
    operator=st.sampled_from([c.GTE, c.LT]),
    amount=money, count=small, days=days,
    client_type=st.sampled_from(["retail", "wholesale"]),
    text=st.sampled_from(["Paris", "dpd"]), product_id=st.sampled_from([1, 2]),
)
figures = st.builds(
    c.Figures,
    customer_id=st.just(1), client_type=st.sampled_from(["retail", "wholesale"]),
    is_active=st.booleans(), city=st.sampled_from(["Paris", "Lyon", ""]),
    lifetime_spend=money, largest_ever=money,
    last_order_date=st.one_of(st.none(), st.integers(0, 120).map(
        lambda n: TODAY - timedelta(days=n))),
    window_spend=st.dictionaries(days, money), window_orders=st.dictionaries(days, small),
    window_largest=st.dictionaries(days, money), products=st.frozensets(st.sampled_from([1, 2])),
    shipping_counts=st.dictionaries(st.sampled_from(["dpd"]), small),
)


@given(condition, figures)
def test_compiled_condition_equals_readable_evaluation(spec, f):
    assert c.compile_condition(spec, TODAY)(f) == c.holds(spec, c.measure(spec, f, TODAY))


@given(st.lists(condition, max_size=3), figures)
def test_compiled_rule_equals_rule_holds(specs, f):
    rule = c.RuleSpec(id=1, name="r", conditions=tuple(specs))
    assert c.compile_rule(rule, TODAY)(f) == c.rule_holds(rule, f, TODAY)


def test_window_spend_threshold_is_inclusive_when_compiled():
    spec = c.ConditionSpec(kind=c.WINDOW_SPEND, days=60, amount=Decimal("1000.00"))
    at = c.Figures(customer_id=1, window_spend={60: Decimal("1000.00")})
    below = c.Figures(customer_id=1, window_spend={60: Decimal("999.99")})
    assert c.compile_condition(spec, TODAY)(at) and not c.compile_condition(spec, TODAY)(below)
