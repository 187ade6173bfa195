"""Full segment membership refresh on the benchmark data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/patron_bench \
        .venv/bin/python bench/bench_segments.py [--repeat 3]

Needs data from bench/generate.py (PostgreSQL, with order lines). Every shop gets the five
built-in segments plus three custom ones in the same condition language: bought the shop's
first product (order lines), used its first shipping method >= 5 times, and "retail in the
capital" (a city condition). Then:

1. fill: membership emptied, one full refresh per shop (every membership is a new row);
2. steady: `--repeat` refreshes with nothing changed (the nightly case), median wall time;
3. the stored membership is compared with one hand-written SQL statement per built-in
   segment (the counts must be equal).
"""

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/patron_bench")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from loyalty import segments  # noqa: E402
from loyalty.figures import window_start  # noqa: E402
from loyalty.models import Condition, Rule, Segment, SegmentMember  # noqa: E402
from shops.models import Customer, Order, Product, Shop  # noqa: E402

CAPITALS = {"pl": "Warszawa", "ua": "Kyiv", "fr": "Paris"}

REFERENCE = {
    "customers": "n >= 1", "loyal": "n >= 2", "without_orders": "n = 0",
    "first_order_recently": "n = 1 AND recent >= 1",
}
REFERENCE_SQL = """
SELECT COUNT(*) FILTER (WHERE {test}) FROM (
    SELECT c.id, COUNT(o.id) AS n, COUNT(o.id) FILTER (WHERE o.placed_at >= %(since)s) AS recent
      FROM shops_customer c
      LEFT JOIN shops_order o ON o.customer_id = c.id AND o.status = 'completed'
           AND o.paid_in_full
     WHERE c.shop_id = %(shop)s
     GROUP BY c.id) t
"""


def custom_segments(shop):
    with transaction.atomic():
        segments.segments_ensure_built_in(shop=shop)
        product = Product.objects.filter(shop=shop).order_by("sku").first()
        method = (Order.objects.filter(shop=shop).exclude(shipping_method="")
                  .values_list("shipping_method", flat=True).first())
        customs = [
            ("bench-bought", [{"kind": "bought_product", "product": product}]),
            ("bench-carrier", [{"kind": "shipping_method_used", "text": method, "count": 5}]),
            ("bench-capital", [{"kind": "client_type", "client_type": "retail"},
                               {"kind": "delivery_city", "text": CAPITALS[shop.code]}]),
        ]
        for code, conditions in customs:
            segment, created = Segment.objects.get_or_create(
                shop=shop, code=code, defaults={"name": code})
            if created:
                rule = Rule.objects.create(segment=segment, name=code)
                Condition.objects.bulk_create(Condition(rule=rule, **c) for c in conditions)


def refresh_all(shops):
    start = time.perf_counter()
    joined = left = 0
    for shop in shops:
        summary = segments.segments_refresh(shop=shop)
        joined += summary.joined
        left += summary.left
    return time.perf_counter() - start, joined, left


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run against PostgreSQL (DATABASE_URL), after bench/generate.py.")
    shops = list(Shop.objects.order_by("code"))
    customers = Customer.objects.count()
    for shop in shops:
        custom_segments(shop)

    with connection.cursor() as cur:
        cur.execute("TRUNCATE loyalty_segmentmember")
    fill, joined, _ = refresh_all(shops)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE loyalty_segmentmember")
    print(f"fill: {fill:.2f} s for {customers:,} customers, {joined:,} memberships written "
          f"({customers / fill:,.0f} customers/s)")

    times = []
    for _ in range(args.repeat):
        seconds, joined, left = refresh_all(shops)
        times.append(seconds)
        print(f"steady: {seconds:.2f} s (joined {joined}, left {left})")
    median = statistics.median(times)
    print(f"steady median: {median:.2f} s ({customers / median:,.0f} customers/s)")

    ok = True
    with connection.cursor() as cur:
        for shop in shops:
            since = window_start(shop, shop.today(), 30)
            for code, test in REFERENCE.items():
                cur.execute(REFERENCE_SQL.format(test=test), {"shop": shop.pk, "since": since})
                (expected,) = cur.fetchone()
                stored = SegmentMember.objects.filter(
                    segment__shop=shop, segment__built_in=code).count()
                ok &= stored == expected
                print(f"  {shop.code} {code}: {stored:,} (reference {expected:,})")
    print(f"identical to the reference: {'yes' if ok else 'NO'}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()
