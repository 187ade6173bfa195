"""The what-if simulator: a 52-week replay of one shop's ladder on the 1M benchmark.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/patron_bench_sim \
        .venv/bin/python bench/bench_simulator.py [--shop pl] [--weeks 52] [--repeat 1]

Needs data from bench/generate.py (PostgreSQL) and the migrations of this branch applied.
The shop's categories are replayed with the E1-style rules of bench_recalculation.py, as an
unsaved ladder snapshot (the categories' rows are not changed): Member (default), Silver
(retail, spend in the last 60 days >= 1000 and >= 2 counted orders in 60 days; a 3%
discount program) and Gold (retail, spend in 60 days >= 3000 and >= 3 orders; bonus points,
2% below 5000 of lifetime spend, 3% from 5000). So that every part of the replay is timed,
the shop is given (once) an enabled category discount for retail customers and email
templates for category up, down and order completed (the benchmark data has none).

Prints the set-up time (the customers' starting categories from the history, the figures
before the first week), the median time of one week, the total, and the first and last
weeks' figures.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/patron_bench_sim")

import django  # noqa: E402

django.setup()

from datetime import timedelta  # noqa: E402

from loyalty.simulator import engine, snapshot  # noqa: E402
from notifications.models import MessageTemplate  # noqa: E402
from pricing.models import CategoryDiscount  # noqa: E402
from shops.models import Shop  # noqa: E402


def condition(kind, **values):
    base = {"kind": kind, "operator": "gte", "amount": None, "count": None, "days": None,
            "client_type": "", "text": "", "product_id": None, "collection_id": None,
            "id": None}
    return {**base, **values}


def bench_ladder(shop) -> dict:
    ladder = snapshot.take(shop)
    by_rank = sorted(ladder["categories"], key=lambda c: c["rank"])
    member, silver, gold = by_rank[0], by_rank[1], by_rank[-1]
    member["rules"] = []
    silver.update(program="discount", discount_percent="3.00", rules=[{
        "id": None, "name": "Silver", "conditions": [
            condition("client_type", client_type="retail"),
            condition("window_spend", days=60, amount="1000.00"),
            condition("window_orders", days=60, count=2)]}])
    gold.update(program="bonus", bonus=["inclusive", [["0.00", "2.00"], ["5000.00", "3.00"]]],
                rules=[{"id": None, "name": "Gold", "conditions": [
                    condition("client_type", client_type="retail"),
                    condition("window_spend", days=60, amount="3000.00"),
                    condition("window_orders", days=60, count=3)]}])
    return ladder


def prepare(shop) -> None:
    CategoryDiscount.objects.get_or_create(shop=shop, client_type="retail", name="Category")
    for event in ("category_up", "category_down", "order_completed"):
        MessageTemplate.objects.get_or_create(
            shop=shop, event=event, channel="email",
            defaults={"subject": "{{ shop_name }}", "body": "{{ customer_name }}"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shop", default="pl")
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    shop = Shop.objects.get(code=args.shop)
    prepare(shop)
    ladder = bench_ladder(shop)
    ends = engine.week_ends(shop.today() - timedelta(days=1), args.weeks)
    for attempt in range(args.repeat):
        started = time.perf_counter()
        marks = []
        with engine.Replay(shop, ladder, ends, table="loyalty_sim_bench") as replay:
            setup = time.perf_counter() - started
            weeks = []
            for k in range(len(ends)):
                t0 = time.perf_counter()
                weeks.append(replay.week(k))
                marks.append(time.perf_counter() - t0)
        total = time.perf_counter() - started
        print(f"run {attempt + 1}: shop {shop.code}, {len(ends)} weeks "
              f"({ends[0]} .. {ends[-1]})")
        print(f"  set-up {setup:.1f} s; one week: median {statistics.median(marks):.2f} s, "
              f"max {max(marks):.2f} s; total {total:.1f} s")
        for week in (weeks[0], weeks[-1]):
            print(f"  week {week.index + 1} ({week.end}): customers {week.customers}, "
                  f"up {week.moved_up}, down {week.moved_down}, orders {week.orders}, "
                  f"discount {week.discount}, points {week.points}, "
                  f"messages {week.messages}")
        print(f"  all weeks: discount {sum(w.discount for w in weeks)}, "
              f"points {sum(w.points for w in weeks)}, "
              f"moves {sum(w.moved_up + w.moved_down for w in weeks)}")


if __name__ == "__main__":
    main()
