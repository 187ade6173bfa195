"""The admin's lists, searches and pages at 1M customers / 10M orders: median render time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/patron_bench_admin \
        .venv/bin/python bench/bench_admin.py [--repeat 5]
    make bench-admin

Renders each page through Django's test client (DEBUG off), logged in as a superuser and as
a staff user of the biggest shop (every permission, that shop only), `--repeat` times after
one warm-up render, and prints a table: median, min and max wall time, statements of one
render, and whether the median is under the 300 ms target. Run `manage.py migrate` (the
search indexes) and `VACUUM ANALYZE` first; `manage.py statistics_rollup` for the
statistics rows. Never point it at `patron_bench` itself (the template of the copies).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/patron_bench_admin")
os.environ.setdefault("DEBUG", "0")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Permission, User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from shops.models import Customer, Order, Shop, ShopStaff  # noqa: E402

TARGET_MS = 300


def users(shop):
    superuser, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True})
    staff, _ = User.objects.get_or_create(username="bench-staff", defaults={"is_staff": True})
    staff.user_permissions.set(Permission.objects.filter(
        content_type__app_label__in=["shops", "loyalty", "notifications", "pricing"]))
    ShopStaff.objects.get_or_create(user=staff, shop=shop)
    return {"superuser": superuser, "staff": staff}


def pages(shop):
    """(label, url, query) of every page timed."""
    latest = Order.objects.filter(shop=shop).order_by("-placed_at").values(
        "number", "customer_id", "shipping_method", "placed_at").first()
    customer = Customer.objects.get(pk=latest["customer_id"])
    # The customer with the most orders among a sample (a full GROUP BY costs seconds).
    busiest = (Order.objects.filter(customer_id__in=Customer.objects.filter(shop=shop)
                                    .order_by("pk").values("pk")[:20000])
               .values("customer_id").order_by().annotate(n=django.db.models.Count("pk"))
               .order_by("-n").first())
    email = customer.email or customer.name
    year = latest["placed_at"].year
    changelist = lambda name: reverse(f"admin:{name}_changelist")  # noqa: E731
    return busiest["n"], [
        ("customers", changelist("shops_customer"), {}),
        ("customers, search email", changelist("shops_customer"), {"q": email}),
        ("customers, search external id", changelist("shops_customer"),
         {"q": customer.external_id}),
        ("customers, by shop", changelist("shops_customer"), {"shop__id__exact": shop.pk}),
        ("orders", changelist("shops_order"), {}),
        ("orders, search number", changelist("shops_order"), {"q": latest["number"]}),
        ("orders, search email", changelist("shops_order"), {"q": email}),
        # A method the filter offers (one of the latest orders'); the bench's own new orders
        # have none.
        ("orders, shipping method", changelist("shops_order"),
         {"shipping_method": Order.objects.filter(shop=shop).exclude(shipping_method="")
          .order_by("-placed_at").values_list("shipping_method", flat=True).first() or "x"}),
        ("orders, year drill-down", changelist("shops_order"), {"placed_at__year": year}),
        ("points ledger", changelist("loyalty_pointsentry"), {}),
        ("points ledger, search", changelist("loyalty_pointsentry"), {"q": email}),
        ("category history", changelist("loyalty_categorychange"), {}),
        ("category history, search", changelist("loyalty_categorychange"), {"q": email}),
        ("messages", changelist("notifications_message"), {}),
        ("order events", changelist("shops_intakeevent"), {}),
        (f"customer page ({busiest['n']} orders)",
         reverse("admin:shops_customer_change", args=[busiest["customer_id"]]), {}),
        ("statistics, 12 weeks", reverse("loyalty_statistics"), {"shop": shop.pk}),
        ("statistics, 3 years", reverse("loyalty_statistics"),
         {"shop": shop.pk, "start": shop.today().replace(year=shop.today().year - 3, day=1)
          .isoformat(), "end": shop.today().isoformat()}),
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    shop = max(Shop.objects.all(), key=lambda s: Customer.objects.filter(shop=s).count())
    _n, timed = pages(shop)
    print(f"{Customer.objects.count():,} customers (biggest shop {shop.code}), "
          f"median of {args.repeat}, target {TARGET_MS} ms")
    print(f"{'page':<36} {'user':<10} {'median':>8} {'min':>6} {'max':>6} {'SQL':>4}  ok")
    for label, url, query in timed:
        for who, user in users(shop).items():
            client = Client(SERVER_NAME="localhost")
            client.force_login(user)
            response = client.get(url, query)  # warm-up
            assert response.status_code == 200, (label, who, response.status_code)
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                client.get(url, query)
                times.append((time.perf_counter() - start) * 1000)
            with CaptureQueriesContext(connection) as ctx:
                client.get(url, query)
            median = statistics.median(times)
            print(f"{label:<36} {who:<10} {median:>6.0f}ms {min(times):>6.0f} "
                  f"{max(times):>6.0f} {len(ctx):>4}  {'yes' if median < TARGET_MS else 'NO'}",
                  flush=True)


if __name__ == "__main__":
    main()
