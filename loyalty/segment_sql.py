"""Segments compiled to SQL, for the full refresh of a shop's membership.

`Snapshot` aggregates the shop's counted orders once into a temporary table (the figures of
loyalty.figures, plus one count per shipping method the segments name, over the whole
history), and the purchases the segments ask about into a second one. Each segment's rules
become one SQL predicate over the customer (`c`) and their snapshot row (`f`); `write`
deletes the members for whom it no longer holds and inserts those for whom it now holds
(two statements, whatever the number of customers).

Every condition kind compiles, with the comparison rules of loyalty.conditions (the
reference, used for single customers and in the tests that compare both):
- the figures of the category ladder compile as loyalty.prefilter does (half a cent of
  margin on amounts, the same shop-local windows);
- purchases: EXISTS in the purchases table; shipping methods: exact names, as the figures
  loader filters them;
- delivery city: Python's rule (strip, case-fold) is applied to the shop's distinct city
  values, and the SQL matches the values that pass (`c.city IN (...)`), so the comparison
  is Python's on both databases.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from django.db import connection
from django.db.models import Count, F, Q

from shops.counting import prefixed
from shops.models import Customer, OrderLine, Shop

from . import conditions as c
from . import figures as figures_db
from . import prefilter, temp_tables
from .membership import SegmentSpec
from .models import SegmentMember


class Snapshot:
    def __init__(self, shop: Shop, specs: list[SegmentSpec], as_of: date):
        self.shop, self.as_of = shop, as_of
        needs = c.needs_of(specs)
        self.methods = sorted(needs.shipping_methods)
        if self.methods:  # shipping counts are over the whole history
            needs = dataclasses.replace(needs, lifetime_orders=True)
        self.needs = needs
        self.figures = f"loyalty_segment_figures_{shop.pk}"
        self.purchases = f"loyalty_segment_purchases_{shop.pk}"
        self._cities: list[str] | None = None

    # --- the temporary tables ---

    def __enter__(self) -> Snapshot:
        shop, needs, as_of = self.shop, self.needs, self.as_of
        if needs.orders_at_all:
            orders = figures_db._order_figures(shop, needs, as_of)
            if self.methods:
                orders = orders.annotate(**{
                    f"ship_{i}": Count("pk", filter=Q(shipping_method=method))
                    for i, method in enumerate(self.methods)
                })
            figures = orders.query.sql_with_params()
        else:  # no figure from orders: an empty table keeps the join valid
            figures = ("SELECT 0 AS customer_id WHERE 1 = 0", ())
        counted, _ = prefixed("order__")
        lines = OrderLine.objects.filter(
            counted, order__shop=shop,
            order__placed_at__lt=figures_db.local_midnight(shop, as_of + timedelta(days=1)),
        )
        bought = lines.filter(product_id__in=needs.products).annotate(
            cid=F("order__customer_id"), ref=F("product_id"), what=F("product_id") * 0
        ).values("cid", "ref", "what")
        within = lines.filter(product__collections__in=needs.collections).annotate(
            cid=F("order__customer_id"), ref=F("product__collections"),
            what=F("product_id") * 0 + 1,
        ).values("cid", "ref", "what")
        if needs.products or needs.collections:  # an empty part of the UNION is left out
            purchases = bought.union(within).query.sql_with_params()
        else:
            purchases = ("SELECT 0 AS cid, 0 AS ref, 0 AS what WHERE 1 = 0", ())
        temp_tables.create(
            temp_tables.TempTable(self.figures, *figures, unique=True),
            temp_tables.TempTable(self.purchases, *purchases, index=("cid", "what", "ref")),
        )
        return self

    def __exit__(self, *exc) -> None:
        temp_tables.drop(self.figures, self.purchases)

    # --- predicates ---

    def _cities_matching(self, text: str) -> list[str]:
        if self._cities is None:
            self._cities = list(
                Customer.objects.filter(shop=self.shop).order_by().values_list("city", flat=True)
                .distinct()
            )
        wanted = text.strip().casefold()
        return [city for city in self._cities if city.strip().casefold() == wanted]

    def _last_order_before(self, days: int):
        return figures_db.local_midnight(self.shop, self.as_of - timedelta(days=days - 1))

    def condition(self, cond: c.ConditionSpec) -> tuple[str, list]:
        kind = cond.kind
        if kind in (c.BOUGHT_PRODUCT, c.BOUGHT_COLLECTION):
            ref = cond.product_id if kind == c.BOUGHT_PRODUCT else cond.collection_id
            if ref is None:
                return "1 = 0", []
            return (f"EXISTS (SELECT 1 FROM {self.purchases} p WHERE p.cid = c.id"  # noqa: S608
                    f" AND p.what = %s AND p.ref = %s)",
                    [0 if kind == c.BOUGHT_PRODUCT else 1, ref])
        if kind == c.SHIPPING_METHOD_USED:
            if not cond.text:
                return "1 = 0", []
            column = f"ship_{self.methods.index(cond.text)}"
            return f"COALESCE(f.{column}, 0) >= %s", [cond.count or 1]
        if kind == c.DELIVERY_CITY:
            cities = self._cities_matching(cond.text)
            if not cities:
                return "1 = 0", []
            return f"c.city IN ({', '.join(['%s'] * len(cities))})", cities
        return prefilter._condition(cond, self._last_order_before)

    def predicate(self, segment: SegmentSpec) -> tuple[str, list]:
        """SQL that holds when one of the segment's rules holds (an empty rule never does)."""
        ors, params = [], []
        for rule in segment.rules:
            if not rule.conditions:
                continue
            ands = []
            for cond in rule.conditions:
                sql, p = self.condition(cond)
                ands.append(sql)
                params += p
            ors.append("(" + " AND ".join(ands) + ")")
        return ("(" + " OR ".join(ors) + ")" if ors else "1 = 0"), params

    # --- writing ---

    def write(self, segment: SegmentSpec, *, when) -> tuple[int, int]:
        """Make the stored members of `segment` exactly those for whom it holds; returns
        (joined, left)."""
        holds, params = self.predicate(segment)
        member = SegmentMember._meta.db_table
        joined = (f"{Customer._meta.db_table} c"
                  f" LEFT JOIN {self.figures} f ON f.customer_id = c.id")
        # Table names are ours; every value is a parameter.
        delete = (
            f"DELETE FROM {member} WHERE segment_id = %s AND NOT EXISTS ("  # noqa: S608
            f"SELECT 1 FROM {joined} WHERE c.id = {member}.customer_id AND {holds})"
        )
        insert = (
            f"INSERT INTO {member} (segment_id, customer_id, computed_at)"  # noqa: S608
            f" SELECT %s, c.id, %s FROM {joined}"
            f" WHERE c.shop_id = %s AND {holds} AND NOT EXISTS ("
            f"SELECT 1 FROM {member} m WHERE m.segment_id = %s AND m.customer_id = c.id)"
            f" ON CONFLICT DO NOTHING"
        )
        when = connection.ops.adapt_datetimefield_value(when)
        with connection.cursor() as cursor:
            cursor.execute(delete, [segment.id, *params])
            left = cursor.rowcount
            cursor.execute(insert, [segment.id, when, self.shop.pk, *params, segment.id])
            joined_count = cursor.rowcount
        return joined_count, left
