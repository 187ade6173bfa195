"""Loyalty data for the benchmark database, after bench/generate.py's shops data (or alone on
a generated database: ``bench/generate.py --only templates,ladder,ledger``).

- templates: the default message templates (notifications/defaults.py), re-seeded: the
  shops TRUNCATE ... CASCADE empties their table. A default that exists is left as it is.
- ladder: Member (default) / Silver / Gold per shop, entered by the spend of counted orders
  in the last 365 days (>= 1000 / >= 5000 in the shop's currency; in UAH 10,000 / 50,000),
  and every customer placed in it by one UPDATE per shop (no history rows).
- ledger: a points policy (12-month expiry) and a bonus program (2% / 3% / 5%) on each
  shop's default category; an `earned` entry (2% of the net value) for every counted order,
  dated when it was placed; a redemption of half the points earned so far at the 5th counted
  order of ~40% of the customers (never more than the balance); the balances from the
  ledger. About 8.4M entries at 1M customers / 10M orders. The old ledger is emptied first.
All big steps are INSERT/UPDATE ... SELECT on the server.
"""

from __future__ import annotations

from decimal import Decimal

STEPS = ("templates", "ladder", "ledger")
#: (Silver, Gold) starts of the 365-day spend, per currency (a UAH is worth ~1/10 PLN).
LADDER = {"UAH": (Decimal(10_000), Decimal(50_000))}
LADDER_DEFAULT = (Decimal(1_000), Decimal(5_000))
COUNTED = "o.status = 'completed' AND o.paid_in_full"


def seed_templates() -> int:
    from notifications import defaults
    from notifications.models import Channel, MessageTemplate

    created = 0
    for event in defaults.TEXTS:
        for channel in Channel.values:
            _, new = MessageTemplate.objects.get_or_create(
                shop=None, event=event, channel=channel,
                defaults=defaults.template_fields(event, channel))
            created += new
    return created


def build_ladder(conn, now_sql: str) -> None:
    from loyalty.models import Category, Condition, Rule
    from shops.models import Shop

    for shop in Shop.objects.order_by("pk"):
        silver_from, gold_from = LADDER.get(shop.currency, LADDER_DEFAULT)
        Category.objects.filter(shop=shop).update(is_default=False)
        ids = {}
        for name, rank, start in (("Member", 1, None), ("Silver", 2, silver_from),
                                  ("Gold", 3, gold_from)):
            category, created = Category.objects.update_or_create(
                shop=shop, name=name, defaults={"rank": rank, "is_default": start is None})
            if created and start is not None:
                rule = Rule.objects.create(category=category, name=f"{name}: 365-day spend")
                Condition.objects.create(rule=rule, kind="window_spend", days=365,
                                         amount=start)
            ids[name] = category.pk
        conn.execute("UPDATE shops_customer SET category_id = %s WHERE shop_id = %s",
                     [ids["Member"], shop.pk])
        conn.execute(f"""
            UPDATE shops_customer c
               SET category_id = CASE WHEN f.spend >= %(gold_from)s THEN %(gold)s
                                      ELSE %(silver)s END
              FROM (SELECT o.customer_id, SUM(o.goods_total - o.returned_total) AS spend
                      FROM shops_order o
                     WHERE o.shop_id = %(shop)s AND {COUNTED}
                       AND o.placed_at >= {now_sql} - interval '365 days'
                     GROUP BY o.customer_id) f
             WHERE c.id = f.customer_id AND f.spend >= %(silver_from)s
        """, {"gold_from": gold_from, "silver_from": silver_from, "gold": ids["Gold"],
              "silver": ids["Silver"], "shop": shop.pk})
    conn.execute("VACUUM (ANALYZE) shops_customer")


LEDGER_TABLES = ("loyalty_pointsentry", "loyalty_pointsaccount")


def prepare_ledger(conn) -> None:
    """The policies and bonus programs; the old ledger emptied."""
    from djmoney.money import Money

    from loyalty.models import BonusProgram, BonusTier, Category, PointsPolicy
    from shops.models import Shop

    for shop in Shop.objects.order_by("pk"):
        PointsPolicy.objects.update_or_create(shop=shop, defaults={
            "point_value": Money("0.10", shop.currency), "expiry_months": 12,
            "expiry_checked_before": None, "expiry_checked_entry_id": None})
        default = Category.objects.filter(shop=shop, is_default=True).first()
        if default is None:
            continue
        Category.objects.filter(pk=default.pk).update(program="bonus")
        program, created = BonusProgram.objects.get_or_create(
            category=default, defaults={"name": "Bench bonus"})
        if created:
            silver_from, gold_from = LADDER.get(shop.currency, LADDER_DEFAULT)
            for start, percent in ((0, 2), (silver_from, 3), (gold_from, 5)):
                BonusTier.objects.create(program=program, percent=Decimal(percent),
                                         min_lifetime_spend=Money(start, shop.currency))
    conn.execute("TRUNCATE loyalty_pointsentry, loyalty_pointsaccount")


def load_ledger(conn, r) -> None:
    """The entries and balances (`r(key, salt)`: the generator's uniform [0, 1) hash)."""
    points = "floor((o.goods_total - o.returned_total) * 2 / 100)::bigint"
    conn.execute(f"""
        INSERT INTO loyalty_pointsentry (shop_id, customer_id, kind, points, created_at,
                                         order_id, reason, percent)
        SELECT o.shop_id, o.customer_id, 'earned', {points}, o.placed_at, o.id, '', 2
          FROM shops_order o WHERE {COUNTED}
    """)
    conn.execute(f"""
        INSERT INTO loyalty_pointsentry (shop_id, customer_id, kind, points, created_at,
                                         order_id, reason)
        SELECT shop_id, customer_id, 'spent', -floor(before / 2)::bigint,
               placed_at + interval '1 minute', id, ''
          FROM (SELECT o.id, o.shop_id, o.customer_id, o.placed_at,
                       row_number() OVER w AS n,
                       coalesce(sum({points}) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING
                                                    AND 1 PRECEDING), 0) AS before
                  FROM shops_order o WHERE {COUNTED}
                WINDOW w AS (PARTITION BY o.customer_id ORDER BY o.placed_at, o.id)) t
         WHERE n = 5 AND before >= 2 AND {r('customer_id', 61)} < 0.4
    """)
    conn.execute("""
        INSERT INTO loyalty_pointsaccount (customer_id, shop_id, balance)
        SELECT customer_id, min(shop_id), sum(points) FROM loyalty_pointsentry
         GROUP BY customer_id
    """)
