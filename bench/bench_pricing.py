"""Quoting a cart through the service (real database) against many discount configurations.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/patron_pricing_bench \\
        .venv/bin/python bench/bench_pricing.py [--quotes 500] [--keep]

(without DATABASE_URL the default SQLite database is used). The database must be migrated.
The script builds its own shop (code ``bench-pricing``: 20 products in 4 collections, a
quantity profile on a third of them, a retail customer with 150 counted orders, a category
discount and a loyalty card), removing any earlier copy first and again at the end unless
``--keep``. Carts enter an existing promo code. Sizes: 5 and 20 lines, against 10 and 50
enabled configurations of every kind (tiered ones with 3 tiers; the code counts as one).

For each size it prints the queries per quote (and fails when they differ between sizes),
the median and p95 of the pure engine on the same inputs (``pricing.engine.quote``) and of the
whole service (``pricing.services.cart_quote``: loading, conversion, engine; each quote in its
own transaction, as in production). Targets for 20 lines x 50 configurations: engine median
< 1 ms, service median < 5 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "0")  # no query log: time what production runs

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from djmoney.money import Money  # noqa: E402

from loyalty.models import Category  # noqa: E402
from pricing import engine, models, services  # noqa: E402
from shops.models import Collection, Customer, Order, Product, Shop  # noqa: E402

SHOP_CODE = "bench-pricing"
MODES = ("sum", "sequential", "exclusive_if_higher")
ENGINE_TARGET_MS, SERVICE_TARGET_MS = 1.0, 5.0
D = Decimal


def money(amount) -> Money:
    return Money(D(str(amount)), "PLN")


def wipe() -> None:
    shop = Shop.objects.filter(code=SHOP_CODE).first()
    if shop is None:
        return
    with transaction.atomic():
        models.PromoCodeUse.objects.filter(code__shop=shop).delete()
        Order.objects.filter(shop=shop).delete()
        for model in models.CONFIGURATION_MODELS:
            model.objects.filter(shop=shop).delete()
        models.QuantityProfile.objects.filter(shop=shop).delete()
        Customer.objects.filter(shop=shop).delete()
        Category.objects.filter(shop=shop).delete()
        Product.objects.filter(shop=shop).delete()
        Collection.objects.filter(shop=shop).delete()
        shop.delete()


@transaction.atomic
def build_world():
    shop = Shop.objects.create(code=SHOP_CODE, name="Pricing benchmark", currency="PLN",
                               timezone="Europe/Warsaw")
    group = Category.objects.create(shop=shop, name="-7%", rank=1, program="discount",
                                    discount_percent=D(7))
    customer = Customer.objects.create(shop=shop, external_id="B1", name="Bench buyer",
                                       category=group)
    models.LoyaltyCard.objects.create(customer=customer, percent=D(9))
    now = timezone.now()
    Order.objects.bulk_create(
        Order(shop=shop, number=f"B-{i:05d}", customer=customer,
              placed_at=now - timedelta(days=i), status="completed", paid_in_full=True,
              goods_total=money(40 + i % 60), returned_total=money(0))
        for i in range(150)
    )
    collections = [Collection.objects.create(shop=shop, code=f"c{i}", name=f"C{i}")
                   for i in range(4)]
    products = []
    for i in range(20):
        product = Product.objects.create(shop=shop, sku=f"B-{i:02d}", name=f"Product {i}",
                                         price=money(19 + 7 * i), min_price=money(10 + 5 * i))
        product.collections.set(collections[i % 4:i % 4 + 2])
        products.append(product)
    profile = models.QuantityProfile.objects.create(shop=shop, name="Bulk")
    for minimum, percent in ((3, 2), (10, 5)):
        models.QuantityTier.objects.create(profile=profile, min_value=D(minimum),
                                           percent=D(percent))
    for product in products[::3]:
        models.QuantityProfileProduct.objects.create(profile=profile, product=product)
    models.PromoCode.objects.create(shop=shop, name="Spring", code="SPRING10", percent=D(10),
                                    usage_limit=10_000, usage_limit_per_customer=100)
    return shop, customer, collections, products


@transaction.atomic
def add_configurations(shop, collections, gifts, start: int, count: int) -> None:
    for i in range(start, start + count):
        common = {"shop": shop, "name": f"rule {i}", "stacking": MODES[i % 3], "position": i}
        kind = i % 7
        if kind == 0:
            discount = models.ThresholdDiscount.objects.create(**common)
            for minimum, percent in ((100, 2), (300, 4), (900, 6)):
                tier = models.ThresholdTier.objects.create(
                    discount=discount, min_goods_value=money(minimum + i), percent=D(percent),
                    bonus_points=i % 5)
                tier.gifts.set(gifts)
        elif kind == 1:
            discount = models.CumulativeDiscount.objects.create(**common)
            for minimum, percent in ((0, 1), (500, 3), (5000, 5)):
                models.CumulativeTier.objects.create(
                    discount=discount, min_lifetime_spend=money(minimum + i), percent=D(percent))
        elif kind == 2:
            models.QuantityDiscount.objects.create(**common)
        elif kind == 3:
            models.SpecialOffer.objects.create(**common, collection=collections[i % 4],
                                               buy_quantity=2 + i % 3, free_quantity=1)
        elif kind == 4:
            models.CategoryDiscount.objects.create(**common)
        elif kind == 5:
            models.LoyaltyCardDiscount.objects.create(**common)
        else:
            advantage = models.SegmentAdvantage.objects.create(**common)
            for minimum, amount, percent, free in ((50, 5, 0, False), (150, 0, 10, True),
                                                   (500, 0, 12, True)):
                models.SegmentTier.objects.create(
                    advantage=advantage, min_cart_total=money(minimum + i),
                    amount_off=money(amount), percent_off=D(percent), free_shipping=free)


def median_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def measure(shop, customer, products, n_lines: int, quotes: int) -> dict:
    lines = [(p, 1 + i % 4) for i, p in enumerate(products[:n_lines])]
    kwargs = {"shop": shop, "customer": customer, "lines": lines, "promo_code": "spring10"}
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as ctx:
        result = services.cart_quote(**kwargs)
    n_queries = len(ctx)
    inputs = services.cart_inputs(**kwargs)
    assert engine.quote(inputs.cart, inputs.context, inputs.configurations) == result.quote

    for _ in range(20):  # warm up
        services.cart_quote(**kwargs)
    engine_ms, service_ms = [], []
    for _ in range(quotes):
        t0 = time.perf_counter()
        engine.quote(inputs.cart, inputs.context, inputs.configurations)
        engine_ms.append((time.perf_counter() - t0) * 1000)
    for _ in range(quotes):
        t0 = time.perf_counter()
        services.cart_quote(**kwargs)
        service_ms.append((time.perf_counter() - t0) * 1000)
    return {
        "lines": n_lines, "configurations": len(inputs.configurations), "queries": n_queries,
        "engine": median_p95(engine_ms), "service": median_p95(service_ms),
        "total": result.quote.total, "breakdown": len(result.quote.breakdown),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quotes", type=int, default=500, help="quotes per measure (500)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark shop")
    args = parser.parse_args()

    vendor = connection.vendor
    print(f"database: {vendor} {connection.settings_dict['NAME']}")
    wipe()
    shop, customer, collections, products = build_world()
    rows = []
    try:
        add_configurations(shop, collections, products[:2], start=0, count=9)  # + the code
        rows += [measure(shop, customer, products, n, args.quotes) for n in (5, 20)]
        add_configurations(shop, collections, products[:2], start=9, count=40)
        rows += [measure(shop, customer, products, n, args.quotes) for n in (5, 20)]
    finally:
        if not args.keep:
            wipe()

    print("queries: statements per quote, BEGIN and COMMIT included")
    print(f"{'lines':>5} {'configs':>7} {'queries':>7} {'engine median':>13} "
          f"{'engine p95':>10} {'service median':>14} {'service p95':>11}  total")
    for row in rows:
        print(f"{row['lines']:>5} {row['configurations']:>7} {row['queries']:>7} "
              f"{row['engine'][0]:>10.3f} ms {row['engine'][1]:>7.3f} ms "
              f"{row['service'][0]:>11.3f} ms {row['service'][1]:>8.3f} ms  {row['total']}")
    largest = rows[-1]
    constant = len({row["queries"] for row in rows}) == 1
    engine_ok = largest["engine"][0] < ENGINE_TARGET_MS
    service_ok = largest["service"][0] < SERVICE_TARGET_MS
    print(f"queries per quote constant across sizes: {'yes' if constant else 'NO'}")
    print(f"20 lines x 50 configurations: engine median {largest['engine'][0]:.3f} ms "
          f"(target < {ENGINE_TARGET_MS} ms: {'met' if engine_ok else 'MISSED'}), "
          f"service median {largest['service'][0]:.3f} ms "
          f"(target < {SERVICE_TARGET_MS} ms: {'met' if service_ok else 'MISSED'})")
    return 0 if constant else 1


if __name__ == "__main__":
    sys.exit(main())
