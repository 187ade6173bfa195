"""The notices scan decides only for the customers one statement finds
(notifications.notice_candidates): it must send exactly what deciding for every customer
sends, on random ladders, settings, histories and days."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from loyalty import services
from notifications.models import Message, NoticeEpisode
from notifications.notices import notices_send
from shops.models import Customer
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, add_rule, order

pytestmark = pytest.mark.django_db

CUSTOMERS = 6

condition = st.one_of(
    st.builds(lambda days, op, amount: {"kind": "window_spend", "days": days, "operator": op,
                                        "amount": Decimal(amount)},
              st.sampled_from([10, 30, 60]), st.sampled_from(["gte", "gte", "lt"]),
              st.sampled_from(["100", "250", "600"])),
    st.builds(lambda days, count: {"kind": "window_orders", "days": days, "count": count},
              st.sampled_from([20, 45]), st.integers(1, 4)),
    st.builds(lambda days, amount: {"kind": "largest_order", "days": days,
                                    "amount": Decimal(amount)},
              st.sampled_from([None, 30]), st.sampled_from(["80", "200"])),
    st.builds(lambda op, count: {"kind": "days_since_last_order", "operator": op,
                                 "count": count},
              st.sampled_from(["lt", "lt", "gte"]), st.sampled_from([5, 25])),
    st.builds(lambda amount: {"kind": "lifetime_spend", "amount": Decimal(amount)},
              st.sampled_from(["300", "900"])),
    st.just({"kind": "client_type", "client_type": "wholesale"}),
)
rules = st.lists(st.lists(condition, min_size=1, max_size=3), min_size=1, max_size=2)
setting = st.tuples(
    st.sampled_from([None, 0, 3, 14, 40]),              # warn N days before
    st.sampled_from([None, Decimal("50"), Decimal("300")]),   # close within an amount
    st.sampled_from([None, Decimal("10"), Decimal("60")]),    # close within a share
)
purchase = st.tuples(st.integers(0, CUSTOMERS - 1), st.sampled_from(["40", "120", "260", "500"]),
                     st.integers(0, 70))


def outcome(shop):
    return {
        "episodes": sorted(NoticeEpisode.objects.filter(shop=shop).values_list(
            "customer_id", "event", "category_id", "keeps_until", "opened_on", "ended_on")),
        "messages": sorted(Message.objects.filter(shop=shop).values_list(
            "customer_id", "event", "channel", "subject", "body")),
    }


def both_ways(shop, as_of):
    """Deciding for everyone (rolled back), for the candidates among everyone (an
    incremental night's path, rolled back), then for the shop's candidates: the same."""
    everyone = set(Customer.objects.filter(shop=shop).values_list("pk", flat=True))
    with transaction.atomic():
        notices_send(shop=shop, as_of=as_of, customer_ids=everyone, prefiltered=False)
        expected = outcome(shop)
        transaction.set_rollback(True)
    with transaction.atomic():
        notices_send(shop=shop, as_of=as_of, customer_ids=everyone)
        assert outcome(shop) == expected
        transaction.set_rollback(True)
    sent = notices_send(shop=shop, as_of=as_of)
    assert outcome(shop) == expected
    return sent


# No shrinking: each example is a small database; a failure prints it as drawn.
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          phases=(Phase.explicit, Phase.generate),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(silver=rules, gold=rules, silver_setting=setting, gold_setting=setting,
       purchases=st.lists(purchase, max_size=12), wholesale=st.sets(st.integers(0, 5)),
       days=st.lists(st.integers(1, 20), min_size=1, max_size=3))
def test_candidates_send_what_a_scan_of_everyone_sends(
    silver, gold, silver_setting, gold_setting, purchases, wholesale, days
):
    with transaction.atomic():
        shop = ShopFactory(code="cand", currency="PLN", timezone="Europe/Warsaw")
        CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
        for name, rank, conds, (warn, amount, share) in (
            ("Silver", 2, silver, silver_setting), ("Gold", 3, gold, gold_setting)
        ):
            category = CategoryFactory(shop=shop, name=name, rank=rank, at_risk_days=warn,
                                       close_amount=amount, close_percent=share)
            for rule in conds:
                add_rule(category, *rule)
        customers = [
            CustomerFactory(shop=shop, language="en",
                            client_type="wholesale" if i in wholesale else "retail")
            for i in range(CUSTOMERS)
        ]
        for who, value, days_ago in purchases:
            order(customers[who], value, days_ago=days_ago)
        services.categories_recalculate(shop=shop)
        as_of = shop.today()
        for gap in days:
            both_ways(shop, as_of)
            as_of += timedelta(days=gap)
        transaction.set_rollback(True)


@pytest.mark.parametrize(("days_ago", "at_risk"), [(45, False), (46, True)])
def test_the_last_day_of_the_warning_period_is_found(days_ago, at_risk):
    """Gold: 1,000.00 in 60 days, warn 14 days before. An order placed 46 days ago keeps
    her Gold up to today + 14: at risk today; one placed 45 days ago, up to today + 15."""
    shop = ShopFactory(code="edge", currency="PLN", timezone="Europe/Warsaw")
    CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    gold = CategoryFactory(shop=shop, name="Gold", rank=2, at_risk_days=14, close_percent=None)
    add_rule(gold, {"kind": "window_spend", "days": 60, "amount": Decimal("1000")})
    customer = CustomerFactory(shop=shop, language="en")
    order(customer, "1000.00", days_ago=days_ago)
    customer.refresh_from_db()
    assert customer.category == gold
    assert notices_send(shop=shop)["at_risk"] == int(at_risk)
