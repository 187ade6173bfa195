"""History import of a migrating merchant, end to end, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/patron_import_bench \
        .venv/bin/python bench/bench_import.py [--customers 25000] [--orders 70000]
        [--repeat 1] [--keep]

Uses its own database (default `patron_import_bench`; created and migrated when missing)
and empties its shops first (TRUNCATE ... CASCADE): never point it at a database you need.
It writes two CSV files into a temporary directory (customers: external_id, name, email,
city, registered_at; orders: one line each, over the last two years, ~85% completed and
paid), creates one shop with a ladder (Member: default, bonus points 1% / 2% from 1,000
lifetime spend; Silver: spend in the last 365 days >= 1,000; Gold: lifetime spend >=
5,000) and then times, as a merchant would run it:

    manage.py import_csv --shop imp customers customers.csv --history
    manage.py import_csv --shop imp orders orders.csv --history

i.e. storing the job, streaming and checking every row, the set-based write, and the final
recalculation of the affected customers, their points and segments. Prints each step's
wall time, rows per second, the checks (orders, lines, categories), and the peak RSS of
this Python process. With --repeat the import is wiped and rerun; medians are printed.
"""

import argparse
import csv
import io
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL",
                      "postgres://postgres@127.0.0.1:5432/patron_import_bench")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from djmoney.money import Money  # noqa: E402

from loyalty.models import Category, CategoryChange, Condition, PointsEntry, Rule  # noqa: E402
from loyalty.models_points import BonusProgram, BonusTier  # noqa: E402
from shops.models import Customer, Order, OrderLine, Product, Shop  # noqa: E402

CODE = "imp"


def _check_database() -> None:
    name = settings.DATABASES["default"]["NAME"]
    if connection.vendor != "postgresql" or name == "patron_bench" or "import" not in name:
        sys.exit(f"refusing to run on {connection.vendor} database {name!r}: use a dedicated "
                 "PostgreSQL database such as patron_import_bench")


def _ensure_database() -> None:
    import psycopg

    db = settings.DATABASES["default"]
    conninfo = {"host": db.get("HOST") or "127.0.0.1", "port": db.get("PORT") or 5432,
                "user": db.get("USER") or "postgres", "dbname": "postgres"}
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            [db["NAME"]]).fetchone():
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')
    call_command("migrate", verbosity=0)


def _wipe() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Shop._meta.db_table} RESTART IDENTITY CASCADE")


def _shop() -> Shop:
    shop = Shop.objects.create(code=CODE, name="Import bench", currency="PLN",
                               timezone="Europe/Warsaw", default_language="pl")
    Product.objects.create(shop=shop, sku="P1", name="Product", price=Money("100", "PLN"))
    member = Category.objects.create(shop=shop, name="Member", rank=1, is_default=True,
                                     program="bonus")
    program = BonusProgram.objects.create(category=member, name="Points")
    for start, percent in (("0", "1"), ("1000", "2")):
        BonusTier.objects.create(program=program, min_lifetime_spend=Money(start, "PLN"),
                                 percent=Decimal(percent))
    silver = Category.objects.create(shop=shop, name="Silver", rank=2)
    gold = Category.objects.create(shop=shop, name="Gold", rank=3)
    for category, spec in ((silver, {"kind": "window_spend", "days": 365,
                                     "amount": Decimal(1000)}),
                           (gold, {"kind": "lifetime_spend", "amount": Decimal(5000)})):
        rule = Rule.objects.create(category=category, name=category.name)
        Condition.objects.create(rule=rule, **spec)
    return shop


def _files(directory: Path, customers: int, orders: int) -> tuple[Path, Path]:
    rng = random.Random(42)
    now = datetime.now(UTC).replace(microsecond=0)
    people = directory / "customers.csv"
    with people.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["external_id", "name", "email", "city", "registered_at"])
        for i in range(customers):
            registered = now - timedelta(days=800 + rng.randrange(400))
            out.writerow([f"C{i:07d}", f"Customer {i}", f"c{i}@example.com", "Warszawa",
                          registered.strftime("%Y-%m-%d %H:%M")])
    sales = directory / "orders.csv"
    with sales.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["order_number", "customer_external_id", "placed_at", "status",
                      "paid_in_full", "sku", "quantity", "unit_price"])
        for i in range(orders):
            placed = now - timedelta(minutes=rng.randrange(730 * 24 * 60))
            roll = rng.random()
            status, paid = (("completed", "yes") if roll < 0.85 else
                            ("completed", "no") if roll < 0.9 else ("cancelled", "no"))
            out.writerow([f"N{i:08d}", f"C{rng.randrange(customers):07d}",
                          placed.strftime("%Y-%m-%d %H:%M"), status, paid, "P1",
                          rng.randint(1, 3), f"{rng.randint(1000, 40000) / 100:.2f}"])
    return people, sales


def _timed(*args) -> float:
    started = time.perf_counter()
    call_command("import_csv", "--shop", CODE, *args, "--history", verbosity=0,
                 stdout=io.StringIO())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=25_000)
    parser.add_argument("--orders", type=int, default=70_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    _check_database()
    _ensure_database()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        settings.MEDIA_ROOT = tmp  # the stored copies of the files go away with it
        people, sales = _files(Path(tmp), args.customers, args.orders)
        for _ in range(args.repeat):
            _wipe()
            shop = _shop()
            t_customers = _timed("customers", str(people))
            t_orders = _timed("orders", str(sales))
            runs.append((t_customers, t_orders))
            print(f"customers {t_customers:6.1f} s   orders {t_orders:6.1f} s   "
                  f"total {t_customers + t_orders:6.1f} s")
    total = statistics.median(c + o for c, o in runs)
    t_c = statistics.median(c for c, _o in runs)
    t_o = statistics.median(o for _c, o in runs)
    counts = {
        "customers": Customer.objects.filter(shop=shop).count(),
        "orders": Order.objects.filter(shop=shop).count(),
        "lines": OrderLine.objects.filter(order__shop=shop).count(),
        "category history": CategoryChange.objects.filter(shop=shop).count(),
        "points entries": PointsEntry.objects.filter(shop=shop).count(),
    }
    by_category = dict(Customer.objects.filter(shop=shop).values_list("category__name")
                       .annotate(n=django.db.models.Count("pk")).values_list("category__name",
                                                                              "n"))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"median of {len(runs)}: customers {t_c:.1f} s ({args.customers / t_c:,.0f} rows/s), "
          f"orders {t_o:.1f} s ({args.orders / t_o:,.0f} rows/s), total {total:.1f} s")
    print("written:", ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print("categories:", ", ".join(f"{k} {v:,}" for k, v in sorted(by_category.items())))
    print(f"peak RSS of this process: {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
