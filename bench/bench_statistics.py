"""The admin statistics page on the benchmark data: render time and statements.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/patron_bench \
        .venv/bin/python bench/bench_statistics.py [--repeat 5]

Needs data from bench/generate.py, categories with history (bench/bench_recalculation.py
leaves its ladder and one run's moves) and segment membership (bench/bench_segments.py);
or any other database, e.g. the demo's (DATABASE_URL=sqlite:///var/db.sqlite3).
Renders /admin/loyalty/statistics/ through Django's test client for the biggest shop over
the last 12 weeks and the last year, `--repeat` times each, and prints the median wall time
and the number of statements of one render.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/patron_bench")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from shops.models import Customer, Shop  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    user, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True})
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    shop = max(Shop.objects.all(), key=lambda s: Customer.objects.filter(shop=s).count())
    end = shop.today()
    for label, days in (("12 weeks", 84), ("1 year", 365)):
        query = {"shop": shop.pk, "start": end - timedelta(days=days - 1), "end": end}
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            response = client.get("/admin/loyalty/statistics/", query)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.status_code
        with CaptureQueriesContext(connection) as ctx:
            client.get("/admin/loyalty/statistics/", query)
        print(f"{shop.code} ({Customer.objects.filter(shop=shop).count():,} customers), "
              f"{label}: median {statistics.median(times) * 1000:.0f} ms "
              f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}), "
              f"{len(ctx)} statements")


if __name__ == "__main__":
    main()
