"""The night: a first (full) night, then a second (incremental) one after 1% of the customers
got a new order; optionally the full night on Celery workers, one worker against two.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/patron_bench_nightly \
        .venv/bin/python bench/bench_nightly.py [--share 0.01] [--workers 1,2]

Needs data from bench/generate.py (PostgreSQL) with categories and rules (the lead's
`patron_bench_nightly` is a copy of the 1M-customer database with a 3-category ladder per
shop). Never point it at `patron_bench`, the template the copies are made from.

1. Every shop's nightly state is cleared, so the first night is a full pass:
   loyalty.nightly.night_run per shop, inline (as `manage.py nightly`), as of yesterday.
2. `--share` of the customers of every shop get one new counted order each, placed an hour
   ago, written set-based as facts plus their intake events (as the storefront's write path
   leaves them once the drain applied them during the day: events done, customers stamped).
3. The second night, as of today, inline: incremental (the orders that leave the rules'
   windows between the two days are candidates too). Its wall time is compared with the
   first's.
4. With `--workers`, a full night (`nightly_all_shops(full=True)`) on a real Celery worker
   started here with each concurrency given (Redis from CELERY_BROKER_URL, default db 5),
   timed from sending the task until every shop's state records the night.

Prints each night's steps with their wall time and row counts, and one JSON line per run.
The machine is shared: figures are one run's, noisy.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/patron_bench_nightly")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from loyalty import nightly  # noqa: E402
from loyalty.models import NightlyState  # noqa: E402
from notifications.models import Message, Status  # noqa: E402
from shops.models import Shop  # noqa: E402

NEW_ORDERS_SQL = """
WITH chosen AS (
    SELECT c.id AS customer_id, c.shop_id, s.currency
      FROM shops_customer c JOIN shops_shop s ON s.id = c.shop_id
     WHERE abs(hashint8(c.id) %% 10000) < %(per_10000)s
), placed AS (
    INSERT INTO shops_order (number, placed_at, status, paid_in_full, shipping_method,
                             shipping_cost_currency, shipping_cost, delivery_city,
                             goods_total_currency, goods_total, returned_total_currency,
                             returned_total, customer_id, shop_id)
    SELECT 'NIGHT-' || %(tag)s || '-' || customer_id, %(when)s, 'completed', true, '',
           currency, 0, '', currency, 100 + (customer_id %% 900), currency, 0,
           customer_id, shop_id
      FROM chosen
    RETURNING id, customer_id, shop_id
), events AS (
    INSERT INTO shops_intakeevent (shop_id, customer_id, order_id, kind, created_at, status,
                                   attempts, claim, processed_at, error)
    SELECT shop_id, customer_id, id, 'counted', %(when)s, 'done', 1, '', %(when)s, ''
      FROM placed
    RETURNING customer_id
)
UPDATE shops_customer c SET orders_changed_at = %(when)s
  FROM events e WHERE c.id = e.customer_id
"""


def show(label: str, summaries: list[dict], wall: float) -> None:
    print(f"\n{label}: {wall:.1f} s wall")
    for s in summaries:
        print(f"  {s['shop']}: {s['pass']} ({s['reason'] or 'since the last night'})"
              f" {s['seconds']:.1f} s")
        for step in s["steps"]:
            rows = {k: v for k, v in step.items() if k not in ("step", "seconds", "sources")}
            print(f"    {step['step']:<14} {step['seconds']:8.2f} s  {rows}")
            if "sources" in step:
                print(f"    {'':<14} candidates by source: {step['sources']}")


def night(full: bool, days_ago: int = 0) -> tuple[list[dict], float]:
    started = time.perf_counter()
    summaries = [
        nightly.night_run(shop=shop, full=full, as_of=shop.today() - timedelta(days=days_ago))
        for shop in Shop.objects.order_by("pk")
    ]
    return summaries, time.perf_counter() - started


def new_orders(share: float) -> int:
    with connection.cursor() as cursor:
        cursor.execute(NEW_ORDERS_SQL, {
            "per_10000": round(share * 10000), "tag": str(int(time.time())),
            "when": timezone.now() - timedelta(hours=1),
        })
        return cursor.rowcount


def on_workers(concurrency: int) -> float:
    """A full night of every shop on one worker process with `concurrency` children."""
    from loyalty import tasks

    broker = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/5"
    env = {**os.environ, "CELERY_BROKER_URL": broker}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "warning",
         "--concurrency", str(concurrency), "--prefetch-multiplier", "1", "-n",
         f"bench-nightly-{concurrency}@%h", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env)
    try:
        time.sleep(6)  # the worker connects
        before = timezone.now()
        from celery import Celery

        app = Celery(broker=broker)
        # Only the night is timed: the delivery tasks the inline nights queued (their
        # messages on a console backend) are dropped and their messages marked sent.
        app.control.purge()
        Message.objects.filter(status=Status.PENDING).update(status=Status.SENT,
                                                             sent_at=timezone.now())
        started = time.perf_counter()
        app.send_task(tasks.nightly_all_shops.name, kwargs={"full": True})
        shops = Shop.objects.count()
        while NightlyState.objects.filter(last_finished_at__gt=before).count() < shops:
            if time.perf_counter() - started > 1800:
                raise SystemExit("the night did not finish within 30 minutes")
            time.sleep(0.5)
        return time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--share", type=float, default=0.01,
                        help="share of customers with a new order before night 2")
    parser.add_argument("--workers", default="",
                        help="comma-separated worker concurrencies for a full night, e.g. 1,2")
    parser.add_argument("--workers-only", action="store_true",
                        help="skip the inline nights (on a copy that already had them)")
    parser.add_argument("--first-only", action="store_true",
                        help="stop after the first night and the new orders (a copy of the "
                             "database then serves as the start of several second nights)")
    parser.add_argument("--second-only", type=float, metavar="FIRST_SECONDS", default=None,
                        help="only the second night, on a copy made after --first-only; "
                             "the ratio is taken against FIRST_SECONDS")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or connection.settings_dict["NAME"] == "patron_bench":
        raise SystemExit("Needs a PostgreSQL copy of the benchmark database (not patron_bench).")
    if args.second_only is not None:
        second_night(args.second_only)
    elif not args.workers_only:
        inline_nights(args.share, stop=args.first_only)
    for concurrency in [int(x) for x in args.workers.split(",") if x]:
        wall = on_workers(concurrency)
        print(f"\nFull night on {concurrency} worker process(es): {wall:.1f} s wall")
        print(json.dumps({"workers": concurrency, "full_night_s": round(wall, 1)}))


def inline_nights(share: float, *, stop: bool = False) -> None:
    NightlyState.objects.all().delete()
    first, first_wall = night(full=False, days_ago=1)  # yesterday's night, then today's
    show("Night 1 (first: full)", first, first_wall)
    added = new_orders(share)
    print(f"\n{added:,} customers got a new order (facts + intake events, set-based)")
    if stop:
        print(json.dumps({"first_s": round(first_wall, 1), "new_orders": added}))
        return
    second_night(first_wall, added)


def second_night(first_wall: float, added: int | None = None) -> None:
    second, second_wall = night(full=False)
    show("Night 2 (incremental)", second, second_wall)
    print(f"\nsecond / first: {second_wall / first_wall:.1%} (target < 10%)")
    print(json.dumps({"first_s": round(first_wall, 1), "second_s": round(second_wall, 1),
                      "ratio": round(second_wall / first_wall, 4), "new_orders": added}))


if __name__ == "__main__":
    main()
