"""PostgreSQL: parallel returns and status changes with the drain running, no deadlock, no
error, exact totals and points; a drain killed between its claim and its commit."""

import os
import subprocess
import sys
import threading
from decimal import Decimal as D

import pytest
from django.db import connection, connections

from loyalty import points
from loyalty.models import PointsEntry
from shops import intake, services
from shops.models import IntakeEvent, Order
from tests.factories import order
from tests.loyalty.points_builders import bonus_shop, customer_of

# serialized_rollback like every transactional test here: a plain flush recreates content
# types under new ids, which the next serialized test cannot load over.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.postgres,
              pytest.mark.intake_on_commit]


def run_parallel(jobs) -> list[BaseException]:
    """Start every job at once, each thread on its own connection; the errors raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(jobs))

    def run(job):
        try:
            barrier.wait()
            job()
        except BaseException as exc:  # noqa: BLE001 - every error counts
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return errors


def jobs_for(orders: list[Order], returns: int, changes: int) -> list:
    jobs = []
    for i in range(returns):
        target = orders[i % len(orders)]
        jobs.append(lambda o=target, i=i: services.return_record(
            order=o, value=D("10.00"), reference=f"R{i}"))
    for i in range(changes):
        target = orders[i % len(orders)]

        def change(o=target):  # cancelled then completed again: ends counted
            services.order_update(order=o, status="cancelled")
            services.order_update(order=o, status="completed")
        jobs.append(change)
    return jobs


def drain_meanwhile(stop: threading.Event, errors: list):
    def loop():
        try:
            while not stop.is_set():
                intake.drain()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()
    thread = threading.Thread(target=loop)
    thread.start()
    return thread


def check_exact(orders: list[Order], returns_per_order: dict[int, int]):
    assert intake.drain().failed == 0
    assert not IntakeEvent.objects.exclude(status="done").exists()
    for placed in orders:
        placed = Order.objects.get(pk=placed.pk)
        returned = D("10.00") * returns_per_order[placed.pk]
        assert (placed.status, placed.returned_total.amount) == ("completed", returned)
        # 10% of what is left, the percent it first earned
        assert points.order_points(placed.pk) == int((D("1000.00") - returned) / 10)
    for customer_id in {o.customer_id for o in orders}:
        ledger = sum(PointsEntry.objects.filter(customer_id=customer_id)
                     .values_list("points", flat=True))
        assert points.balance(customer_id) == ledger == sum(
            points.order_points(o.pk) for o in orders if o.customer_id == customer_id)


@pytest.mark.parametrize("spread", ["one order", "several orders of one shop"])
def test_parallel_returns_and_status_changes_with_the_drain_running(on_postgres, spread):
    shop = bonus_shop(tiers=(("0", "10"),))
    first, second = customer_of(shop), customer_of(shop)
    if spread == "one order":
        orders = [order(first, "1000.00")]
    else:
        orders = [order(first, "1000.00"), order(first, "1000.00"), order(second, "1000.00"),
                  order(customer_of(shop), "1000.00")]
    intake.drain()

    stop, errors = threading.Event(), []
    drainer = drain_meanwhile(stop, errors)
    errors += run_parallel(jobs_for(orders, returns=20, changes=20))
    stop.set()
    drainer.join(timeout=300)

    assert errors == []
    counts = {o.pk: 0 for o in orders}
    for i in range(20):
        counts[orders[i % len(orders)].pk] += 1
    check_exact(orders, counts)


def test_a_drain_killed_between_claim_and_commit_converges(on_postgres, monkeypatch):
    shop = bonus_shop(tiers=(("0", "10"),))
    customer = customer_of(shop)
    with monkeypatch.context() as no_kicks:  # the events wait for the killed drain
        no_kicks.setattr(intake, "schedule_drain", lambda: None)
        placed = order(customer, "1000.00")
        services.return_record(order=placed, value=D("100.00"))
    assert IntakeEvent.objects.filter(status="pending").count() == 2

    script = (
        "import os, django; django.setup()\n"
        "from shops import events, intake\n"
        "def die(batch):\n"
        "    os._exit(9)  # after the other handlers wrote, before the commit\n"
        "events.on_intake(die)\n"
        "intake.drain()\n"
    )
    settings = connection.settings_dict
    url = (f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}"
           f"/{settings['NAME']}")
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    killed = subprocess.run([sys.executable, "-c", script], env=env, timeout=120,
                            capture_output=True, text=True)
    assert killed.returncode == 9, killed.stderr

    assert IntakeEvent.objects.filter(status="pending", attempts=0).count() == 2
    assert points.balance(customer.pk) == 0
    assert intake.drain().applied == 2
    assert points.order_points(placed.pk) == 90 == points.balance(customer.pk)
