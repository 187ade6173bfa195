"""The statistics rollup: keeps loyalty.models_statistics true, set-based.

Per shop and local day (the shop's time zone): counted orders and their net value by the
category the customer is in now (`DailyOrders`), and the moves and points written that day
(`DailyActivity`). A shop's rollup holds its complete days up to `StatisticsRollup.through`;
the statistics page reads those from the rollup and the days after from the source tables
(one day, usually), so it is exact at any time and costs the same on any range.

Who keeps it:
- `statistics_rollup_nightly` (the nightly step): closes the days since the last run, and
  rebuilds a shop that has none yet or whose time zone changed.
- `rollup_apply_batch` (the intake drain, through loyalty.hooks): an order that starts or
  stops counting or changes value re-counts its day, if that day is already rolled up.
- `rollup_moves` (loyalty.events.on_categories_changed): a customer moved from one category
  to another takes their rolled-up counted orders along (subtracted from one, added to the
  other, as one upsert).
Points and moves are always written "now", in a day after `through`, so only the nightly
step rolls them up.
- `rollup_rebuild` (the `statistics_rollup` command, for existing data): everything again.

Today so far: the moves and points already written today are rolled up too, up to a moment
`StatisticsRollup.activity_until` (a partial `DailyActivity` row for today), so that the page
counts from the source tables only what was written since. `rollup_today_advance` (a beat
task every few minutes) adds what was written between that moment and a *settled* one, after
which no row stamped earlier can still commit: `TODAY_MARGIN` ago, and never later than the
start of the oldest transaction open in the database (PostgreSQL). The nightly step, once
its own rows are committed, adds what came since in the same way, or counts today again
from scratch (`_recount_today`) when the beat task had already passed the night's start:
the night stamps its expiry entries with that start, and they may have committed later.

Every write takes a per-shop lock first (PostgreSQL advisory lock), so that two drains never
rewrite one shop's rows at once. Each function is one statement per table per call (plus one
per pair of categories for moves), whatever the number of orders.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from shops.counting import COUNTED_ORDER, ORDER_NET_VALUE
from shops.events import FiguresChanged
from shops.models import Order, Shop

from .models import (
    MOVES,
    CategoryChange,
    DailyActivity,
    DailyOrders,
    PointsEntry,
    PointsKind,
    StatisticsRollup,
)

AMOUNT = DecimalField(max_digits=18, decimal_places=2)
NO_CATEGORY = 0
#: The first key of the PostgreSQL advisory lock of a shop's rollup (the second: its id).
LOCK_KEY = 72177
#: Customers per query when moves carry their orders along.
CHUNK = 5000

#: How far behind now the beat task rolls up today's moves and points. Rows are stamped when
#: written, inside their transaction, except the night's expiry entries, stamped with the
#: night's start: their night counts today again once they are committed.
TODAY_MARGIN = timedelta(minutes=10)
#: Allowance for a row stamped in Python just before its transaction's first statement.
CLOCK_SKEW = timedelta(seconds=5)
ACTIVITY = ("moves_up", "moves_down", "earned", "spent", "expired", "adjusted")

Range = tuple[date | None, date]  # first day (None: from the beginning), last day, included


# --- reading the state -----------------------------------------------------------------------


def rolled_up_through(shop: Shop) -> date | None:
    """The last day of `shop` in the rollup, or None (no rollup, or cut in another zone)."""
    state = rollup_state(shop)
    return None if state is None else state[0]


def rollup_state(shop: Shop) -> tuple[date, datetime] | None:
    """(the last complete day, the moment before which every move and points entry is in
    the rollup), or None (no rollup, or cut in another zone)."""
    state = StatisticsRollup.objects.filter(shop=shop).values_list(
        "through", "timezone", "activity_until").first()
    if state is None or state[1] != shop.timezone:
        return None
    through, _zone, activity_until = state
    return through, max(activity_until or _until(shop, through), _until(shop, through))


def settled_before(margin: timedelta) -> datetime:
    """A moment before which every move and points entry that will ever be visible is
    visible now: `margin` ago, and (PostgreSQL) before the oldest transaction still open in
    the database, less CLOCK_SKEW. Reading other sessions' `xact_start` needs the same
    database role as theirs (or pg_read_all_stats); an unreadable one is taken as now."""
    cut = timezone.now() - margin
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The activity view is read once per transaction unless its snapshot is cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT min(xact_start) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            (oldest,) = cursor.fetchone()
        if oldest is not None:
            cut = min(cut, oldest - CLOCK_SKEW)
    return cut


def _since(shop: Shop, day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=shop.tz)


def _until(shop: Shop, day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=shop.tz)


def _ranges(days: Iterable[date]) -> list[Range]:
    """Consecutive days as (first, last) ranges."""
    ranges: list[list[date]] = []
    for day in sorted(set(days)):
        if ranges and ranges[-1][1] + timedelta(days=1) == day:
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    return [(first, last) for first, last in ranges]


def _when(shop: Shop, field: str, ranges: list[Range]) -> Q:
    q = Q()
    for first, last in ranges:
        part = Q(**{f"{field}__lt": _until(shop, last)})
        if first is not None:
            part &= Q(**{f"{field}__gte": _since(shop, first)})
        q |= part
    return q


def _days(ranges: list[Range]) -> Q:
    q = Q()
    for first, last in ranges:
        part = Q(day__lte=last)
        if first is not None:
            part &= Q(day__gte=first)
        q |= part
    return q


def _lock(shop_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_KEY, shop_id])


# --- the source queries (one aggregate each) -------------------------------------------------


def daily_orders(shop: Shop, when: Q):
    """(day, category id or None, counted orders, net value) of the shop's counted orders
    matching `when` (a filter on placed_at)."""
    net = ExpressionWrapper(ORDER_NET_VALUE, output_field=AMOUNT)
    orders = Order.objects.filter(COUNTED_ORDER, when, shop=shop, customer__shop=shop)
    return (
        orders.annotate(day=TruncDate("placed_at", tzinfo=shop.tz))
        .order_by().values("day", "customer__category_id")
        .annotate(n=Count("placed_at"), total=Sum(net))  # placed_at: from the covering index
        .values_list("day", "customer__category_id", "n", "total")
    )


def daily_moves(shop: Shop, when: Q):
    """(day, up, down) of the moves (not placements, not locks) matching `when`."""
    return (
        CategoryChange.objects.filter(MOVES, when, shop=shop)
        .annotate(day=TruncDate("changed_at", tzinfo=shop.tz))
        .order_by().values("day")
        .annotate(up=Count("pk", filter=Q(direction__gt=0)),
                  down=Count("pk", filter=Q(direction__lt=0)))
        .values_list("day", "up", "down")
    )


def _points(*kinds: str) -> Sum:
    return Sum("points", filter=Q(kind__in=kinds))


def daily_points(shop: Shop, when: Q):
    """(day, earned net of reversals, spent, expired, adjusted) as signed sums of the
    ledger entries matching `when` (spent and expired are negative)."""
    return (
        PointsEntry.objects.filter(when, shop=shop)
        .annotate(day=TruncDate("created_at", tzinfo=shop.tz))
        .order_by().values("day")
        .annotate(
            earned=_points(PointsKind.EARNED, PointsKind.CORRECTED, PointsKind.REVERSED),
            spent=_points(PointsKind.SPENT), expired=_points(PointsKind.EXPIRED),
            adjusted=_points(PointsKind.ADJUSTED),
        )
        .values_list("day", "earned", "spent", "expired", "adjusted")
    )


# --- writing ---------------------------------------------------------------------------------


def _write_orders(shop: Shop, ranges: list[Range]) -> None:
    DailyOrders.objects.filter(_days(ranges), shop=shop).delete()
    DailyOrders.objects.bulk_create(
        DailyOrders(shop=shop, day=day, category_id=category_id or NO_CATEGORY, orders=n,
                    total=Decimal(total or 0))
        for day, category_id, n, total in daily_orders(shop, _when(shop, "placed_at", ranges))
    )


def _count_activity(shop: Shop, when) -> dict[date, dict]:
    """{day: DailyActivity figures} of the moves and points entries matching `when(field)`
    (a filter on the timestamp field it is given)."""
    rows: dict[date, dict] = defaultdict(dict)
    for day, up, down in daily_moves(shop, when("changed_at")):
        rows[day].update(moves_up=up, moves_down=down)
    for day, earned, spent, expired, adjusted in daily_points(shop, when("created_at")):
        rows[day].update(earned=earned or 0, spent=spent or 0, expired=expired or 0,
                         adjusted=adjusted or 0)
    return rows


def _between(since: datetime, until: datetime):
    return lambda field: Q(**{f"{field}__gte": since, f"{field}__lt": until})


def _write_activity(shop: Shop, ranges: list[Range]) -> None:
    rows = _count_activity(shop, lambda field: _when(shop, field, ranges))
    DailyActivity.objects.filter(_days(ranges), shop=shop).delete()
    DailyActivity.objects.bulk_create(
        DailyActivity(shop=shop, day=day, **figures) for day, figures in rows.items()
    )


def _recount_today(shop: Shop, through: date) -> datetime:
    """The partial rows after `through` counted again, from its end to a settled moment."""
    start = _until(shop, through)
    cut = max(settled_before(timedelta(0)), start)
    DailyActivity.objects.filter(shop=shop, day__gt=through).delete()
    DailyActivity.objects.bulk_create(
        DailyActivity(shop=shop, day=day, **figures)
        for day, figures in _count_activity(shop, _between(start, cut)).items()
    )
    StatisticsRollup.objects.filter(shop=shop).update(activity_until=cut)
    return cut


@transaction.atomic
def rollup_refresh(shop_id: int, days: Iterable[date], *, orders_only: bool = False) -> None:
    """Count these days of the shop again from the source tables (both tables, or only the
    orders when nothing else can have changed)."""
    ranges = _ranges(days)
    if not ranges:
        return
    _lock(shop_id)
    shop = Shop.objects.get(pk=shop_id)
    _write_orders(shop, ranges)
    if not orders_only:
        _write_activity(shop, ranges)


@transaction.atomic
def rollup_rebuild(shop: Shop, *, through: date | None = None) -> date:
    """The shop's whole rollup again, every day up to `through` (yesterday, by default)."""
    through = through or shop.today() - timedelta(days=1)
    _lock(shop.pk)
    DailyOrders.objects.filter(shop=shop).delete()
    DailyActivity.objects.filter(shop=shop).delete()
    _write_orders(shop, [(None, through)])
    _write_activity(shop, [(None, through)])
    StatisticsRollup.objects.update_or_create(
        shop=shop, defaults={"through": through, "timezone": shop.timezone,
                             "activity_until": _until(shop, through)}
    )
    return through


@transaction.atomic
def rollup_close_days(shop: Shop, *, night_since: datetime | None = None) -> date:
    """Roll up the days since the shop's last run, up to yesterday (the nightly step's work
    for one shop); a shop without a usable rollup is rebuilt. Then today's moves and points
    so far: added to the partial rows when they reach no further than `night_since` (the
    earliest stamp the night's own rows carry, all committed now), counted again otherwise
    (the beat task may have passed rows of the night that were not committed yet)."""
    yesterday = shop.today() - timedelta(days=1)
    _lock(shop.pk)
    through = rolled_up_through(shop)
    if through is None:
        through = rollup_rebuild(shop, through=yesterday)
    elif through < yesterday:
        ranges = [(through + timedelta(days=1), yesterday)]
        _write_orders(shop, ranges)
        _write_activity(shop, ranges)
        StatisticsRollup.objects.filter(shop=shop).update(through=yesterday)
        through = yesterday
    if night_since is not None and rollup_state(shop)[1] <= night_since:
        rollup_today_advance(shop, margin=timedelta(0))
    else:
        _recount_today(shop, through)
    return through


@transaction.atomic
def rollup_today_advance(shop: Shop, *, margin: timedelta = TODAY_MARGIN) -> datetime | None:
    """Add the moves and points written since the last advance, up to a settled moment, to
    the partial rows of today (and of a day that ended meanwhile). Returns the new moment,
    or None for a shop without a usable rollup."""
    _lock(shop.pk)
    state = rollup_state(shop)
    if state is None:
        return None
    start, cut = state[1], settled_before(margin)
    if cut <= start:
        return start
    counted = _count_activity(shop, _between(start, cut))
    existing = {row.day: row for row in DailyActivity.objects.filter(shop=shop, day__in=counted)}
    new = []
    for day, figures in counted.items():
        row = existing.get(day)
        if row is None:
            new.append(DailyActivity(shop=shop, day=day, **figures))
            continue
        for name, value in figures.items():
            setattr(row, name, getattr(row, name) + value)
    DailyActivity.objects.bulk_create(new)
    DailyActivity.objects.bulk_update(existing.values(), ACTIVITY)
    StatisticsRollup.objects.filter(shop=shop).update(activity_until=cut)
    return cut


def statistics_today() -> dict:
    """The beat task: every shop's moves and points of today so far into the rollup.
    Returns {shop code: the moment reached, or None}."""
    reached = {shop.code: rollup_today_advance(shop) for shop in Shop.objects.all()}
    return {code: moment and moment.isoformat() for code, moment in reached.items()}


def statistics_rollup_nightly() -> dict:
    """The nightly step: every shop's rollup up to its yesterday. Returns {shop code: last
    day rolled up}."""
    return {shop.code: rollup_close_days(shop).isoformat() for shop in Shop.objects.all()}


# --- keeping it true as facts change ---------------------------------------------------------


def rollup_apply_batch(batch: list[FiguresChanged]) -> None:
    """A drain batch (after loyalty's own effects): the rolled-up days of its orders again.

    One query for the days of the batch's orders, then one refresh per shop."""
    order_ids = {e.order_id for e in batch if e.order_id is not None}
    if not order_ids:
        return
    shops = Shop.objects.in_bulk({e.shop_id for e in batch})
    for shop_id, shop in shops.items():
        through = rolled_up_through(shop)
        if through is None:
            continue
        days = set(
            Order.objects.filter(pk__in_ids=order_ids, shop_id=shop_id)
            .annotate(day=TruncDate("placed_at", tzinfo=shop.tz))
            .values_list("day", flat=True).distinct()
        )
        days = {day for day in days if day <= through}
        if days:
            rollup_refresh(shop_id, days, orders_only=True)


_UPSERT = """
INSERT INTO {table} (shop_id, day, category_id, orders, total) VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (shop_id, day, category_id) DO UPDATE
   SET orders = {table}.orders + excluded.orders, total = {table}.total + excluded.total
"""


#: PostgreSQL: the moved customers' rolled-up orders, per day, leave one category and join
#: another in one statement. {daily}: per pair of categories (from, to), the day, count and
#: net value of the counted orders of the customers who made that move, one aggregate per
#: pair (compiled by the ORM) read from the covering index of counted orders and grouped by
#: day alone: a handful of pairs, and no join of the orders to the moves (whose
#: under-estimated merge join sorted every order twice, spilling to disk).
_MOVES_SQL = """
WITH daily AS (
    {daily}
), delta AS (
    SELECT day, from_id AS category_id, -n AS n, -total AS total FROM daily
    UNION ALL
    SELECT day, to_id, n, total FROM daily
)
INSERT INTO {table} AS t (shop_id, day, category_id, orders, total)
SELECT %s, day, category_id, SUM(n), SUM(total) FROM delta
 GROUP BY day, category_id HAVING SUM(n) <> 0 OR SUM(total) <> 0
ON CONFLICT (shop_id, day, category_id) DO UPDATE
   SET orders = t.orders + excluded.orders, total = t.total + excluded.total
"""


def _daily_of(shop: Shop, when: Q, customer_ids):
    """(day, counted orders, net value) of these customers' counted orders matching `when`,
    per local day (counted from the covering index of counted orders)."""
    net = ExpressionWrapper(ORDER_NET_VALUE, output_field=AMOUNT)
    return (
        Order.objects.filter(COUNTED_ORDER, when, shop=shop, customer_id__in_ids=customer_ids)
        .annotate(day=TruncDate("placed_at", tzinfo=shop.tz)).order_by().values("day")
        .annotate(n=Count("placed_at"), total=Sum(net)).values_list("day", "n", "total")
    )


def _net_moves(shop_id: int, change_ids: list[int], moves=None) -> dict[int, tuple[int, int]]:
    """{customer: (category before the first change, after the last)} for customers whose
    category differs between the two (0 for none). `moves`: the changes as
    loyalty.events.Move in the order written, if the caller has them (else read)."""
    first_from: dict[int, int | None] = {}
    last_to: dict[int, int | None] = {}
    known = None if moves is None else ((m.customer_id, m.from_id, m.to_id) for m in moves)
    for customer_id, from_id, to_id in known if known is not None else (
        CategoryChange.objects.filter(pk__in_ids=change_ids, shop_id=shop_id)
        .order_by("pk").values_list("customer_id", "from_category_id", "to_category_id")
    ):
        first_from.setdefault(customer_id, from_id)
        last_to[customer_id] = to_id
    return {
        customer_id: (from_id or NO_CATEGORY, last_to[customer_id] or NO_CATEGORY)
        for customer_id, from_id in first_from.items() if from_id != last_to[customer_id]
    }


@transaction.atomic
def rollup_moves(shop_id: int, change_ids: Iterable[int], moves=None) -> None:
    """Customers moved (these CategoryChange rows): their rolled-up counted orders leave the
    category they were in before the first change and join the one after the last.
    `moves`: the same changes as loyalty.events.Move, when the writer handed them over."""
    change_ids = list(change_ids)
    if not change_ids:
        return
    shop = Shop.objects.get(pk=shop_id)
    _lock(shop_id)
    through = rolled_up_through(shop)
    if through is None:
        return
    movers: dict[tuple[int, int], list[int]] = defaultdict(list)  # by (from, to)
    for customer_id, pair in _net_moves(shop_id, change_ids, moves).items():
        movers[pair].append(customer_id)
    if not movers:
        return
    when = _when(shop, "placed_at", [(None, through)])
    table = DailyOrders._meta.db_table
    if connection.vendor == "postgresql":
        parts, params = [], []
        for (from_id, to_id), ids in movers.items():
            sql, pair_params = _daily_of(shop, when, ids).query.sql_with_params()
            # The ORM's own SQL; every value is a parameter.
            parts.append(f"SELECT %s::bigint AS from_id, %s::bigint AS to_id, p.*"  # noqa: S608
                         f" FROM ({sql}) p")
            params += [from_id, to_id, *pair_params]
        with connection.cursor() as cursor:
            cursor.execute(_MOVES_SQL.format(daily="\n    UNION ALL\n    ".join(parts),
                                             table=table), [*params, shop_id])
        return
    delta: dict[tuple[date, int], list] = defaultdict(lambda: [0, Decimal(0)])
    for (from_id, to_id), ids in movers.items():
        for start in range(0, len(ids), CHUNK):
            for day, n, total in _daily_of(shop, when, ids[start:start + CHUNK]):
                total = Decimal(total or 0)
                delta[(day, from_id)][0] -= n
                delta[(day, from_id)][1] -= total
                delta[(day, to_id)][0] += n
                delta[(day, to_id)][1] += total
    rows = [
        (shop_id, day, category_id, n, total)
        for (day, category_id), (n, total) in sorted(delta.items()) if n or total
    ]
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(_UPSERT.format(table=table), rows)
