"""Recording outbox messages for one recalculation batch, and claiming them for delivery.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/patron_notify_bench \\
        .venv/bin/python bench/bench_notifications.py [--batch 5000] [--runs 5] [--keep]

(without DATABASE_URL the default SQLite database is used). The database must be migrated.
The script builds its own shop (code ``bench-notify``: `--batch` customers with email and
phone, mixed languages, a third opted out of SMS, SMS on), writes one CategoryChange per
customer as a recalculation batch does, and measures, each run in a transaction rolled back:

- ``record``: `notifications.services.messages_for_category_changes` for the whole batch
  (email + SMS: about 1.67 messages per move), with its query count;
- ``claim``: `notifications.delivery.claim(limit=50)` on the recorded messages.

It prints the median and p95 of each, and the cost per message. The shop is removed at the
end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "0")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from loyalty.models import Category, CategoryChange  # noqa: E402
from notifications import delivery, services  # noqa: E402
from notifications.models import ChannelSettings, Consent, Message  # noqa: E402
from shops.models import Customer, Shop  # noqa: E402

SHOP_CODE = "bench-notify"
LANGS = ("", "pl", "uk", "ru", "fr", "en")


class Rollback(Exception):
    pass


def wipe() -> None:
    shop = Shop.objects.filter(code=SHOP_CODE).first()
    if shop is None:
        return
    Message.objects.filter(shop=shop).delete()
    CategoryChange.objects.filter(shop=shop).delete()
    Customer.objects.filter(shop=shop).delete()
    Category.objects.filter(shop=shop).delete()
    shop.delete()


def build(batch: int) -> list[int]:
    shop = Shop.objects.create(code=SHOP_CODE, name="Bench", currency="UAH",
                               default_language="uk")
    ChannelSettings.objects.create(shop=shop, sms_enabled=True)
    member = Category.objects.create(shop=shop, name="Member", rank=1, is_default=True)
    silver = Category.objects.create(
        shop=shop, name="Silver", name_uk="Срібний", name_pl="Srebrny", rank=2
    )
    customers = Customer.objects.bulk_create(
        Customer(shop=shop, external_id=f"B{i:07d}", name=f"Клієнт {i}",
                 email=f"b{i}@example.com", phone=f"+38067{i:07d}",
                 language=LANGS[i % len(LANGS)], category=silver)
        for i in range(batch)
    )
    Consent.objects.bulk_create(Consent(customer=c, sms=False) for c in customers[::3])
    changes = CategoryChange.objects.bulk_create(
        CategoryChange(shop=shop, customer=c, from_category=member, to_category=silver,
                       reason="rule", direction=1, as_of=shop.today())
        for c in customers
    )
    return [c.pk for c in changes]


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    wipe()
    change_ids = build(args.batch)
    shop_id = Shop.objects.get(code=SHOP_CODE).pk
    record_ms, claim_ms, written, queries = [], [], 0, 0
    try:
        for _ in range(args.runs):
            try:
                with transaction.atomic():
                    with CaptureQueriesContext(connection) as ctx:
                        ms, written = timed(lambda: services.messages_for_category_changes(
                            shop_id=shop_id, change_ids=change_ids))
                    record_ms.append(ms)
                    queries = len(ctx)
                    ms, _claimed = timed(lambda: delivery.claim(limit=50))
                    claim_ms.append(ms)
                    raise Rollback
            except Rollback:
                pass
    finally:
        if not args.keep:
            wipe()

    def p95(values):
        return sorted(values)[max(0, round(0.95 * len(values)) - 1)]

    print(f"database: {connection.vendor}; batch {args.batch} moves -> {written} messages; "
          f"{queries} queries to record them")
    median = statistics.median(record_ms)
    print(f"record: median {median:.0f} ms, p95 {p95(record_ms):.0f} ms "
          f"({1000 * median / max(written, 1):.0f} µs per message)")
    print(f"claim 50: median {statistics.median(claim_ms):.1f} ms, p95 {p95(claim_ms):.1f} ms")


if __name__ == "__main__":
    main()
