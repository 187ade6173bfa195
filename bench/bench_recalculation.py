"""Full category recalculation: the service against one hand-written SQL statement.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/patron_bench \
        .venv/bin/python bench/bench_recalculation.py [--repeat 3] [--batch-size 5000]

Needs data from bench/generate.py (PostgreSQL), after one night (`manage.py nightly`: the
statistics rollup both sides keep). Every shop gets the same E1-style ladder:
Member (default), "-20%" (retail, spend in the last 60 days >= 1000, >= 2 counted orders in
60 days) and Gold (retail, spend in 60 days >= 3000, >= 3 orders). Before each run all
customers are reset to Member with no history; then either

- service: loyalty.services.categories_recalculate for each shop (a snapshot of the shop's
  figures, one pass listing the customers who may move, batches of them decided by the
  pure decide() and written in bulk), or
- reference: one SQL statement per shop that aggregates, decides, updates the changed and
  inserts their history rows,

and then the category-change messages and the statistics rollup: the service writes them
through its handlers (notifications.change_messages, loyalty.rollup.rollup_moves), the
reference with two more hand-written statements per shop, an INSERT ... SELECT that fills
the default email templates by replace() and an upsert that moves the movers' rolled-up
orders between categories. The resulting category of every customer, the history count,
the outbox (recipients, languages, subjects, bodies) and the rollup are compared (they must
be identical). Prints
the median wall time of each, their ratio, the service's rows per second and the peak RSS
of this Python process.
"""

import argparse
import os
import resource
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/patron_bench")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from loyalty import services  # noqa: E402
from loyalty.figures import local_midnight, window_start  # noqa: E402
from loyalty.models import Category, Condition, RecalculationRun, Rule  # noqa: E402
from loyalty.rollup import rolled_up_through  # noqa: E402
from notifications import selectors  # noqa: E402
from shops.languages import translated  # noqa: E402
from shops.models import Customer, Shop  # noqa: E402

REFERENCE_SQL = """
WITH figures AS (
    SELECT o.customer_id,
           SUM(o.goods_total - o.returned_total) AS spend,
           COUNT(*) AS orders
      FROM shops_order o
     WHERE o.shop_id = %(shop)s AND o.status = 'completed' AND o.paid_in_full
       AND o.placed_at >= %(since)s AND o.placed_at < %(until)s
     GROUP BY o.customer_id
), decided AS (
    SELECT c.id, c.category_id AS from_id, f.spend, f.orders,
           CASE WHEN c.client_type = 'retail' AND f.spend >= 3000 AND f.orders >= 3
                THEN %(gold)s
                WHEN c.client_type = 'retail' AND f.spend >= 1000 AND f.orders >= 2
                THEN %(group)s
                ELSE %(member)s END AS to_id
      FROM shops_customer c
      LEFT JOIN figures f ON f.customer_id = c.id
     WHERE c.shop_id = %(shop)s AND NOT c.category_locked
), moved AS (
    UPDATE shops_customer c SET category_id = d.to_id
      FROM decided d
     WHERE c.id = d.id AND d.to_id IS DISTINCT FROM d.from_id
 RETURNING c.id, d.from_id, d.to_id, d.spend, d.orders
)
INSERT INTO loyalty_categorychange
       (shop_id, customer_id, from_category_id, to_category_id, changed_at, as_of, reason,
        direction, rule_id, figures, note)
SELECT %(shop)s, m.id, m.from_id, m.to_id, now(), %(as_of)s, 'rule',
       CASE WHEN m.to_id = %(member)s THEN -1 ELSE 1 END,
       NULL,
       jsonb_build_object('client_type', 'retail', 'window_spend_60d', m.spend::text,
                          'window_orders_60d', m.orders),
       ''
  FROM moved m
"""


MESSAGES_SQL = """
INSERT INTO notifications_message
       (shop_id, customer_id, event, channel, language, recipient, subject, body, status,
        attempts, next_attempt_at, last_error, created_at, idempotency_key, dedup_key,
        category_change_id, cost_currency)
SELECT ch.shop_id, ch.customer_id, t.event, 'email', t.lang, c.email,
       left({subject}, 300), {body}, 'pending', 0, now(), '', now(), gen_random_uuid(),
       'change:' || ch.id || ':email', ch.id, 'PLN'
  FROM loyalty_categorychange ch
  JOIN shops_customer c ON c.id = ch.customer_id
  JOIN loyalty_category tc ON tc.id = ch.to_category_id
  LEFT JOIN loyalty_category fc ON fc.id = ch.from_category_id
  JOIN (VALUES {texts}) t (lang, event, subject, body)
    ON t.lang = CASE WHEN c.language = ANY(%(known)s) THEN c.language ELSE %(shop_lang)s END
   AND t.event = CASE WHEN ch.direction > 0 THEN 'category_up' ELSE 'category_down' END
  LEFT JOIN loyalty_pointsaccount a ON a.customer_id = c.id
  LEFT JOIN notifications_consent k ON k.customer_id = c.id
 WHERE ch.shop_id = %(shop)s AND c.email <> '' AND (k.id IS NULL OR k.email)
"""


def filled(column):
    """The template column with its variables replaced (the default texts print them bare)."""
    sql = column
    for name, value in (("customer_name", "c.name"), ("shop_name", "%(shop_name)s"),
                        ("old_category", "coalesce(fc.name, '')"),
                        ("new_category", "tc.name"),
                        ("balance", "coalesce(a.balance, 0)::text")):
        sql = f"replace({sql}, '{{{{ {name} }}}}', {value})"
    return sql


def messages_sql(shop):
    """The reference's message INSERT for a shop, with its email templates' texts, and its
    parameters (the shop must send email only, as generated)."""
    cfg = selectors.channel_settings(shop.pk)
    assert selectors.channels_on(cfg, shop.currency) == ["email"], "bench shops send email only"
    chosen = selectors.templates(shop.pk)
    known = [code for code, _ in settings.LANGUAGES]
    rows, params = [], {"shop": shop.pk, "shop_name": shop.name, "known": known,
                        "shop_lang": shop.default_language}
    for event in ("category_up", "category_down"):
        template = chosen.get((event, "email"))
        if template is None:
            continue
        for lang in known:
            langs = [lang, shop.default_language, settings.MODELTRANSLATION_DEFAULT_LANGUAGE]
            i = len(rows)
            rows.append(f"(%(l{i})s, %(e{i})s, %(s{i})s, %(b{i})s)")
            params.update({f"l{i}": lang, f"e{i}": event,
                           f"s{i}": translated(template, "subject", langs),
                           f"b{i}": translated(template, "body", langs)})
    if not rows:
        return None, params
    sql = MESSAGES_SQL.format(subject=filled("t.subject"), body=filled("t.body"),
                              texts=", ".join(rows))
    return sql, params


def ladder(shop):
    """Create (once) the benchmark ladder; returns (member, group, gold) ids."""
    with transaction.atomic():
        Category.objects.filter(shop=shop).exclude(name__startswith="bench:").update(
            is_default=False
        )
        specs = [
            ("bench:Member", 1001, True, None),
            ("bench:-20%", 1002, False, (Decimal(1000), 2)),
            ("bench:Gold", 1003, False, (Decimal(3000), 3)),
        ]
        ids = []
        for name, rank, default, rule in specs:
            category, created = Category.objects.get_or_create(
                shop=shop, name=name, defaults={"rank": rank, "is_default": default},
            )
            if created and rule:
                r = Rule.objects.create(category=category, name=f"{name} rule")
                Condition.objects.bulk_create([
                    Condition(rule=r, kind="client_type", client_type="retail"),
                    Condition(rule=r, kind="window_spend", days=60, amount=rule[0]),
                    Condition(rule=r, kind="window_orders", days=60, count=rule[1]),
                ])
            ids.append(category.pk)
        # Only the bench ladder counts: other categories of the shop are removed.
        Category.objects.filter(shop=shop).exclude(pk__in=ids).delete()
    return ids


#: The statistics rollup (orders per day by the customer's category now): the movers' rolled-up
#: counted orders leave the category they left and join the one they entered, as the service's
#: rollup handler does (loyalty.rollup.rollup_moves). The run's moves are the shop's history
#: (the bench empties it before each run).
ROLLUP_SQL = """
WITH daily AS (
    SELECT (o.placed_at AT TIME ZONE %(tz)s)::date AS day, ch.from_category_id AS from_id,
           ch.to_category_id AS to_id, COUNT(*) AS n, SUM(o.goods_total - o.returned_total) AS total
      FROM loyalty_categorychange ch
      JOIN shops_order o ON o.customer_id = ch.customer_id
     WHERE ch.shop_id = %(shop)s AND o.shop_id = %(shop)s AND o.status = 'completed'
       AND o.paid_in_full AND o.placed_at < %(until)s
     GROUP BY 1, 2, 3
), delta AS (
    SELECT day, from_id AS category_id, -n AS n, -total AS total FROM daily
    UNION ALL
    SELECT day, to_id, n, total FROM daily
)
INSERT INTO loyalty_dailyorders AS t (shop_id, day, category_id, orders, total)
SELECT %(shop)s, day, category_id, SUM(n), SUM(total) FROM delta
 GROUP BY day, category_id HAVING SUM(n) <> 0 OR SUM(total) <> 0
ON CONFLICT (shop_id, day, category_id) DO UPDATE
   SET orders = t.orders + excluded.orders, total = t.total + excluded.total
"""


def rollup_until(shop):
    """The end of the shop's last rolled-up day, or None (no rollup: nothing to keep)."""
    through = rolled_up_through(shop)
    return None if through is None else local_midnight(shop, through + timedelta(days=1))


def reset(shops_ids):
    with connection.cursor() as cur:
        # The outbox refers to the history (and holds nothing else in a bench database).
        cur.execute("TRUNCATE notifications_message, loyalty_categorychange")
        # The rollup as it was when the bench started (bench_dailyorders), every customer's
        # orders in Member (where the reset puts them), so that each run moves the same rows.
        cur.execute("DELETE FROM loyalty_dailyorders")
        for shop, (member, _, _) in shops_ids:
            cur.execute(
                "UPDATE shops_customer SET category_id = %s, category_locked = false "
                "WHERE shop_id = %s", [member, shop.pk],
            )
            cur.execute(
                "INSERT INTO loyalty_dailyorders (shop_id, day, category_id, orders, total)"
                " SELECT shop_id, day, %s, SUM(orders), SUM(total) FROM bench_dailyorders"
                " WHERE shop_id = %s GROUP BY shop_id, day", [member, shop.pk],
            )
        cur.execute("VACUUM ANALYZE shops_customer")
        cur.execute("ANALYZE loyalty_dailyorders")
        # The reset rewrote every customer: a checkpoint now, so that neither side pays for
        # flushing the reset's pages (a checkpoint inside a run had made it 30% slower).
        cur.execute("CHECKPOINT")
    RecalculationRun.objects.all().delete()


def snapshot():
    with connection.cursor() as cur:
        cur.execute(
            "SELECT md5(string_agg(id || ':' || coalesce(category_id, 0), ',' ORDER BY id))"
            " FROM shops_customer"
        )
        (digest,) = cur.fetchone()
        cur.execute("SELECT count(*) FROM loyalty_categorychange")
        (history,) = cur.fetchone()
        cur.execute(
            "SELECT count(*), md5(coalesce(string_agg(concat_ws('|', m.customer_id, m.event,"
            " m.channel, m.language, m.recipient, m.subject, m.body, m.status, m.dedup_key"
            " ~ '^change:[0-9]+:email$'), ',' ORDER BY m.customer_id, m.event), ''))"
            " FROM notifications_message m"
        )
        outbox = cur.fetchone()
        cur.execute(
            "SELECT md5(coalesce(string_agg(concat_ws('|', shop_id, day, category_id, orders,"
            " total), ',' ORDER BY shop_id, day, category_id), '')) FROM loyalty_dailyorders"
            " WHERE orders <> 0 OR total <> 0"
        )
        (rollup,) = cur.fetchone()
    return digest, history, outbox, rollup


def run_service(shops_ids, batch_size):
    moved = 0
    start = time.perf_counter()
    for shop, _ in shops_ids:
        summary = services.categories_recalculate(shop=shop, batch_size=batch_size)
        moved += summary.moved_up + summary.moved_down
    return time.perf_counter() - start, moved


def run_reference(shops_ids):
    """(wall time, moves, of the wall time the rollup statements')."""
    start = time.perf_counter()
    moved, rollup = 0, 0.0
    with connection.cursor() as cur:
        for shop, (member, group, gold) in shops_ids:
            as_of = shop.today()
            with transaction.atomic():
                cur.execute(REFERENCE_SQL, {
                    "shop": shop.pk, "member": member, "group": group, "gold": gold,
                    "as_of": as_of,
                    "since": window_start(shop, as_of, 60),
                    "until": local_midnight(shop, as_of + timedelta(days=1)),
                })
                moved += cur.rowcount
                sql, params = messages_sql(shop)
                if sql:
                    cur.execute(sql, params)
                if (until := rollup_until(shop)) is not None:
                    began = time.perf_counter()
                    cur.execute(ROLLUP_SQL, {"shop": shop.pk, "tz": shop.timezone,
                                             "until": until})
                    rollup += time.perf_counter() - began
    return time.perf_counter() - start, moved, rollup


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=services.BATCH_SIZE)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run against PostgreSQL (DATABASE_URL), after bench/generate.py.")
    shops = list(Shop.objects.order_by("pk"))
    shops_ids = [(shop, ladder(shop)) for shop in shops]
    customers = Customer.objects.count()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM shops_order")
        (orders,) = cur.fetchone()
    print(f"data: {customers:,} customers, {orders:,} orders, {len(shops)} shops")

    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_dailyorders")
        cur.execute("CREATE TABLE bench_dailyorders AS"
                    " SELECT shop_id, day, category_id, orders, total FROM loyalty_dailyorders")
    timings = {"service": [], "reference": [], "reference without rollup": []}
    results = {}
    for i in range(args.repeat):
        for name in ("reference", "service") if i % 2 else ("service", "reference"):
            reset(shops_ids)
            if name == "service":
                seconds, moved = run_service(shops_ids, args.batch_size)
            else:
                seconds, moved, rollup = run_reference(shops_ids)
                timings["reference without rollup"].append(seconds - rollup)
            timings[name].append(seconds)
            snap = snapshot()
            results.setdefault(name, set()).add((snap, moved))
            print(f"  run {i + 1} {name:9s} {seconds:7.2f} s  moved {moved:,}  "
                  f"outbox rows {snap[2][0]:,}  rollup {snap[3][:8]}", flush=True)

    same = results["service"] == results["reference"] and len(results["service"]) == 1
    service, reference = (statistics.median(timings[k]) for k in ("service", "reference"))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with connection.cursor() as cur:  # the rollup stays as the last run left it
        cur.execute("DROP TABLE bench_dailyorders")
    print(f"identical decisions, history counts, outbox and rollup: {'yes' if same else 'NO'}")
    print(f"service   median {service:.2f} s  ({customers / service:,.0f} customers/s)")
    print(f"reference median {reference:.2f} s  ({customers / reference:,.0f} customers/s)")
    print(f"ratio service/reference: {service / reference:.2f}x")
    # The reference's own statements less its rollup upserts: what it did before the
    # service kept a statistics rollup (the service's work is the same in both).
    bare = statistics.median(timings["reference without rollup"])
    print(f"reference without its rollup statements median {bare:.2f} s; "
          f"ratio service/that: {service / bare:.2f}x")
    print(f"peak RSS of this Python process: {peak_mb:,.0f} MB")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
