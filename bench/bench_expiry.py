"""Points expiry on the benchmark ledger: a first night, then the next night.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/patron_bench \\
        .venv/bin/python bench/bench_expiry.py [--keep]

Needs the ledger of `bench/generate.py` (or `--only ledger`). Before the run every `expired`
entry is removed, the balances are recomputed from the ledger and the policies' expiry marks
cleared (so the first night looks at the whole ledger, as the first run of a new policy
would); then `loyalty.points.points_expire` runs for every shop at the current hour (first
night) and again one day later (second night). Prints the wall time, the points and entries
expired of each night and checks that every balance equals its ledger. `--keep` leaves the
expired entries (no reset at the end).
"""

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/patron_bench")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from loyalty import points  # noqa: E402
from loyalty.models import PointsPolicy  # noqa: E402


def reset():
    with connection.cursor() as cur:
        cur.execute("DELETE FROM loyalty_pointsentry WHERE kind = 'expired'")
        cur.execute("""
            UPDATE loyalty_pointsaccount a SET balance = s.total
              FROM (SELECT customer_id, sum(points) AS total FROM loyalty_pointsentry
                     GROUP BY customer_id) s
             WHERE a.customer_id = s.customer_id AND a.balance <> s.total
        """)
        cur.execute("VACUUM ANALYZE loyalty_pointsentry")
        cur.execute("VACUUM ANALYZE loyalty_pointsaccount")
    PointsPolicy.objects.update(expiry_checked_before=None, expiry_checked_entry_id=None)


def night(shops, now):
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM loyalty_pointsentry WHERE kind = 'expired'")
        (before,) = cur.fetchone()
    start = time.perf_counter()
    expired = sum(points.points_expire(shop=shop, now=now) for shop in shops)
    seconds = time.perf_counter() - start
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM loyalty_pointsentry WHERE kind = 'expired'")
        (after,) = cur.fetchone()
    return seconds, expired, after - before


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run against PostgreSQL (DATABASE_URL), after bench/generate.py.")
    shops = [p.shop for p in PointsPolicy.objects.select_related("shop")
             .filter(expiry_months__isnull=False).order_by("shop")]
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM loyalty_pointsentry")
        (entries,) = cur.fetchone()
    print(f"ledger: {entries:,} entries, {len(shops)} shops with expiry")
    reset()
    # On the hour: runs within the same hour expire exactly the same entries.
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for label, moment in (("first night", now), ("second night", now + timedelta(days=1))):
        seconds, expired, written = night(shops, moment)
        print(f"{label:13s} {seconds:8.2f} s  {expired:,} points in {written:,} entries",
              flush=True)
    with connection.cursor() as cur:
        cur.execute("""
            SELECT count(*) FROM loyalty_pointsaccount a
              LEFT JOIN (SELECT customer_id, sum(points) AS total FROM loyalty_pointsentry
                          GROUP BY customer_id) s ON s.customer_id = a.customer_id
             WHERE a.balance <> coalesce(s.total, 0)
        """)
        (wrong,) = cur.fetchone()
    print(f"balances equal to their ledger: {'yes' if not wrong else f'NO ({wrong:,})'}")
    if not args.keep:
        reset()
    if wrong:
        sys.exit(1)


if __name__ == "__main__":
    main()
