"""The nightly task runs under a real Celery worker with a real Redis broker (CI)."""

import os
import time
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django_celery_beat.models import PeriodicTask
from kombu import pools

from config.celery import app
from shops.models import Customer
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, add_rule, order

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")


def drop_connections():
    """Forget pooled broker connections so the next ones use the current broker_url.

    kombu keeps pools in a global registry keyed by broker: closing one there would leave
    a closed pool for every later task on that broker, so the registry is reset instead."""
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def redis_worker():
    if not REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs TEST_REDIS_URL and PostgreSQL (set by .ci/run)")
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager",
                                      "broker_transport_options")}
    # Under pytest-xdist each worker process has its own test database: its own key prefix
    # keeps another worker's Celery worker from taking its tasks off the shared Redis.
    prefix = f"patron-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}:"
    app.conf.update(broker_url=REDIS_URL, task_always_eager=False,
                    broker_transport_options={**saved["broker_transport_options"],
                                              "global_keyprefix": prefix})
    drop_connections()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield app
    finally:
        app.conf.update(saved)
        drop_connections()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_scheduled_recalculation_runs_on_a_real_worker(redis_worker):
    shop = ShopFactory(code="pl")
    customer = CustomerFactory(shop=shop)
    CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    silver = CategoryFactory(shop=shop, name="Silver", rank=2)
    add_rule(silver, {"kind": "window_spend", "days": 30, "amount": Decimal(100)})
    order(customer, "150.00", days_ago=1)  # its own recalculation also goes to the worker

    periodic = PeriodicTask.objects.get(task="loyalty.tasks.nightly_all_shops")
    redis_worker.send_task(periodic.task)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if Customer.objects.get(pk=customer.pk).category_id == silver.pk:
            break
        time.sleep(0.2)
    assert Customer.objects.get(pk=customer.pk).category == silver
