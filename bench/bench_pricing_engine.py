"""Micro benchmark of the pure pricing engine (no database, no Django).

Prices a 20-line cart against 50 enabled configurations of every kind, many times, and prints
the median and p95 time per quote. Run: ``.venv/bin/python bench/bench_pricing_engine.py``
(options: ``--quotes N``, ``--profile``).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pricing.engine import (  # noqa: E402
    Cart,
    CartLine,
    CategoryDiscount,
    CumulativeDiscount,
    CumulativeTier,
    CustomerContext,
    LoyaltyCardDiscount,
    PromoCode,
    QuantityBasis,
    QuantityDiscount,
    QuantityProfile,
    QuantityTier,
    SegmentAdvantage,
    SegmentTier,
    SpecialOffer,
    ThresholdDiscount,
    ThresholdTier,
    quote,
)

MODES = ("sum", "sequential", "exclusive_if_higher")


def build_cart() -> Cart:
    profile = QuantityProfile(
        QuantityBasis.QUANTITY,
        (QuantityTier(Decimal(3), Decimal(2)), QuantityTier(Decimal(10), Decimal(5))),
    )
    lines = [
        CartLine(
            product_id=i,
            sku=f"SKU-{i:03}",
            name=f"Product {i}",
            quantity=1 + i % 5,
            unit_price=Decimal(19 + 7 * i) + Decimal("0.99"),
            minimum_price=Decimal(10 + 5 * i),
            collections=frozenset({f"C{i % 4}", "ALL"}),
            quantity_profile=profile if i % 3 == 0 else None,
        )
        for i in range(20)
    ]
    return Cart(lines=tuple(lines), currency_exponent=2, promo_code="SPRING10")


def build_discounts() -> list:
    configs: list = []

    def common(i: int) -> dict:
        return {
            "id": i,
            "name": f"discount {i}",
            "client_type": "retail",
            "stacking": MODES[i % 3],
            "position": i,
        }

    for i in range(8):
        tiers = tuple(
            ThresholdTier(Decimal(100 * (t + 1) * (i + 1)), Decimal(t + 1), 10 * t, (900 + t,))
            for t in range(4)
        )
        configs.append(ThresholdDiscount(**common(len(configs)), tiers=tiers))
    for i in range(6):
        tiers = tuple(
            CumulativeTier(Decimal(1000 * (t + 1) + 100 * i), Decimal(t + 2)) for t in range(5)
        )
        configs.append(CumulativeDiscount(**common(len(configs)), tiers=tiers))
    for _ in range(3):
        configs.append(QuantityDiscount(**common(len(configs))))
    for i in range(10):
        configs.append(
            SpecialOffer(
                **common(len(configs)),
                collection=f"C{i % 5}",
                buy_quantity=2 + i % 3,
                free_quantity=1,
            )
        )
    for i in range(8):
        configs.append(
            PromoCode(
                **common(len(configs)),
                code="SPRING10" if i < 2 else f"CODE{i}",
                percent=Decimal(10) if i % 2 == 0 else None,
                amount=None if i % 2 == 0 else Decimal(25),
                valid_from=date(2025, 1, 1),
                valid_until=date(2025, 12, 31),
                usage_limit=1000,
                usage_limit_per_customer=3,
                minimum_order_value=Decimal(100),
                combinable=i != 1,
            )
        )
    for _ in range(3):
        configs.append(CategoryDiscount(**common(len(configs))))
    for _ in range(2):
        configs.append(LoyaltyCardDiscount(**common(len(configs))))
    for i in range(10):
        tiers = (
            SegmentTier(Decimal(50), amount_off=Decimal(5)),
            SegmentTier(Decimal(150), percent_off=Decimal(10), free_shipping=True),
        )
        configs.append(
            SegmentAdvantage(
                **common(len(configs)),
                segment_id=i,
                tiers=tiers,
                earns_points=i % 2 == 0,
                applies_with_promo_code=i % 3 != 0,
            )
        )
    assert len(configs) == 50
    return configs


def build_customer() -> CustomerContext:
    return CustomerContext(
        client_type="retail",
        today=date(2025, 6, 1),
        lifetime_spend=Decimal("3456.70"),
        category_percent=Decimal(7),
        loyalty_card_percent=Decimal(12),
        segment_ids=frozenset(range(0, 10, 2)),
        bonus_percent=Decimal(3),
        promo_code_uses_by_customer=1,
        promo_code_uses_total=10,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quotes", type=int, default=2000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    cart, customer, discounts = build_cart(), build_customer(), build_discounts()
    result = quote(cart, customer, discounts)
    for _ in range(100):  # warm-up
        quote(cart, customer, discounts)

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.quotes):
            quote(cart, customer, discounts)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        return

    timings = []
    for _ in range(args.quotes):
        start = time.perf_counter_ns()
        quote(cart, customer, discounts)
        timings.append(time.perf_counter_ns() - start)
    timings.sort()
    median_ms = statistics.median(timings) / 1e6
    p95_ms = timings[int(len(timings) * 0.95) - 1] / 1e6
    applied = sum(1 for entry in result.breakdown if entry.status == "applied")
    print(
        f"lines={len(cart.lines)} configurations={len(discounts)} quotes={args.quotes} "
        f"applied={applied} total={result.total} goods={result.goods_total}"
    )
    print(f"median {median_ms:.3f} ms per quote, p95 {p95_ms:.3f} ms")


if __name__ == "__main__":
    main()
