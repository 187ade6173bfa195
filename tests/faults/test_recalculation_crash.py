"""A recalculation killed with SIGKILL between batches (issue 15 items 5 and 6).

The command runs in a real subprocess on PostgreSQL; a second session holds a row lock on
a customer of the fifth batch, so the process is killed after four batches committed and
while the fifth is open. The next run must start within the window (at once: the killed
session's advisory lock is gone) and converge to the state an uninterrupted run reaches on
an identical shop: same categories, one history row and one message per move.
"""

import signal
import time
from decimal import Decimal

import pytest
from django.db.models import Count

from loyalty import runs, services
from loyalty.models import CategoryChange, RecalculationRun
from notifications.models import Message
from shops.models import Customer
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, add_rule, order

from .conftest import output, second_session, spawn, wait_for

pytestmark = [pytest.mark.postgres,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CUSTOMERS, BATCH = 60, 10


def shop_with_movers(code: str):
    shop = ShopFactory(code=code, name=code.upper())
    customers = [CustomerFactory(shop=shop) for _ in range(CUSTOMERS)]
    for customer in customers:  # before the ladder exists, so nothing moves yet
        order(customer, "1500.00", days_ago=1)
    CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    silver = CategoryFactory(shop=shop, name="Silver", rank=2)
    add_rule(silver, {"kind": "window_spend", "days": 30, "amount": Decimal(1000)})
    return shop, customers


def state(shop) -> dict:
    return {
        "categories": sorted(Customer.objects.filter(shop=shop)
                             .values_list("category__name", flat=True)),
        "history": CategoryChange.objects.filter(shop=shop, reason="rule").count(),
        "messages": sorted(Message.objects.filter(shop=shop).values("event", "channel")
                           .annotate(n=Count("id")).values_list("event", "channel", "n")),
    }


def duplicates(shop) -> tuple[int, int]:
    history = (CategoryChange.objects.filter(shop=shop).values("customer", "reason")
               .annotate(n=Count("id")).filter(n__gt=1).count())
    messages = (Message.objects.filter(shop=shop).values("customer", "event", "channel")
                .annotate(n=Count("id")).filter(n__gt=1).count())
    return history, messages


def test_a_run_killed_between_batches_is_replaced_at_once_and_converges(postgres_only):
    twin, _ = shop_with_movers("twin")
    shop, customers = shop_with_movers("pl")
    services.categories_recalculate(shop=twin, batch_size=BATCH)  # the uninterrupted reference
    reference = state(twin)
    assert reference["history"] == CUSTOMERS
    assert sum(n for _event, _channel, n in reference["messages"]) >= CUSTOMERS  # one each

    blocker = second_session()
    blocker.execute("SELECT id FROM shops_customer WHERE id = %s FOR UPDATE",
                    [customers[4 * BATCH + 5].pk])
    process = spawn("manage.py", "recalculate_categories", "--shop", "pl",
                    "--batch-size", str(BATCH))
    try:
        run = wait_for(lambda: RecalculationRun.objects.filter(
            shop=shop, status="running", examined=4 * BATCH).first(),
            what="four batches committed\n" + output(process))
        wait_for(lambda: blocker.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()").fetchone()[0], what="the fifth batch waiting")
        assert CategoryChange.objects.filter(shop=shop).count() == 4 * BATCH
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    killed_at = time.monotonic()
    blocker.rollback()
    blocker.close()

    refused = 0
    while True:
        try:
            summary = services.categories_recalculate(shop=shop, batch_size=BATCH)
            break
        except services.RecalculationBusy:
            # The killed process's server session ends when it next talks to its client.
            refused += 1
            assert time.monotonic() - killed_at < runs.STALE_AFTER.total_seconds()
            time.sleep(0.2)
    restarted_after = time.monotonic() - killed_at

    run.refresh_from_db()
    assert run.status == "failed"
    assert run.error == (f"Its process ({run.worker}) ended without finishing: its database "
                         "session, and the shop's lock with it, is gone.")
    assert (summary.examined, summary.moved_up) == (CUSTOMERS, CUSTOMERS - 4 * BATCH)
    assert state(shop) == reference
    assert duplicates(shop) == (0, 0)
    assert restarted_after < 10  # within the window: seconds, not 30 minutes
    assert RecalculationRun.objects.filter(shop=shop, status="skipped").count() == refused
    print(f"\ncrash: killed after {4 * BATCH} of {CUSTOMERS} customers; next run started "
          f"{restarted_after:.2f} s later after {refused} refusals; "
          f"{reference['history']} moves, 0 lost, 0 duplicated")
