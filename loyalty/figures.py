"""Customers' figures for category rules, measured set-based in the database.

For a list of customers (or a keyset range of ids in one shop) one grouped query joins the
customers to their counted orders inside the oldest window the rules need (or all history)
and aggregates every figure at once; purchases and shipping methods, when rules use them,
take one more grouped query each.

A full recalculation first aggregates the whole shop's counted orders once into a
temporary *snapshot* table (the same aggregate, compiled by the ORM, run as CREATE
TEMPORARY TABLE ... AS): it reads the orders in the window in one pass, as a hand-written
statement would. One pass then joins the shop's customers to the snapshot to list those
whose category the rules would change (loyalty.prefilter); batches of them are read again
by id (`Snapshot.changing`), and those whose orders changed since are read afresh with
`load`. Windows start at local midnight in the shop's time zone (see loyalty.conditions).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Max,
    Q,
    Sum,
)
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from shops.counting import COUNTED_ORDER, prefixed
from shops.lookups import any_ids_sql
from shops.models import Customer, IntakeEvent, Order, OrderLine, Shop

from . import prefilter, temp_tables
from .conditions import ZERO, Figures, Needs, period_bounds
from .decide import Ladder
from .models import CustomerLifecycle, PointsAccount, PointsEntry, PointsKind

DECIMAL = DecimalField(max_digits=16, decimal_places=2)
CENT = Decimal("0.01")


def money(value) -> Decimal:
    """Amounts exactly as stored (2 places): SQLite and PostgreSQL then agree to the digit."""
    return ZERO.quantize(CENT) if value is None else Decimal(value).quantize(CENT)


def local_midnight(shop: Shop, day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=shop.tz)


def last_order_cutoff(shop: Shop, as_of: date):
    """`days -> instant` for "days since the last order" measured on `as_of`: at least N
    days <=> the last order was placed before the local midnight that starts
    as_of - N + 1 (loyalty.prefilter compiles the condition with it)."""
    return lambda days: local_midnight(shop, as_of - timedelta(days=days - 1))


def window_start(shop: Shop, as_of: date, days: int) -> datetime:
    return local_midnight(shop, as_of - timedelta(days=days))


def _end(shop: Shop, as_of: date) -> datetime:
    return local_midnight(shop, as_of + timedelta(days=1))


def _aggregates(shop: Shop, needs: Needs, as_of: date, *, via: str = "") -> dict:
    """Every figure `needs` asks for, as aggregates over counted orders reached through
    `via` ("" from Order itself, "w__" through a relation), named as in _figure_columns.
    Customers without orders get NULLs; _build reads them as zero."""
    placed = f"{via}placed_at"
    net = ExpressionWrapper(
        F(f"{via}goods_total") - F(f"{via}returned_total"), output_field=DECIMAL
    )

    def inside(days: int) -> Q:
        return Q(**{f"{placed}__gte": window_start(shop, as_of, days)})

    # Orders are counted by `placed_at` (never NULL): the covering index of counted orders
    # (shops order_counted_figures_idx) then answers every figure without the table.
    aggs = {}
    for days in needs.spend_windows:
        aggs[f"spend_{days}"] = Sum(net, filter=inside(days))
    for days in needs.order_windows:
        aggs[f"orders_{days}"] = Count(f"{via}placed_at", filter=inside(days))
    for days in needs.largest_windows:
        aggs[f"largest_{days}"] = Max(net, filter=inside(days))
    if needs.lifetime:
        aggs["lifetime"] = Sum(net)
    if needs.largest_ever:
        aggs["largest_ever"] = Max(net)
    if needs.last_order:
        aggs["last_placed_at"] = Max(placed)
    if needs.lifetime_orders:
        aggs["orders_ever"] = Count(f"{via}placed_at")

    def within(period: str) -> Q:
        first, end = period_bounds(period, as_of)
        return Q(**{f"{placed}__gte": local_midnight(shop, first),
                    f"{placed}__lt": local_midnight(shop, end)})

    for period in needs.spend_periods:
        aggs[f"pspend_{period}"] = Sum(net, filter=within(period))
    for period in needs.order_periods:
        aggs[f"porders_{period}"] = Count(f"{via}placed_at", filter=within(period))
    return aggs


def _earliest(shop: Shop, needs: Needs, as_of: date) -> datetime | None:
    """Where the orders any figure looks at start (None: the whole history)."""
    first = needs.earliest_day(as_of)
    return None if first is None else local_midnight(shop, first)


def _with_figures(customers, shop: Shop, needs: Needs, as_of: date):
    """Annotate a Customer queryset with the figures `needs` asks for (names f_*)."""
    if not needs.orders_at_all:
        return customers
    counted, _ = prefixed("orders__")
    joined = counted & Q(orders__shop=shop, orders__placed_at__lt=_end(shop, as_of))
    if (earliest := _earliest(shop, needs, as_of)) is not None:
        joined &= Q(orders__placed_at__gte=earliest)
    customers = customers.annotate(w=FilteredRelation("orders", condition=joined))
    aggs = _aggregates(shop, needs, as_of, via="w__")
    return customers.annotate(**{f"f_{name}": agg for name, agg in aggs.items()})


def next_batch(
    shop: Shop, after_id: int, size: int, upto: int | None = None
) -> tuple[int, int, int] | None:
    """The next keyset batch after `after_id` (ids up to `upto`, if given): (last id,
    customers, locked), or None."""
    table = Customer._meta.db_table
    bound, params = ("", []) if upto is None else (" AND id <= %s", [upto])
    with connection.cursor() as cursor:
        # The table name is our model's; every value is a parameter.
        cursor.execute(
            f"SELECT MAX(id), COUNT(*), COALESCE(SUM(CASE WHEN category_locked THEN 1 ELSE 0"  # noqa: S608
            f" END), 0) FROM (SELECT id, category_locked FROM {table}"
            f" WHERE shop_id = %s AND id > %s{bound} ORDER BY id LIMIT %s) batch",
            [shop.pk, after_id, *params, size],
        )
        last, count, locked = cursor.fetchone()
    return None if last is None else (last, count, locked)


def count_range(shop: Shop, lo: int, hi: int | None) -> tuple[int, int]:
    """(customers, locked ones) of the shop with ids in (lo, hi] (hi None: to the last)."""
    customers = Customer.objects.filter(shop=shop, pk__gt=lo)
    if hi is not None:
        customers = customers.filter(pk__lte=hi)
    counts = customers.aggregate(n=Count("pk"), locked=Count("pk", filter=Q(category_locked=True)))
    return counts["n"], counts["locked"]


def _order_figures(shop: Shop, needs: Needs, as_of: date, id_range=None):
    """The shop's counted orders grouped by customer, with the figures as columns (of the
    customers with ids in (lo, hi] when `id_range` is given)."""
    orders = Order.objects.filter(COUNTED_ORDER, shop=shop, placed_at__lt=_end(shop, as_of))
    if id_range is not None:
        orders = orders.filter(customer_id__gt=id_range[0], customer_id__lte=id_range[1])
    if (earliest := _earliest(shop, needs, as_of)) is not None:
        orders = orders.filter(placed_at__gte=earliest)
    aggs = _aggregates(shop, needs, as_of)
    return orders.values("customer_id").annotate(**aggs).order_by()


#: How long a transaction that changes orders may stay open; see Snapshot.__enter__.
FRESHNESS_MARGIN = timedelta(minutes=5)


class Snapshot:
    """A temporary table of one shop's figures for the length of a recalculation, and the
    ladder compiled to SQL over it. Without a ladder that compiles (or with none given)
    no table is made and `changing` answers None: every customer must be examined."""

    def __init__(self, shop: Shop, needs: Needs, as_of: date, ladder: Ladder | None,
                 id_range: tuple[int, int] | None = None):
        self.shop, self.as_of, self.id_range = shop, as_of, id_range
        self.table = f"loyalty_figures_{shop.pk}"
        self.has_orders = needs.orders_at_all
        self._needs = needs
        self.target = None if ladder is None else prefilter.target_sql(
            ladder, last_order_cutoff(shop, as_of)
        )

    def __enter__(self) -> Snapshot:
        if self.target is None:
            return self
        # A change committed just after the snapshot may carry a slightly earlier
        # timestamp (taken inside its transaction): a margin covers such transactions.
        self.fresh_since = timezone.now() - FRESHNESS_MARGIN
        if self.has_orders:
            sql, params = _order_figures(self.shop, self._needs, self.as_of, self.id_range) \
                .query.sql_with_params()
        else:  # no figure from orders: an empty table keeps the join valid
            sql, params = "SELECT 0 AS customer_id WHERE 1 = 0", ()
        temp_tables.create(temp_tables.TempTable(self.table, sql, params, unique=True))
        return self

    def __exit__(self, *exc) -> None:
        if self.target is not None:
            temp_tables.drop(self.table)

    def _may_change(self) -> tuple[str, list]:
        """The condition on `c` (customers), `f` (the snapshot) and `s` (their lifecycle
        state) of a customer whose category the ladder would change, with its parameters.
        Customers in a grace period (to end it, or clear it) and those whose temporary hold
        has ended are examined whatever the rules say (loyalty.lifecycle)."""
        case, params = self.target
        as_of = connection.ops.adapt_datefield_value(self.as_of)
        return (
            f"({prefilter.distinct_from(case, 'c.category_id')}"
            f" OR s.grace_since IS NOT NULL OR s.manual_until <= %s)", [*params, as_of]
        )

    def _joined(self) -> str:
        return (
            f"{Customer._meta.db_table} c"
            f" LEFT JOIN {self.table} f ON f.customer_id = c.id"
            f" LEFT JOIN {CustomerLifecycle._meta.db_table} s ON s.customer_id = c.id"
        )

    def candidates(self, lo: int, hi: int | None) -> list[int] | None:
        """The ids, in order, of the customers in (lo, hi] (hi None: to the last) whose
        category the ladder would change by the snapshot's figures: one pass over the
        shop's customers joined to the snapshot, as a hand-written statement would make.
        None if the ladder cannot be compiled to SQL (every customer must be examined)."""
        if self.target is None:
            return None
        condition, params = self._may_change()
        bound, bound_params = ("", []) if hi is None else (" AND c.id <= %s", [hi])
        # Table names are ours; every value is a parameter.
        sql = (
            f"SELECT c.id FROM {self._joined()}"  # noqa: S608
            f" WHERE c.shop_id = %s AND c.id > %s{bound} AND {condition} ORDER BY c.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.shop.pk, lo, *bound_params, *params])
            return [row[0] for row in cursor.fetchall()]

    def changing(self, ids: list[int]) -> tuple[list[Figures], list[int]]:
        """Of these candidates, those whose category the ladder would still change (their
        category is read again: the drain or staff may have moved them since the candidates
        were found), with their figures from the snapshot, and the ids among them whose
        orders changed since the snapshot (to be read afresh)."""
        if not ids:
            return [], []
        shop = self.shop
        columns = ", ".join(
            [f"c.{name if name != 'pk' else 'id'}" for name in CUSTOMER_COLUMNS]
            + [f"s.{name.split('__')[1]}" for name in LIFECYCLE_COLUMNS]
            + [f"f.{name}" for name in _figure_columns(self._needs)]
            + ["c.orders_changed_at"]
        )
        # The write path records each order change as an intake event in the order's own
        # transaction (the customer's stamp follows when the drain applies it): the latest
        # event is when the customer's orders last changed.
        last_event = (f"(SELECT MAX(e.created_at) FROM {IntakeEvent._meta.db_table} e"  # noqa: S608
                      f" WHERE e.customer_id = c.id)")
        condition, params = self._may_change()
        chosen, chosen_params = any_ids_sql("c.id", ids, connection.vendor)
        # Table names are ours; every value is a parameter.
        sql = (
            f"SELECT {columns}, {last_event} FROM {self._joined()}"  # noqa: S608
            f" WHERE c.shop_id = %s AND {chosen} AND {condition} ORDER BY c.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [shop.pk, *chosen_params, *params])
            rows = cursor.fetchall()
        stale = [row[0] for row in rows if any(
            (changed := _as_datetime(value)) is not None and changed >= self.fresh_since
            for value in row[-2:]
        )]
        return _build([row[:-1] for row in rows], self._needs, shop.tz), stale


CUSTOMER_COLUMNS = ("pk", "client_type", "is_active", "city", "category_id", "category_locked")
#: The customer's lifecycle state (a LEFT JOIN: NULLs without a row).
LIFECYCLE_COLUMNS = (
    "lifecycle__grace_category_id", "lifecycle__grace_since", "lifecycle__manual_until"
)


def _figure_columns(needs: Needs) -> list[str]:
    """The figure columns `needs` asks for, in the order `_build` reads them."""
    if not needs.orders_at_all:
        return []
    return (
        [f"spend_{d}" for d in sorted(needs.spend_windows)]
        + [f"orders_{d}" for d in sorted(needs.order_windows)]
        + [f"largest_{d}" for d in sorted(needs.largest_windows)]
        + (["lifetime"] if needs.lifetime else [])
        + (["largest_ever"] if needs.largest_ever else [])
        + (["last_placed_at"] if needs.last_order else [])
        + (["orders_ever"] if needs.lifetime_orders else [])
        + [f"pspend_{p}" for p in sorted(needs.spend_periods)]
        + [f"porders_{p}" for p in sorted(needs.order_periods)]
    )


def _as_datetime(value) -> datetime | None:
    """A raw row's datetime as an aware one (SQLite gives naive UTC, or text)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = parse_datetime(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return parse_date(value)


def _build(rows, needs: Needs, tz) -> list[Figures]:
    """Figures from rows of CUSTOMER_COLUMNS and LIFECYCLE_COLUMNS followed by
    `_figure_columns(needs)`."""
    spend_periods, order_periods = sorted(needs.spend_periods), sorted(needs.order_periods)
    spend = sorted(needs.spend_windows)
    orders = sorted(needs.order_windows)
    largest = sorted(needs.largest_windows)
    n_s, n_o, n_l = len(spend), len(orders), len(largest)
    figures = []
    for row in rows:
        f = Figures(
            customer_id=row[0], client_type=row[1], is_active=bool(row[2]), city=row[3],
            category_id=row[4], locked=bool(row[5]), grace_category_id=row[6],
            grace_since=_as_date(row[7]), manual_until=_as_date(row[8]),
        )
        figures.append(f)
        if not needs.orders_at_all:
            continue
        i = 9
        if n_s:
            f.window_spend = {d: money(v) for d, v in zip(spend, row[i:i + n_s], strict=True)}
            i += n_s
        if n_o:
            f.window_orders = {d: v or 0 for d, v in zip(orders, row[i:i + n_o], strict=True)}
            i += n_o
        if n_l:
            f.window_largest = {d: money(v) for d, v in zip(largest, row[i:i + n_l], strict=True)}
            i += n_l
        if needs.lifetime:
            f.lifetime_spend = money(row[i])
            i += 1
        if needs.largest_ever:
            f.largest_ever = money(row[i])
            i += 1
        if needs.last_order:
            last = _as_datetime(row[i])
            f.last_order_date = last.astimezone(tz).date() if last else None
            i += 1
        if needs.lifetime_orders:
            f.lifetime_orders = row[i] or 0
            i += 1
        for period in spend_periods:
            f.period_spend[period] = money(row[i])
            i += 1
        for period in order_periods:
            f.period_orders[period] = row[i] or 0
            i += 1
    return figures


def load(
    shop: Shop, needs: Needs, as_of: date, *, id_range: tuple[int, int] | None = None,
    customer_ids: list[int] | None = None,
) -> list[Figures]:
    """Figures of the customers with ids in (lo, hi] or in `customer_ids`."""
    customers = Customer.objects.filter(shop=shop)
    if customer_ids is not None:
        customers = customers.filter(pk__in_ids=customer_ids)
    else:
        lo, hi = id_range
        customers = customers.filter(pk__gt=lo, pk__lte=hi)
    customers = _with_figures(customers, shop, needs, as_of)
    names = [f"f_{name}" for name in _figure_columns(needs)]
    rows = customers.order_by("pk").values_list(*CUSTOMER_COLUMNS, *LIFECYCLE_COLUMNS, *names)
    figures = _build(rows, needs, shop.tz)
    if figures and (needs.products or needs.collections or needs.shipping_methods):
        by_id = {f.customer_id: f for f in figures}
        _load_purchases(shop, needs, as_of, by_id)
    if figures and (needs.points_windows or needs.points_balance):
        _load_points(shop, needs, as_of, {f.customer_id: f for f in figures})
    return figures


def _load_points(shop: Shop, needs: Needs, as_of: date, by_id: dict[int, Figures]) -> None:
    """Balances (one join) and points earned per window (one grouped query on the ledger)."""
    ids = list(by_id)
    if needs.points_balance:
        for customer_id, balance in PointsAccount.objects.filter(
            customer_id__in_ids=ids
        ).values_list("customer_id", "balance"):
            by_id[customer_id].points_balance = balance
    if needs.points_windows:
        windows = sorted(needs.points_windows)
        aggs = {f"w{d}": Sum("points", filter=Q(created_at__gte=window_start(shop, as_of, d)))
                for d in windows}
        rows = (
            PointsEntry.objects.filter(
                customer_id__in_ids=ids, created_at__lt=_end(shop, as_of),
                created_at__gte=window_start(shop, as_of, windows[-1]),
                kind__in=(PointsKind.EARNED, PointsKind.CORRECTED, PointsKind.REVERSED),
            ).values("customer_id").annotate(**aggs).order_by()
        )
        for row in rows:
            by_id[row["customer_id"]].points_earned = {d: row[f"w{d}"] or 0 for d in windows}


def _load_purchases(shop: Shop, needs: Needs, as_of: date, by_id: dict[int, Figures]) -> None:
    ids = list(by_id)
    counted, _ = prefixed("order__")
    lines = OrderLine.objects.filter(
        counted, order__shop=shop, order__placed_at__lt=_end(shop, as_of),
        order__customer_id__in_ids=ids,
    )
    products: dict[int, set[int]] = defaultdict(set)
    collections: dict[int, set[int]] = defaultdict(set)
    if needs.products:
        for customer_id, product_id in (
            lines.filter(product_id__in=needs.products)
            .values_list("order__customer_id", "product_id").distinct()
        ):
            products[customer_id].add(product_id)
    if needs.collections:
        for customer_id, collection_id in (
            lines.filter(product__collections__in=needs.collections)
            .values_list("order__customer_id", "product__collections").distinct()
        ):
            collections[customer_id].add(collection_id)
    if needs.shipping_methods:
        for customer_id, method, n in (
            Order.objects.filter(COUNTED_ORDER, shop=shop, customer_id__in_ids=ids)
            .filter(shipping_method__in=needs.shipping_methods,
                    placed_at__lt=_end(shop, as_of))
            .values_list("customer_id", "shipping_method").annotate(n=Count("pk")).order_by()
        ):
            by_id[customer_id].shipping_counts[method] = n
    for customer_id, f in by_id.items():
        if customer_id in products:
            f.products = frozenset(products[customer_id])
        if customer_id in collections:
            f.collections = frozenset(collections[customer_id])
