"""The SQL pre-filter never hides a move: a pre-filtered run equals a full Python run."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest

from loyalty import selectors, services
from loyalty.decide import Ladder
from loyalty.prefilter import compilable
from shops.models import Customer
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, add_rule, order

pytestmark = pytest.mark.django_db

KINDS = ["client_type", "active", "window_spend", "window_orders", "largest_order",
         "lifetime_spend", "days_since_last_order"]


def random_condition(rnd):
    kind = rnd.choice(KINDS)
    spec = {"kind": kind}
    if kind == "client_type":
        spec["client_type"] = rnd.choice(["retail", "wholesale"])
    elif kind in ("window_spend", "lifetime_spend", "largest_order"):
        spec["amount"] = Decimal(rnd.choice(["0", "99.99", "100.00", "100.01", "250.50", "400"]))
        if kind != "largest_order":
            spec["operator"] = rnd.choice(["gte", "lt"])
        if kind != "lifetime_spend" and rnd.random() < 0.8:
            spec["days"] = rnd.choice([7, 30])
        if kind == "window_spend":
            spec["days"] = spec.get("days") or 30
    elif kind == "window_orders":
        spec.update(days=rnd.choice([7, 30]), count=rnd.choice([0, 1, 2, 3]),
                    operator=rnd.choice(["gte", "lt"]))
    elif kind == "days_since_last_order":
        spec.update(count=rnd.choice([0, 6, 7, 8, 30]), operator=rnd.choice(["gte", "lt"]))
    return spec


@pytest.mark.parametrize("seed", range(6))
def test_prefiltered_run_equals_full_run(seed):
    rnd = random.Random(seed)
    shop = ShopFactory(code=f"s{seed}", timezone=rnd.choice(["Europe/Warsaw", "America/Lima"]))
    customers = []
    for _ in range(40):
        customer = CustomerFactory(shop=shop, client_type=rnd.choice(["retail", "wholesale"]),
                                   is_active=rnd.random() < 0.8)
        customers.append(customer)
        for _ in range(rnd.choice([0, 0, 1, 2, 3])):
            placed = order(customer, rnd.choice(["50.00", "99.99", "100.00", "100.01", "300"]),
                           days_ago=rnd.choice([0, 6, 7, 8, 29, 30, 31, 90]),
                           paid=rnd.random() < 0.9)
            if rnd.random() < 0.1:
                placed.placed_at += timedelta(hours=rnd.choice([-13, 11]))
                placed.save(update_fields=["placed_at"])
    categories = []
    for rank in range(1, 6):
        category = CategoryFactory(
            shop=shop, rank=rank, is_default=rank == 1,
            auto_enter=rnd.random() < 0.8, auto_leave=rnd.random() < 0.8,
        )
        for _ in range(rnd.choice([0, 1, 1, 2])):
            add_rule(category, *[random_condition(rnd) for _ in range(rnd.choice([1, 2, 3]))])
        categories.append(category)
    for customer in customers:
        Customer.objects.filter(pk=customer.pk).update(
            category=rnd.choice(categories + [None]), category_locked=rnd.random() < 0.1)

    ladder = selectors.ladder(shop)
    assert compilable(ladder)
    runs = []
    for prefilter in (True, False):
        summary = services.categories_recalculate(
            shop=shop, dry_run=True, prefilter=prefilter, sample_size=10**6, batch_size=7,
            ladder=Ladder(ladder.categories),
        )
        runs.append((summary.as_dict(), sorted((d.customer_id, d.to_id) for d in summary.sample)))
    assert runs[0] == runs[1]
    assert runs[0][0]["examined"] == 40
