"""Statistics for the admin: one shop, one date range, a list of sections.

Each section is a function `(period) -> Table` built from aggregate queries (a fixed number
per section, whatever the number of customers), so the page costs the same number of
statements on 10 customers or 1M. `SECTIONS` lists them in page order: a new section is one
more function there, or one `add_section` call from another app's ready() (the page, its
chart and its CSV export follow).

- Dates are the shop's local dates, both ends included: `start` 00:00 to the midnight after
  `end`, in the shop's time zone.
- "Customers per category/segment" are counts now, not over the range; segments show the
  member count stored with their membership (exact as of the last refresh).
- "Average counted order value" is over the counted orders placed in the range (completed,
  paid in full, value net of returns: shops.counting), grouped by the customer's category
  now. The average is the exact sum divided by the count, rounded half up to the cent once.
- "Moves" are category changes in the range that went up or down by rules, the fallback or
  staff; the placement of a newly registered customer and locks are not moves. Weeks are
  ISO weeks of the shop's local dates; weeks without moves are listed with zeros.
- "Points earned and spent" is the points ledger per ISO week, each entry in the week it
  was written (a return reverses points in the week of the return, not of the order):
  earned is net of reversals (earned + corrected + reversed, reversed being negative), so a
  week with more returned than earned shows a negative figure; spent and expired are shown
  as positive numbers; staff adjustments are their own, signed column, so the four columns
  add up to the change in the customers' balances.
- Other apps' sections are theirs: "Notifications sent" is notifications.selectors'.

The order, move and points figures come from the daily rollup (loyalty.rollup) for the days
it holds and from the source tables for the days after (usually today only), so a page
costs the same on a week or three years, and shows the same numbers as counting the source
rows directly (`Period(..., rollup=False)` does that, for comparison).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.db import connection, transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, Q, Sum
from django.db.models.functions import TruncWeek
from django.utils.translation import gettext as _

from shops.counting import COUNTED_ORDER, ORDER_NET_VALUE
from shops.models import Customer, Order, Shop

from . import rollup as rollups
from .models import (
    MOVES,
    Category,
    CategoryChange,
    DailyActivity,
    DailyOrders,
    PointsEntry,
    PointsKind,
    Segment,
)

CENT = Decimal("0.01")
AMOUNT = DecimalField(max_digits=16, decimal_places=2)


@dataclass(frozen=True)
class Period:
    shop: Shop
    start: date
    end: date  # included
    #: Read the rolled-up days from the rollup (False: count every source row).
    rollup: bool = True

    @cached_property
    def _state(self) -> tuple[date, datetime] | None:
        return rollups.rollup_state(self.shop) if self.rollup else None

    @cached_property
    def through(self) -> date | None:
        """The last day of the range read from the rollup (None: none of it)."""
        if self._state is None or self._state[0] < self.start:
            return None
        return min(self._state[0], self.end)

    @cached_property
    def activity(self) -> tuple[date | None, tuple[datetime, datetime] | None]:
        """Where moves and points come from: the last day of the range read from the rollup
        (today's partial row included; None: none of it), and the instants [since, until)
        counted from the source rows (None: none)."""
        since, until = self.since, self.until
        if self._state is None:
            return None, (since, until)
        cut = self._state[1]
        last_day = min(cut.astimezone(self.shop.tz).date(), self.end)
        live_since = max(since, cut)
        return (
            last_day if last_day >= self.start else None,
            (live_since, until) if live_since < until else None,
        )

    @property
    def live(self) -> Period | None:
        """The part of the range counted from the source rows (after the rollup's days)."""
        if self.through is None:
            return replace(self, rollup=False)
        if self.through >= self.end:
            return None
        return Period(self.shop, self.through + timedelta(days=1), self.end, rollup=False)

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=self.shop.tz)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=self.shop.tz)


@dataclass(frozen=True)
class Chart:
    """How to draw a table: `kind` is Chart.js's ("bar", "line"), labels from column
    `label`, one data set per column in `series`."""

    kind: str
    label: int = 0
    series: tuple[int, ...] = (1,)


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple] = field(default_factory=list)
    chart: Chart | None = None

    def chart_data(self) -> dict | None:
        """The chart as Chart.js data (plain JSON types)."""
        if self.chart is None:
            return None
        return {
            "type": self.chart.kind,
            "labels": [str(row[self.chart.label]) for row in self.rows],
            "datasets": [
                {"label": str(self.columns[i]), "data": [_number(row[i]) for row in self.rows]}
                for i in self.chart.series
            ],
        }


def _number(value):
    if isinstance(value, Decimal):
        return float(value)
    return value if value is not None else 0


def _average(total, count) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total) / count).quantize(CENT, ROUND_HALF_UP)


def customers_per_category(period: Period) -> Table:
    # One GROUP BY over the shop's customers (an index-only scan of (shop, category)), not
    # a join from the categories, which PostgreSQL runs as a hash of every customer.
    counts = dict(
        Customer.objects.filter(shop=period.shop).order_by().values("category_id")
        .annotate(n=Count("pk")).values_list("category_id", "n")
    )
    rows = [
        (name, counts.get(pk, 0))
        for pk, name in Category.objects.filter(shop=period.shop).order_by("-rank")
        .values_list("pk", "name")
    ]
    without = counts.get(None, 0)
    if without:
        rows.append((_("(no category)"), without))
    return Table(
        "customers_per_category", _("Customers per category (now)"),
        (_("Category"), _("Customers")), rows, Chart("bar"),
    )


def customers_per_segment(period: Period) -> Table:
    # The counts stored with the membership (exact after a refresh, kept by ±1 on each
    # customer's refresh): counting a million member rows would cost a second per page.
    segments = (
        Segment.objects.filter(shop=period.shop).order_by("name")
        .values_list("name", "built_in", "member_count")
    )
    labels = dict(Segment._meta.get_field("built_in").choices)
    rows = [(str(labels[built_in]) if built_in else name, n) for name, built_in, n in segments]
    return Table(
        "customers_per_segment", _("Customers per segment (now)"),
        (_("Segment"), _("Customers")), rows, Chart("bar"),
    )


def average_order_value_per_category(period: Period) -> Table:
    names = list(
        Category.objects.filter(shop=period.shop).order_by("-rank").values_list("pk", "name")
    )
    known = {pk for pk, _name in names}
    by_category: dict[int | None, list] = {}

    def add(category_id, orders, total):
        key = category_id if category_id in known else None  # deleted: "(no category)"
        figures = by_category.setdefault(key, [0, Decimal(0)])
        figures[0] += orders
        figures[1] += Decimal(total or 0)

    if period.through is not None:
        for category_id, orders, total in (
            DailyOrders.objects.filter(
                shop=period.shop, day__gte=period.start, day__lte=period.through
            )
            .order_by().values("category_id").annotate(n=Sum("orders"), total=Sum("total"))
            .values_list("category_id", "n", "total")
        ):
            if orders:
                add(category_id, orders, total)
    live = period.live
    if live is not None:
        net = ExpressionWrapper(ORDER_NET_VALUE, output_field=AMOUNT)
        for category_id, orders, total in (
            Order.objects.filter(
                COUNTED_ORDER, shop=live.shop, placed_at__gte=live.since,
                placed_at__lt=live.until, customer__shop=live.shop,  # hash only its customers
            )
            .order_by().values("customer__category_id")
            .annotate(orders=Count("pk"), total=Sum(net))
            .values_list("customer__category_id", "orders", "total")
        ):
            add(category_id, orders, total)
    if None in by_category:
        names.append((None, _("(no category)")))
    rows = []
    for pk, name in names:
        orders, total = by_category.get(pk, (0, Decimal(0)))
        total = Decimal(total or 0).quantize(CENT)
        rows.append((name, orders, total, _average(total, orders)))
    return Table(
        "average_order_value_per_category",
        _("Average counted order value per category (%(currency)s)")
        % {"currency": period.shop.currency},
        (_("Category"), _("Counted orders"), _("Total value"), _("Average value")), rows,
        Chart("bar", series=(3,)),
    )


def _weeks(period: Period) -> list[date]:
    monday = period.start - timedelta(days=period.start.weekday())
    weeks = []
    while monday <= period.end:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


def _add_week(figures: dict, monday: date, values) -> None:
    old = figures.get(monday)
    values = tuple(value or 0 for value in values)
    if old is not None:
        values = tuple(a + b for a, b in zip(old, values, strict=True))
    figures[monday] = values


def _weekly(period: Period, live_query, columns: tuple[str, ...]) -> dict:
    """{week's Monday: figures} over the range: the rollup's days (`columns` of
    DailyActivity, summed per day's ISO week, today's partial row included) and the rows
    written after it (`live_query(shop, since, until)`: rows (week start from TruncWeek in
    the shop's zone, *figures))."""
    figures: dict[date, tuple] = {}
    last_day, live = period.activity
    if last_day is not None:
        for day, *values in (
            DailyActivity.objects.filter(
                shop=period.shop, day__gte=period.start, day__lte=last_day
            ).order_by("day").values_list("day", *columns)
        ):
            _add_week(figures, day - timedelta(days=day.weekday()), values)
    if live is not None:
        tz = period.shop.tz
        for week, *values in live_query(period.shop, *live):
            monday = week.astimezone(tz).date() if isinstance(week, datetime) else week
            _add_week(figures, monday, values)
    return figures


def _weekly_rows(period: Period, figures: dict, width: int) -> list[tuple]:
    """Rows ("2026-W10", *figures) for every ISO week of the range; missing weeks get
    zeros."""
    rows = []
    for monday in _weeks(period):
        year, number, _day = monday.isocalendar()
        rows.append((f"{year}-W{number:02d}", *figures.get(monday, (0,) * width)))
    return rows


def _live_moves(shop: Shop, since: datetime, until: datetime):
    return (
        CategoryChange.objects.filter(MOVES, shop=shop, changed_at__gte=since,
                                      changed_at__lt=until)
        .annotate(week=TruncWeek("changed_at", tzinfo=shop.tz))
        .order_by().values("week")
        # Counted by a column of the moves index (loyalty change_moves_idx), not the id.
        .annotate(up=Count("direction", filter=Q(direction__gt=0)),
                  down=Count("direction", filter=Q(direction__lt=0)))
        .values_list("week", "up", "down")
    )


def moves_per_week(period: Period) -> Table:
    figures = _weekly(period, _live_moves, ("moves_up", "moves_down"))
    rows = _weekly_rows(period, figures, 2)
    return Table(
        "moves_per_week", _("Moves between categories per week"),
        (_("Week"), _("Up"), _("Down")), rows, Chart("line", series=(1, 2)),
    )


def _points(*kinds: str) -> Sum:
    return Sum("points", filter=Q(kind__in=kinds))


def _live_points(shop: Shop, since: datetime, until: datetime):
    return (
        PointsEntry.objects.filter(shop=shop, created_at__gte=since, created_at__lt=until)
        .annotate(week=TruncWeek("created_at", tzinfo=shop.tz))
        .order_by().values("week")
        .annotate(
            earned=_points(PointsKind.EARNED, PointsKind.CORRECTED, PointsKind.REVERSED),
            spent=_points(PointsKind.SPENT), expired=_points(PointsKind.EXPIRED),
            adjusted=_points(PointsKind.ADJUSTED),
        )
        .values_list("week", "earned", "spent", "expired", "adjusted")
    )


def points_per_week(period: Period) -> Table:
    figures = _weekly(period, _live_points, ("earned", "spent", "expired", "adjusted"))
    rows = [
        (week, earned, -spent, -expired, adjusted)
        for week, earned, spent, expired, adjusted in _weekly_rows(period, figures, 4)
    ]
    return Table(
        "points_per_week", _("Points earned and spent per week"),
        (_("Week"), _("Earned (net of reversals)"), _("Spent"), _("Expired"),
         _("Adjusted by staff")),
        rows, Chart("line", series=(1, 2, 3)),
    )


Section = Callable[[Period], Table]

#: The page's sections, in order: one function each. Loyalty's own come first; apps that
#: build on loyalty add theirs from their AppConfig.ready() with `add_section` (notifications:
#: messages sent), so that loyalty imports none of them.
SECTIONS: list[Section] = [
    customers_per_category,
    customers_per_segment,
    average_order_value_per_category,
    moves_per_week,
    points_per_week,
]


def add_section(make: Section) -> None:
    """Add another app's section at the end of the page (once; its name is its CSV key)."""
    if make not in SECTIONS:
        SECTIONS.append(make)


@contextmanager
def _one_snapshot():
    """The page's statements see one state of the database: the rollup's rows and the
    moment after which rows are counted live are read together, even while the beat task
    or the night moves that moment on (REPEATABLE READ on PostgreSQL; SQLite's read
    transaction is one snapshot already)."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def statistics(period: Period) -> list[Table]:
    with _one_snapshot():
        return [make(period) for make in SECTIONS]


def section(period: Period, key: str) -> Table | None:
    for make in SECTIONS:
        if make.__name__ == key:
            with _one_snapshot():
                return make(period)
    return None
