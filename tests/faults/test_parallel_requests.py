"""Parallel identical storefront requests and two recalculations at once (issue 15 item 6).

Real threads, each with its own PostgreSQL session, released together by a barrier."""

import re
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count
from django.test import Client
from djmoney.money import Money

from loyalty import services
from loyalty.models import CategoryChange, RecalculationRun
from notifications.models import Message
from shops.models import Customer, Order, OrderLine
from shops.tokens import api_token_create
from tests.api.conftest import order_body
from tests.factories import (
    CategoryFactory,
    CustomerFactory,
    ProductFactory,
    ShopFactory,
    add_rule,
    order,
)

from .conftest import second_session, wait_for

pytestmark = [pytest.mark.postgres,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PARALLEL = 8


def in_parallel(count: int, work) -> list:
    """Run `work(i)` in `count` threads started together; their results (or exceptions)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_parallel_identical_order_posts_record_one_order(postgres_only):
    shop = ShopFactory(code="pl", currency="PLN")
    CustomerFactory(shop=shop, external_id="C1", name="Anna")
    for sku, price in (("TEE", "50.00"), ("CAP", "30.00")):
        ProductFactory(shop=shop, sku=sku, price=Money(Decimal(price), "PLN"))
    _, key = api_token_create(shop=shop, name="storefront")
    body = order_body()

    def post(_i):
        response = Client().post("/api/v1/orders", body, content_type="application/json",
                                 HTTP_AUTHORIZATION=f"Bearer {key}")
        return response.status_code, response.json()

    results = in_parallel(PARALLEL, post)

    statuses = sorted(r[0] if isinstance(r, tuple) else repr(r) for r in results)
    assert statuses == [200] * (PARALLEL - 1) + [201]
    answers = {r[1]["net_value"] for r in results}
    assert answers == {"125.00"}  # every answer is the recorded order
    assert (Order.objects.count(), OrderLine.objects.count()) == (1, 2)
    print(f"\nparallel orders: {PARALLEL} posts, statuses {statuses}, 1 order recorded")


def test_two_recalculations_at_once_write_each_move_and_message_once(postgres_only):
    shop = ShopFactory(code="pl", name="Sklep")
    customers = [CustomerFactory(shop=shop) for _ in range(30)]
    for customer in customers:
        order(customer, "1500.00", days_ago=1)
    CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    silver = CategoryFactory(shop=shop, name="Silver", rank=2)
    add_rule(silver, {"kind": "window_spend", "days": 30, "amount": Decimal(1000)})
    # The first run to get going waits on a customer of its third batch, so that the other
    # is started while it is certainly under way.
    blocker = second_session()
    blocker.execute("SELECT id FROM shops_customer WHERE id = %s FOR UPDATE",
                    [customers[25].pk])

    def recalculate(_i):
        try:
            return services.categories_recalculate(shop=shop, batch_size=10).moved_up
        except services.RecalculationBusy as exc:
            return f"skipped: {exc}"

    outcomes: list = []
    thread = threading.Thread(target=lambda: outcomes.extend(in_parallel(2, recalculate)))
    thread.start()
    wait_for(lambda: RecalculationRun.objects.filter(status="skipped").exists(),
             what="the second run to be refused")
    blocker.rollback()
    blocker.close()
    thread.join(timeout=120)

    moved, refused = sorted(map(str, outcomes))
    assert moved == "30"
    # Started in the same instant, the refused one may not yet see the other's row.
    winner = RecalculationRun.objects.get(status="finished").pk
    assert re.fullmatch(
        rf"skipped: Skipped: (another recalculation of Sklep is starting|run #{winner} of "
        r"Sklep is still running \(last heartbeat \d+ seconds ago\))\.", refused), refused
    assert Customer.objects.filter(category=silver).count() == 30
    assert CategoryChange.objects.filter(reason="rule").count() == 30
    assert not (CategoryChange.objects.values("customer", "reason").annotate(n=Count("id"))
                .filter(n__gt=1).exists())
    assert not (Message.objects.values("customer", "event", "channel").annotate(n=Count("id"))
                .filter(n__gt=1).exists())
    assert Message.objects.filter(event="category_up").count() == 30
    statuses = sorted(RecalculationRun.objects.values_list("status", flat=True))
    assert statuses == ["finished", "skipped"]
