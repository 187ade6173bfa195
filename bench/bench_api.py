"""Storefront API throughput under load: orders/s over gunicorn while a Celery worker drains.

    .venv/bin/python bench/bench_api.py [--seconds 30] [--connections 8] [--workers 2]
        [--threads 4] [--scale 1.5] [--window-ms 500] [--broker redis://127.0.0.1:6379/4]
        [--rate R] [--worker-concurrency N]

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/patron_api_bench (never the
1M ``patron_bench`` template). The script creates that database if missing, migrates it and
fills it with ``manage.py demo --scale S`` once (set-based builders; the ``ua`` shop, used
here, has a category ladder whose categories run bonus programs, order-completed message
templates, discounts and promo codes; 1,750 customers at scale 1.0, 2,625 at 1.5). Then:

1. counts the statements of one order POST in this process (Django's test client on the
   same database, BEGIN and COMMIT included);
2. starts a Celery worker (``-c 1``) on ``--broker`` and gunicorn with
   ``config/gunicorn.conf.py`` (``--workers`` x ``--threads``, gthread, keep-alive) on a
   free loopback port, both as separate processes with DEBUG off;
3. for ``--seconds``, ``--connections`` client threads post orders (1-4 lines, completed
   and paid, so each one earns points, may move its customer and sends an "order
   completed" message) over keep-alive connections, as fast as answers come, while one more
   connection posts cart quotes (3 lines with a promo code) one after another; with
   ``--rate R`` the order posts are paced to R orders/s in all (an open loop: latency and
   lag at a given load, rather than at saturation);
4. waits for the drain to apply every event and reads the drain lag of each order: its
   event's ``created_at`` (written in the order's transaction) to ``processed_at`` (the
   drain's transaction that applied points, category, segments and messages);
5. checks the database holds exactly the orders answered 201 and their events are done,
   and prints orders/s, POST and quote latency, the lag, and the CPU seconds each side
   (gunicorn, Celery, PostgreSQL, this client) spent per order.

Orders of earlier runs stay (numbers carry the run's start time). The machine's other load
counts: the script prints the load average before and after.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/patron_api_bench"
DEFAULT_BROKER = "redis://127.0.0.1:6379/4"
os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DEBUG"] = "0"
os.environ["ALLOWED_HOSTS"] = "127.0.0.1,testserver"

SHOP_CODE = "ua"
TICKS = os.sysconf("SC_CLK_TCK")


def ensure_database(url: str) -> None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    if "postgresql" not in config["ENGINE"]:
        raise SystemExit("bench_api.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    if config["NAME"] == "patron_bench":
        raise SystemExit("patron_bench is the 1M template; use a database of its own")
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


def prepare(scale: float) -> dict:
    """Migrate, fill with the demo data once; a fresh API key, the shop's customers and
    products."""
    import django

    django.setup()
    from django.core.management import call_command

    from shops import demo, tokens
    from shops.models import Customer, Product, Shop

    call_command("migrate", verbosity=0)
    shop = Shop.objects.filter(code=SHOP_CODE).first()
    wanted = round(demo.CUSTOMERS_AT_SCALE_1 * scale * 0.35)
    if shop is None or Customer.objects.filter(shop=shop).count() < wanted:
        print(f"building the demo data (scale {scale}) ...", flush=True)
        call_command("demo", scale=scale, verbosity=0)
        shop = Shop.objects.get(code=SHOP_CODE)
    # Fresh planner statistics, as autovacuum keeps them on a server that has been running:
    # without them (a database just filled, or grown by earlier runs) the drain's figures
    # query was planned as a scan of the shop's orders per customer (3 s a batch, not 10 ms).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    _, key = tokens.api_token_create(shop=shop, name=f"bench {datetime.now(UTC):%H%M%S}")
    world = {
        "key": key, "currency": shop.currency,
        "customers": list(Customer.objects.filter(shop=shop, is_active=True, client_type="retail")
                          .order_by("pk").values_list("external_id", flat=True)),
        "products": [(sku, str(price)) for sku, price in Product.objects.filter(
            shop=shop, is_active=True).order_by("sku").values_list("sku", "price")],
    }
    from django.db import connections

    connections.close_all()
    return world


def order_body(world: dict, rng: random.Random, number: str, when: datetime) -> dict:
    products = rng.sample(world["products"], rng.randint(1, 4))
    return {
        "number": number, "customer": rng.choice(world["customers"]),
        "placed_at": when.isoformat(), "currency": world["currency"],
        "status": "completed", "paid_in_full": True, "shipping_method": "nova_poshta",
        "lines": [{"sku": sku, "quantity": rng.randint(1, 3), "unit_price": price}
                  for sku, price in products],
    }


def quote_body(world: dict, rng: random.Random) -> dict:
    return {"customer": rng.choice(world["customers"]),
            "lines": [{"sku": sku, "quantity": rng.randint(1, 3)}
                      for sku, _price in rng.sample(world["products"], 3)]}


def statements_per_order(world: dict, prefix: str) -> tuple[int, list[str]]:
    """Statements of one order POST through the whole Django stack, BEGIN/COMMIT included."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(headers={"authorization": f"Bearer {world['key']}"})
    rng = random.Random(0)
    now = datetime.now(UTC)
    client.post("/api/v1/orders", order_body(world, rng, f"{prefix}-S0", now),
                content_type="application/json")  # the token's "last used" is written once
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/api/v1/orders", order_body(world, rng, f"{prefix}-S1", now),
                               content_type="application/json")
    assert response.status_code == 201, response.content
    sql = [q["sql"] for q in captured.captured_queries]
    from django.db import connections

    connections.close_all()
    return len(sql), sql  # Django logs the transaction's BEGIN and COMMIT too


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_worker(broker: str, concurrency: int = 1) -> subprocess.Popen:
    # Messages are delivered too (the worker runs every task), to a sink: no SMTP server.
    env = {**os.environ, "CELERY_BROKER_URL": broker,
           "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker",
         "-l", "info" if os.environ.get("BENCH_WORKER_LOG") else "warning",
         *(["--logfile", os.environ["BENCH_WORKER_LOG"]] if os.environ.get("BENCH_WORKER_LOG")
           else []),
         "--concurrency", str(concurrency), "--without-gossip", "--without-mingle",
         "--without-heartbeat"],
        cwd=ROOT, env=env,
    )


def start_server(port: int, workers: int, threads: int, broker: str,
                 window_ms: int) -> subprocess.Popen:
    env = {**os.environ, "CELERY_BROKER_URL": broker, "GUNICORN_BIND": f"127.0.0.1:{port}",
           "GUNICORN_WORKERS": str(workers), "GUNICORN_THREADS": str(threads),
           "INTAKE_KICK_WINDOW_MS": str(window_ms)}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "config/gunicorn.conf.py"],
        cwd=ROOT, env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/api/v1/openapi.json")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start")


class Client:
    """One keep-alive HTTP connection."""

    def __init__(self, port: int, key: str):
        self.port, self.connection = port, None
        self.headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}

    def post(self, path: str, body: dict) -> tuple[int, bytes]:
        data = json.dumps(body).encode()
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                self.connection.request("POST", path, data, self.headers)
                response = self.connection.getresponse()
                content = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.connection.close()
                    self.connection = None
                return response.status, content
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A keep-alive connection the server closed between two requests: reopen
                # once (an order number is idempotent, so a resent order is a replay).
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def cpu_seconds(pids) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / TICKS


def postgres_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() in ("postgres", "postmaster"):
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def load(port: int, world: dict, args, prefix: str) -> dict:
    """Post orders from `args.connections` threads and quotes from one more, for
    `args.seconds`; returns what was measured."""
    stop = threading.Event()
    lock = threading.Lock()
    counter = iter(range(10**9))
    start_day = datetime.now(UTC) - timedelta(days=1)
    posted: list[tuple[str, float]] = []  # number, latency
    quotes: list[float] = []
    failures: list[tuple[int, bytes]] = []

    # --rate: each connection posts on its own schedule (an open loop: a late answer does
    # not slow the next post, it is sent as soon as the connection is free).
    interval = args.connections / args.rate if args.rate else 0.0

    def orders(seed: int):
        rng, client = random.Random(seed), Client(port, world["key"])
        due = time.perf_counter() + interval * seed / max(args.connections, 1)
        while not stop.is_set():
            if interval:
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                due += interval
            with lock:
                i = next(counter)
            number = f"{prefix}-{i:07d}"
            body = order_body(world, rng, number, start_day + timedelta(seconds=i))
            t0 = time.perf_counter()
            status, content = client.post("/api/v1/orders", body)
            elapsed = time.perf_counter() - t0
            with lock:
                if status == 201:
                    posted.append((number, elapsed))
                else:
                    failures.append((status, content[:300]))

    def quoting():
        rng, client = random.Random(-1), Client(port, world["key"])
        while not stop.is_set():
            t0 = time.perf_counter()
            status, content = client.post("/api/v1/quotes", quote_body(world, rng))
            quotes.append(time.perf_counter() - t0)
            if status != 200:
                with lock:
                    failures.append((status, content[:300]))
            time.sleep(args.quote_pause)  # a storefront's carts, not a second flood

    threads = [threading.Thread(target=orders, args=(s,)) for s in range(args.connections)]
    threads.append(threading.Thread(target=quoting))
    for thread in threads:
        thread.start()
    time.sleep(args.warmup)  # connections opened, code paths warm: not measured
    with lock:
        warm_orders, warm_quotes = len(posted), len(quotes)
    t0 = time.perf_counter()
    time.sleep(args.seconds)
    with lock:
        measured_orders = len(posted) - warm_orders
    wall = time.perf_counter() - t0
    measured_quotes = quotes[warm_quotes:]
    stop.set()
    for thread in threads:
        thread.join()
    return {"posted": posted, "latencies": [lat for _n, lat in posted[warm_orders:]],
            "quotes": measured_quotes, "failures": failures,
            "orders_per_second": measured_orders / wall, "wall": wall}


def drain_lag(prefix: str, expected: int, wait: float = 120.0) -> tuple[list[float], dict]:
    from django.db.models import Count

    from shops.models import IntakeEvent

    events = IntakeEvent.objects.filter(order__number__startswith=f"{prefix}-")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        statuses = dict(events.values_list("status").annotate(n=Count("pk")))
        if statuses.get("done", 0) + statuses.get("failed", 0) >= expected:
            break
        time.sleep(0.5)
    lags = [(done - written).total_seconds() for written, done in
            events.filter(status="done").values_list("created_at", "processed_at")]
    return lags, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--window-ms", type=int, default=500)
    parser.add_argument("--quote-pause", type=float, default=0.05)
    parser.add_argument("--rate", type=float, default=0.0,
                        help="offered orders/s over all connections (default: as fast as "
                             "answers come)")
    parser.add_argument("--scale", type=float, default=1.5)
    parser.add_argument("--broker", default=DEFAULT_BROKER)
    parser.add_argument("--worker-concurrency", type=int, default=1,
                        help="Celery worker processes (drains run side by side; make run: 2)")
    args = parser.parse_args()

    # This process is a producer like gunicorn: its own order POST (the statement count)
    # kicks the worker instead of draining in-process.
    os.environ["CELERY_BROKER_URL"] = args.broker
    ensure_database(os.environ["DATABASE_URL"])
    world = prepare(args.scale)
    prefix = f"A{datetime.now(UTC):%Y%m%d%H%M%S}"
    statements, sql = statements_per_order(world, prefix)
    load_before = os.getloadavg()
    worker = start_worker(args.broker, args.worker_concurrency)
    port = free_port()
    server = start_server(port, args.workers, args.threads, args.broker, args.window_ms)
    try:
        sides = {"gunicorn": lambda: [server.pid, *children(server.pid)],
                 "celery": lambda: [worker.pid, *children(worker.pid)],
                 "postgres": postgres_pids, "client": lambda: [os.getpid()]}
        cpu_before = {name: cpu_seconds(pids()) for name, pids in sides.items()}
        measured = load(port, world, args, prefix)
        cpu_after = {name: cpu_seconds(pids()) for name, pids in sides.items()}
        if measured["failures"]:
            raise SystemExit(f"{len(measured['failures'])} requests failed, e.g. "
                             f"{measured['failures'][0]}")
        from shops.models import Order

        numbers = [n for n, _lat in measured["posted"]]
        recorded = Order.objects.filter(shop__code=SHOP_CODE, number__startswith=f"{prefix}-")
        # the two statement-count orders are not in `posted`
        assert recorded.count() == len(numbers) + 2, "orders recorded differ from orders posted"
        lags, statuses = drain_lag(prefix, len(numbers) + 2)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    load_after = os.getloadavg()

    rate, lat, quotes = measured["orders_per_second"], measured["latencies"], measured["quotes"]
    total = len(measured["posted"])
    print(f"gunicorn {args.workers} gthread workers x {args.threads} threads, "
          f"{args.connections} keep-alive order connections + 1 quote connection; "
          f"Celery worker -c {args.worker_concurrency} on {args.broker}; "
          f"kick window {args.window_ms} ms; "
          + (f"offered {args.rate:.0f} orders/s" if args.rate else "as fast as answers come"))
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f}")
    print(f"statements per order POST (BEGIN and COMMIT included): {statements}")
    print(f"orders: {rate:.1f} orders/s over {measured['wall']:.1f} s ({len(lat)} measured, "
          f"{total} in all); POST p50 {ms(statistics.median(lat))}, p99 {ms(percentile(lat, 99))}")
    print(f"quotes under load: {len(quotes)}; p50 {ms(statistics.median(quotes))}, "
          f"p99 {ms(percentile(quotes, 99))}")
    if lags:
        print(f"drain lag (order's event written -> effects applied): p50 "
              f"{ms(statistics.median(lags))}, p99 {ms(percentile(lags, 99))}, "
              f"max {ms(max(lags))}; events {statuses}")
    else:
        print(f"drain lag: no event applied ({statuses})")
    window = measured["wall"] + args.warmup  # CPU was read around warm-up and measure
    orders_in_window = total
    print("CPU per order (ms, all processes of each side, over the whole load):")
    for name in sides:
        spent = cpu_after[name] - cpu_before[name]
        print(f"  {name:9s} {spent / orders_in_window * 1000:6.2f} ms  "
              f"({spent / window * 100:.0f}% of one core)")
    if os.environ.get("BENCH_SHOW_SQL"):
        print("\n".join(sql))


if __name__ == "__main__":
    main()
