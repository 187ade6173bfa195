"""The replay of a category ladder over past weeks, set-based in the database.

Contract (docs/simulator.md tells it in the merchant's words, with worked examples)
- Weeks end on `ends[k]` (local dates); week k holds the orders placed from local midnight
  of `ends[k] - 6` to local midnight after `ends[k]`.
- One temporary table holds, per customer of the shop, the simulated category and the
  figures the rules need, as of the end of the previous week. It starts from the figures as
  of the day before the first week and from each customer's real category then (the
  history's last change before that day; a customer registered later starts in the default
  category, as registration places them, and counts from the week they registered).
- Each week, in this order and all in SQL:
  1. the week's counted orders are priced with the category the customer is in during the
     week (the one decided at the previous week's end): the category discount (only when
     the category's program is "discount" and the shop has an enabled category discount
     for the customer's client type; the percent of the category's discount program tier
     reached by the lifetime spend before the order, else the category's own percent) on
     the order's counted value, rounded half up to the cent once per order; bonus points
     (category program "bonus": floor(value x tier percent / 100), the tier reached by the
     lifetime spend before the order); one "order completed" message per order and channel
     the customer would get;
  2. the figures move by the week's orders (lifetime figures grow by them; a window of N
     days gains the week's orders and loses those that fell out of it; the largest order
     of a window is measured afresh over the window);
  3. each customer's category is decided at the week's end by the ladder compiled to SQL
     (loyalty.prefilter, tested to agree with loyalty.decide): locked customers stay, a
     category that may not be left keeps its customers, a category that may not be
     entered keeps only those already in it; moves up and down are counted, and the
     category-change messages the shop would send for them.
- Client type, active flag, locks, consent and addresses are today's, for every week;
  orders are as recorded today (status, payment and returns).
- The ladder must compile to SQL (no conditions on purchases, shipping methods, cities or
  points): `Unsupported` otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.utils.translation import gettext as _

from shops.counting import COUNTED_ORDER
from shops.models import Customer, Order, Shop

from .. import prefilter, temp_tables
from ..conditions import needs_of
from ..figures import _order_figures, last_order_cutoff, local_midnight
from ..models import CategoryChange
from ..programs import ABOVE
from . import hooks
from . import snapshot as snap

DECIMAL = DecimalField(max_digits=16, decimal_places=2)
NET = ExpressionWrapper(F("goods_total") - F("returned_total"), output_field=DECIMAL)
HALF_CENT = Decimal("0.005")


class Unsupported(ValueError):
    """The ladder cannot be replayed (a clear message for staff)."""


@dataclass
class Week:
    index: int
    end: date
    customers: dict[int | None, int] = field(default_factory=dict)
    moved_up: int = 0
    moved_down: int = 0
    #: "event/channel" -> messages
    messages: dict[str, int] = field(default_factory=dict)
    orders: int = 0
    discount: Decimal = Decimal("0.00")
    discount_by_category: dict[int, Decimal] = field(default_factory=dict)
    points: int = 0

    def as_json(self) -> dict:
        return {
            "week": self.index + 1, "end": self.end.isoformat(),
            "customers": {str(k): v for k, v in self.customers.items()},
            "moved_up": self.moved_up, "moved_down": self.moved_down,
            "messages": dict(sorted(self.messages.items())), "orders": self.orders,
            "discount": str(self.discount),
            "discount_by_category": {str(k): str(v) for k, v in
                                     self.discount_by_category.items()},
            "points": self.points,
        }


def week_ends(last: date, weeks: int) -> list[date]:
    return [last - timedelta(days=7 * (weeks - 1 - k)) for k in range(weeks)]


def _dt(value):
    return connection.ops.adapt_datetimefield_value(value)


def _num(value: Decimal):
    # SQLite compares a float column with a text parameter as text: give it a number.
    return float(value) if connection.vendor == "sqlite" else value


def _distinct(left: str, right: str) -> str:
    return prefilter.distinct_from(left, right)


def _in(ids, column: str) -> tuple[str, list]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", ids


class Replay:
    """One replay; use as a context manager (the temporary table lives inside it)."""

    def __init__(self, shop: Shop, ladder_snapshot: dict, ends: list[date], *, table: str):
        self.shop, self.ends, self.table = shop, ends, table
        self.ladder = snap.ladder(ladder_snapshot)
        self.terms = snap.terms(ladder_snapshot)
        if not prefilter.compilable(self.ladder):
            raise Unsupported(_(
                "These rules cannot be simulated: conditions on purchases, shipping methods, "
                "delivery cities or points are not replayed week by week."))
        self.needs = needs_of(self.ladder.categories)
        # Lifetime spend is always kept: program tiers are reached by it.
        self.kept = replace(self.needs, lifetime=True)
        self.audiences = hooks.audiences(shop)
        self.discount_types = sorted(hooks.discount_client_types(shop))

    # --- set-up ------------------------------------------------------------------------

    def _figure_columns(self) -> list[tuple[str, str]]:
        """(column, kind) kept in the table: kind "sum", "count", "max" or "last"."""
        n = self.kept
        cols = [("lifetime", "sum")]
        cols += [(f"spend_{d}", "sum") for d in sorted(n.spend_windows)]
        cols += [(f"orders_{d}", "count") for d in sorted(n.order_windows)]
        cols += [(f"largest_{d}", "max") for d in sorted(n.largest_windows)]
        if n.largest_ever:
            cols.append(("largest_ever", "max"))
        if n.last_order:
            cols.append(("last_placed_at", "last"))
        if n.lifetime_orders:
            cols.append(("orders_ever", "count"))
        return cols

    def __enter__(self) -> Replay:
        shop, start = self.shop, self.ends[0] - timedelta(days=6)
        start_at = local_midnight(shop, start)
        default = self.ladder.default.id if self.ladder.default else None
        before = CategoryChange.objects.filter(
            customer_id=OuterRef("pk"), changed_at__lt=start_at
        ).order_by("-changed_at", "-pk").values("to_category_id")[:1]
        after = CategoryChange.objects.filter(
            customer_id=OuterRef("pk"), changed_at__gte=start_at
        ).order_by("changed_at", "pk").values("from_category_id")[:1]
        base = Customer.objects.filter(shop=shop).annotate(
            cid=F("pk"), was_to=Subquery(before), then_from=Subquery(after)
        ).values_list("cid", "registered_at", "client_type", "is_active", "category_locked",
                      "category_id", "was_to", "then_from").order_by()
        sql, params = base.query.sql_with_params()
        self.base_table = f"{self.table}_base"
        figures_sql, figures_params = _order_figures(shop, self.kept, start - timedelta(days=1)) \
            .query.sql_with_params()
        self.start_table = f"{self.table}_start"
        temp_tables.create(
            temp_tables.TempTable(self.base_table, sql, params, index=("cid",)),
            temp_tables.TempTable(self.start_table, figures_sql, figures_params, unique=True),
        )
        initial = (
            "CASE WHEN b.registered_at >= %s THEN %s "
            "ELSE COALESCE(b.was_to, b.then_from, b.category_id) END"
        )
        figures = []
        for column, kind in self._figure_columns():
            if kind == "last":
                figures.append(f"s.{column} AS {column}")
            else:
                figures.append(f"COALESCE(s.{column}, 0) AS {column}")
        # Each audience's customers as a table joined once (a large IN (subquery) may not
        # fit PostgreSQL's work_mem as a hash, and would then be scanned per customer).
        reach, joins, self.reach_tables = [], [], []
        by_query: dict[tuple, str] = {}
        for i, audience in enumerate(self.audiences):
            a_sql, a_params = audience.customers.order_by().query.sql_with_params()
            key = (a_sql, tuple(a_params))
            if key not in by_query:
                name = f"{self.table}_reach_{len(by_query)}"
                by_query[key] = name
                self.reach_tables.append(name)
                temp_tables.create(temp_tables.TempTable(
                    name, f"SELECT DISTINCT q.* FROM ({a_sql}) q",  # noqa: S608 (ORM SQL)
                    a_params, index=("pk",),
                    unique=True))
                joins.append(f" LEFT JOIN {name} ON {name}.pk = b.cid")
            reach.append(f"CASE WHEN {by_query[key]}.pk IS NOT NULL THEN 1 ELSE 0 END"
                         f" AS reach_{i}")
        columns = ", ".join([
            "b.cid AS customer_id", "b.registered_at", "b.client_type", "b.is_active",
            "b.category_locked", f"{initial} AS category_id",
            *figures, *reach,
        ])
        fill = (f"SELECT {columns} FROM {self.base_table} b "  # noqa: S608 (our names)
                f"LEFT JOIN {self.start_table} s ON s.customer_id = b.cid{''.join(joins)}")
        temp_tables.create(temp_tables.TempTable(
            self.table, fill, [_dt(start_at), default], unique=True,
        ))
        temp_tables.drop(self.base_table, self.start_table, *self.reach_tables)
        return self

    def __exit__(self, *exc) -> None:
        temp_tables.drop(self.table, f"{self.table}_delta", self.base_table, self.start_table,
                         *getattr(self, "reach_tables", ()))

    # --- one week ------------------------------------------------------------------------

    def week(self, k: int) -> Week:
        end = self.ends[k]
        result = Week(index=k, end=end)
        self._price_orders(result)
        self._move_figures(end)
        self._decide(result)
        return result

    def _rank_sql(self, column: str) -> tuple[str, list]:
        parts, params = [], []
        for category in self.ladder.categories:
            parts.append("WHEN %s THEN %s")
            params += [category.id, category.rank]
        if not parts:
            return "-1", []
        return f"CASE {column} {' '.join(parts)} ELSE -1 END", params

    def _tier_bp(self, tiers, boundary: str, otherwise: str, before: str) -> tuple[str, list]:
        """The percent (in hundredths) of the highest tier reached by `before`."""
        if not tiers:
            return otherwise, []
        parts, params = [], []
        for tier in sorted(tiers, key=lambda t: t.min_lifetime_spend, reverse=True):
            start = tier.min_lifetime_spend
            if boundary == ABOVE and start > 0:
                parts.append(f"WHEN {before} > %s THEN %s")
                params += [_num(start + HALF_CENT), int(tier.percent * 100)]
            else:
                parts.append(f"WHEN {before} > %s THEN %s")
                params += [_num(start - HALF_CENT), int(tier.percent * 100)]
        return f"CASE {' '.join(parts)} ELSE {otherwise} END", params

    def _price_orders(self, result: Week) -> None:
        shop, end = self.shop, result.end
        orders = Order.objects.filter(
            COUNTED_ORDER, shop=shop,
            placed_at__gte=local_midnight(shop, end - timedelta(days=6)),
            placed_at__lt=local_midnight(shop, end + timedelta(days=1)),
        ).annotate(net=NET).values("id", "customer_id", "placed_at", "net").order_by()
        o_sql, o_params = orders.query.sql_with_params()
        discount_parts, discount_params = [], []
        points_parts, points_params = [], []
        for t in self.terms.values():
            if snap.discounted(t):
                own = str(int((t.discount_percent or 0) * 100))
                bp, p = self._tier_bp(t.discount_tiers, t.discount_boundary, own, "w.before")
                discount_parts.append(f"WHEN %s THEN (w.cents * ({bp}) + 5000) / 10000")
                discount_params += [t.id, *p]
            if snap.earns_points(t):
                bp, p = self._tier_bp(t.bonus_tiers, t.bonus_boundary, "0", "w.before")
                points_parts.append(f"WHEN %s THEN (w.cents * ({bp})) / 1000000")
                points_params += [t.id, *p]
        types_sql, types_params = _in(self.discount_types, "w.client_type")
        discount = (f"CASE WHEN w.cents > 0 AND {types_sql} THEN CASE w.category_id "
                    f"{' '.join(discount_parts)} ELSE 0 END ELSE 0 END"
                    if discount_parts else "0")
        discount_params = types_params + discount_params if discount_parts else []
        points = (f"CASE WHEN w.cents > 0 THEN CASE w.category_id {' '.join(points_parts)} "
                  f"ELSE 0 END ELSE 0 END" if points_parts else "0")
        if not points_parts:
            points_params = []
        messages, m_params, keys = [], [], []
        for i, audience in enumerate(self.audiences):
            if audience.event != hooks.ORDER_COMPLETED:
                continue
            condition = f"w.reach_{i} = 1"
            if audience.category_switch:
                ids = [t.id for t in self.terms.values()
                       if getattr(t, audience.category_switch, False)]
                switch, p = _in(ids, "w.category_id")
                condition += f" AND {switch}"
                m_params += p
            messages.append(f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)")
            keys.append(f"{audience.event}/{audience.channel}")
        reach = "".join(f", s.reach_{i}" for i in range(len(self.audiences)))
        sql = (
            f"WITH o AS ({o_sql}), w AS ("  # noqa: S608 (our names; values are parameters)
            f" SELECT s.category_id, s.client_type{reach},"
            f" CAST(ROUND(o.net * 100) AS BIGINT) AS cents,"
            f" s.lifetime + COALESCE(SUM(o.net) OVER (PARTITION BY o.customer_id"
            f" ORDER BY o.placed_at, o.id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),"
            f" 0) AS before"
            f" FROM o JOIN {self.table} s ON s.customer_id = o.customer_id)"
            f" SELECT w.category_id, COUNT(*), SUM({discount}), SUM({points})"
            f"{''.join(', ' + m for m in messages)} FROM w GROUP BY w.category_id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*o_params, *discount_params, *points_params, *m_params])
            rows = cursor.fetchall()
        for category_id, n, cents, pts, *counts in rows:
            result.orders += n
            cents = int(cents or 0)
            if cents:
                result.discount_by_category[category_id] = Decimal(cents) / 100
            result.discount += Decimal(cents) / 100
            result.points += int(pts or 0)
            for key, count in zip(keys, counts, strict=True):
                result.messages[key] = result.messages.get(key, 0) + int(count or 0)
        result.discount = result.discount.quantize(Decimal("0.01"))
        for key in keys:
            result.messages.setdefault(key, 0)

    def _move_figures(self, end: date) -> None:
        shop, n = self.shop, self.kept
        week_in = Q(placed_at__gte=local_midnight(shop, end - timedelta(days=6)),
                    placed_at__lt=local_midnight(shop, end + timedelta(days=1)))
        reach = week_in
        aggs = {"in_sum": Sum(NET, filter=week_in), "in_n": Count("pk", filter=week_in),
                "in_max": Max(NET, filter=week_in), "in_last": Max("placed_at", filter=week_in)}
        for d in sorted(n.spend_windows | n.order_windows):
            out = Q(placed_at__gte=local_midnight(shop, end - timedelta(days=7 + d)),
                    placed_at__lt=local_midnight(shop, end - timedelta(days=d)))
            reach |= out
            aggs[f"out_sum_{d}"] = Sum(NET, filter=out)
            aggs[f"out_n_{d}"] = Count("pk", filter=out)
        for d in sorted(n.largest_windows):
            inside = Q(placed_at__gte=local_midnight(shop, end - timedelta(days=d)),
                       placed_at__lt=local_midnight(shop, end + timedelta(days=1)))
            reach |= inside
            aggs[f"window_max_{d}"] = Max(NET, filter=inside)
        # One date range around all the slices: a range scan of the date index (an OR of
        # ranges may be planned as a scan of every order).
        first = local_midnight(shop, end - timedelta(days=7 + max(
            [0, *n.spend_windows, *n.order_windows, *n.largest_windows])))
        delta = Order.objects.filter(
            COUNTED_ORDER, shop=shop, placed_at__gte=first,
            placed_at__lt=local_midnight(shop, end + timedelta(days=1)),
        ).filter(reach) \
            .values("customer_id").annotate(**aggs).order_by()
        d_sql, d_params = delta.query.sql_with_params()
        delta_table = f"{self.table}_delta"
        temp_tables.create(temp_tables.TempTable(delta_table, d_sql, d_params, unique=True))
        sets = ["lifetime = lifetime + COALESCE(d.in_sum, 0)"]
        for d in sorted(n.spend_windows):
            sets.append(f"spend_{d} = spend_{d} + COALESCE(d.in_sum, 0)"
                        f" - COALESCE(d.out_sum_{d}, 0)")
        for d in sorted(n.order_windows):
            sets.append(f"orders_{d} = orders_{d} + COALESCE(d.in_n, 0)"
                        f" - COALESCE(d.out_n_{d}, 0)")
        if n.largest_ever:
            sets.append("largest_ever = CASE WHEN d.in_max > largest_ever THEN d.in_max"
                        " ELSE largest_ever END")
        if n.last_order:
            sets.append("last_placed_at = COALESCE(d.in_last, last_placed_at)")
        if n.lifetime_orders:
            sets.append("orders_ever = orders_ever + COALESCE(d.in_n, 0)")
        for d in sorted(n.largest_windows):
            sets.append(f"largest_{d} = COALESCE(d.window_max_{d}, 0)")
        t = self.table
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {t} SET {', '.join(sets)} FROM {delta_table} d"  # noqa: S608
                           f" WHERE {t}.customer_id = d.customer_id")
            if n.largest_windows:
                # Customers whose window emptied: their largest order in it is none.
                zero = ", ".join(f"largest_{d} = 0" for d in sorted(n.largest_windows))
                cursor.execute(
                    f"UPDATE {t} SET {zero} WHERE customer_id NOT IN"  # noqa: S608
                    f" (SELECT customer_id FROM {delta_table})")
        temp_tables.drop(delta_table)

    def _decide(self, result: Week) -> None:
        """Decide every customer at the week's end: one grouped read of (from, to) pairs
        with the reach of each audience, then one UPDATE of the movers only (a temporary
        table is never vacuumed: rewriting every row each week would bloat it)."""
        shop, end, t = self.shop, result.end, self.table
        target, params = prefilter.target_sql(
            self.ladder, last_order_cutoff(shop, end))
        # The compiled ladder reads the customer as `c` and the figures as `f`: here both
        # are the one table's row.
        target = re.sub(r"\bf\.", "c.", target)
        exists_at = _dt(local_midnight(shop, end + timedelta(days=1)))
        moving = [(i, a) for i, a in enumerate(self.audiences)
                  if a.event in (hooks.CATEGORY_UP, hooks.CATEGORY_DOWN)]
        reach = "".join(f", SUM(c.reach_{i})" for i, _a in moving)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT c.category_id, {target} AS to_id, COUNT(*){reach}"  # noqa: S608
                f" FROM {t} c WHERE c.registered_at < %s GROUP BY c.category_id, to_id",
                [*params, exists_at],
            )
            rows = cursor.fetchall()
            cursor.execute(
                f"UPDATE {t} AS c SET category_id = {target}"  # noqa: S608
                f" WHERE c.registered_at < %s AND {_distinct(target, 'c.category_id')}",
                [*params, exists_at, *params],
            )
        for _i, a in moving:
            result.messages.setdefault(f"{a.event}/{a.channel}", 0)
        for from_id, to_id, n, *reached in rows:
            result.customers[to_id] = result.customers.get(to_id, 0) + n
            if from_id == to_id:
                continue
            up = self.ladder.rank(to_id) > self.ladder.rank(from_id)
            if up:
                result.moved_up += n
            else:
                result.moved_down += n
            to_terms, from_terms = self.terms.get(to_id), self.terms.get(from_id)
            announced = (to_terms is not None and to_terms.visible
                         and (from_terms is None or from_terms.visible))
            if not announced:
                continue
            event = hooks.CATEGORY_UP if up else hooks.CATEGORY_DOWN
            for (_i, a), count in zip(moving, reached, strict=True):
                if a.event == event:
                    result.messages[f"{a.event}/{a.channel}"] += int(count or 0)


def replay(
    shop: Shop, ladder_snapshot: dict, ends: list[date], *, table: str,
    progress: Callable[[Week], None] | None = None,
) -> list[Week]:
    weeks = []
    with Replay(shop, ladder_snapshot, ends, table=table) as run:
        for k in range(len(ends)):
            week = run.week(k)
            weeks.append(week)
            if progress is not None:
                progress(week)
    return weeks
