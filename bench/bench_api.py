"""Storefront API throughput: orders recorded per second and quote latency, over real HTTP.

    .venv/bin/python bench/bench_api.py [--orders 2000] [--threads 4] [--quotes 500]
                                        [--workers 2] [--broker redis://127.0.0.1:6379/14]

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/patron_bench_api; the script
creates that database if missing and migrates it. It builds its own shop (code
``bench-api``: 20 products, 200 customers, a threshold discount and a promo code, an API
key), then starts gunicorn (``config.wsgi``, ``--workers`` sync workers, DEBUG off) on a free
loopback port as a separate process, and from this process:

1. posts ``--orders`` orders (1-4 lines, completed and paid, so each one counts for loyalty)
   from ``--threads`` client threads, and reports orders recorded per second (wall time of
   the whole batch) and the POST latency median / p99; it then checks the database holds
   exactly those orders;
2. posts ``--quotes`` cart quotes (3 lines, with the promo code) one after another and
   reports the median and p99 latency.

Each request opens its own connection (gunicorn's sync workers close it after a response).
Without ``--broker`` Celery runs tasks eagerly, so the intake drain (points, category,
segments, messages) runs in the gunicorn worker right after each order's commit (the
no-broker setup of ``make run``); with a broker the drain is only kicked for a worker (run
one beside, or the queue is purged at the end). The drain lag is read from the order events
(written → applied). Orders of earlier runs are left in place; numbers carry the run's start time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/patron_bench_api"
os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "0")

SHOP_CODE = "bench-api"
PRODUCTS, CUSTOMERS = 20, 200


def ensure_database(url: str) -> None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    if "postgresql" not in config["ENGINE"]:
        return
    admin = psycopg.connect(
        host=config["HOST"] or "127.0.0.1", port=config["PORT"] or 5432,
        user=config["USER"] or "postgres", password=config["PASSWORD"] or None,
        dbname="postgres", autocommit=True,
    )
    with admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{config["NAME"]}"')


def prepare() -> str:
    """Migrate, build the shop, return a fresh API key."""
    import django

    django.setup()
    from django.core.management import call_command
    from djmoney.money import Money

    from pricing.models import PromoCode, ThresholdDiscount, ThresholdTier
    from shops import services, tokens
    from shops.models import Customer, Product, Shop

    call_command("migrate", verbosity=0)
    shop, _ = Shop.objects.get_or_create(
        code=SHOP_CODE, defaults={"name": "Bench API", "currency": "PLN",
                                  "default_language": "pl", "timezone": "Europe/Warsaw"})
    for i in range(PRODUCTS):
        Product.objects.get_or_create(shop=shop, sku=f"B{i:03d}", defaults={
            "name": f"Product {i}", "price": Money(Decimal(10 + 7 * i), "PLN")})
    existing = set(Customer.objects.filter(shop=shop).values_list("external_id", flat=True))
    for i in range(CUSTOMERS):
        if f"BC{i:04d}" not in existing:
            services.customer_upsert(shop=shop, external_id=f"BC{i:04d}", name=f"Bench {i}")
    if not ThresholdDiscount.objects.filter(shop=shop).exists():
        discount = ThresholdDiscount.objects.create(shop=shop, client_type="retail",
                                                    name="5% from 100")
        ThresholdTier.objects.create(discount=discount, min_goods_value=Money(100, "PLN"),
                                     percent=Decimal(5))
        PromoCode.objects.create(shop=shop, client_type="retail", name="Bench code",
                                 code="BENCH", percent=Decimal(3))
    _, key = tokens.api_token_create(shop=shop, name=f"bench {datetime.now(UTC):%H%M%S}")
    from django.db import connections

    connections.close_all()
    return key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int, broker: str | None) -> subprocess.Popen:
    env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1",
           "CELERY_BROKER_URL": broker or ""}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            status, _ = request(port, "GET", "/api/v1/openapi.json", None, None)
            if status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def request(port: int, method: str, path: str, body, key: str | None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        connection.request(method, path, json.dumps(body) if body is not None else None,
                           headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def order_bodies(n: int, seed: int, prefix: str) -> list[dict]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    bodies = []
    for i in range(n):
        skus = rng.sample(range(PRODUCTS), rng.randint(1, 4))
        bodies.append({
            "number": f"{prefix}-{i:06d}", "customer": f"BC{rng.randrange(CUSTOMERS):04d}",
            "placed_at": (start + timedelta(minutes=7 * i)).isoformat(), "currency": "PLN",
            "status": "completed", "paid_in_full": True, "shipping_method": "courier",
            "lines": [{"sku": f"B{s:03d}", "quantity": rng.randint(1, 3),
                       "unit_price": str(10 + 7 * s)} for s in skus],
        })
    return bodies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def drain_lag(prefix: str, wait: float = 60.0) -> tuple[list[float], int]:
    """Seconds from each order event's write to its effects being applied (the intake
    drain), waiting up to `wait` seconds for the drain to finish; and how many are left."""
    from shops.models import IntakeEvent

    events = IntakeEvent.objects.filter(order__number__startswith=f"{prefix}-")
    deadline = time.monotonic() + wait
    while events.filter(status="pending").exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    lags = [
        (done - written).total_seconds()
        for written, done in events.filter(status="done").values_list("created_at",
                                                                      "processed_at")
    ]
    return lags, events.filter(status="pending").count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--quotes", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--broker", default=None)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    if args.broker:
        os.environ["CELERY_BROKER_URL"] = args.broker  # this process purges it at the end
    ensure_database(os.environ["DATABASE_URL"])
    key = prepare()
    port = free_port()
    server = start_server(port, args.workers, args.broker)
    prefix = f"R{datetime.now(UTC):%Y%m%d%H%M%S}"
    try:
        bodies = order_bodies(args.orders, args.seed, prefix)
        latencies: list[float] = []
        failures: list[tuple[int, bytes]] = []
        lock = threading.Lock()

        def post(body):
            started = time.perf_counter()
            status, content = request(port, "POST", "/api/v1/orders", body, key)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if status != 201:
                    failures.append((status, content[:200]))

        started = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(post, bodies))
        wall = time.perf_counter() - started
        if failures:
            raise SystemExit(f"{len(failures)} orders failed, e.g. {failures[0]}")

        rng = random.Random(args.seed)
        quote_times = []
        for _ in range(args.quotes):
            cart = {"customer": f"BC{rng.randrange(CUSTOMERS):04d}", "promo_code": "BENCH",
                    "lines": [{"sku": f"B{s:03d}", "quantity": rng.randint(1, 3)}
                              for s in rng.sample(range(PRODUCTS), 3)]}
            t0 = time.perf_counter()
            status, content = request(port, "POST", "/api/v1/quotes", cart, key)
            quote_times.append(time.perf_counter() - t0)
            if status != 200:
                raise SystemExit(f"quote failed: {status} {content[:200]}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    import django

    django.setup()
    from shops.models import Order

    recorded = Order.objects.filter(shop__code=SHOP_CODE, number__startswith=f"{prefix}-")
    assert recorded.count() == args.orders, "orders recorded differ from orders posted"
    lags, pending = drain_lag(prefix)
    if args.broker:
        from config.celery import app

        app.control.purge()

    mode = "drain in the worker (broker)" if args.broker else "drain in-process after commit"
    print(f"gunicorn {args.workers} sync workers, {args.threads} client threads, {mode}")
    print(f"orders: {args.orders} in {wall:.2f} s = {args.orders / wall:.0f} orders/s; "
          f"POST latency median {statistics.median(latencies) * 1000:.1f} ms, "
          f"p99 {percentile(latencies, 99) * 1000:.1f} ms")
    if lags:
        print(f"drain lag (event written -> points/category/messages applied): "
              f"median {statistics.median(lags) * 1000:.0f} ms, "
              f"p99 {percentile(lags, 99) * 1000:.0f} ms; {pending} events still pending")
    else:
        print(f"drain lag: no event applied ({pending} pending; is a worker running?)")
    print(f"quotes: {args.quotes} sequential, 3 lines + promo code: "
          f"p50 {statistics.median(quote_times) * 1000:.1f} ms, "
          f"p99 {percentile(quote_times, 99) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
