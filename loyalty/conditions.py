"""Category rule conditions evaluated on a customer's figures. Pure: no ORM, no settings.

Contract
- `Figures` holds what the database measured for one customer as of a date (see
  loyalty/figures.py); `ConditionSpec` is one condition of a rule as plain data.
- `measure(condition, figures, as_of)` returns the figure the condition looks at;
  `check(condition, figures, as_of)` returns a `Check` (met or not, measured, wanted, gap).
- A window of N days holds the orders placed on or after local midnight N days before
  `as_of` (so an order placed exactly N days ago is inside, N+1 days ago is outside), in
  the shop's time zone; "days since the last counted order" uses the same local dates, so
  "an order in the last 90 days" and "days since last order < 91" agree.
- A customer without counted orders has no "days since": `>= N` holds, `< N` does not.
- `needs_of(categories)` lists the figures a set of rules needs, so the database computes
  nothing else.
- Points: "points earned in the last N days" is the sum of the earned, corrected and
  reversed ledger entries dated inside the window (net of reversals recorded in it); "balance"
  is the current balance, whatever `as_of`. Both compare whole points in `count`.
- Calendar periods (`period_spend`, `period_orders`): the current calendar year or quarter
  runs from its first day to `as_of` inclusive, the previous one is the whole year or quarter
  before it, local dates in the shop's time zone (`period_bounds`). As of 31 December the
  current year is that whole year; as of 1 January it is that single day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

CLIENT_TYPE = "client_type"
ACTIVE = "active"
WINDOW_SPEND = "window_spend"
WINDOW_ORDERS = "window_orders"
LARGEST_ORDER = "largest_order"
LIFETIME_SPEND = "lifetime_spend"
DAYS_SINCE_LAST_ORDER = "days_since_last_order"
BOUGHT_PRODUCT = "bought_product"
BOUGHT_COLLECTION = "bought_collection"
SHIPPING_METHOD_USED = "shipping_method_used"
DELIVERY_CITY = "delivery_city"
POINTS_EARNED = "points_earned"
POINTS_BALANCE = "points_balance"
LIFETIME_ORDERS = "lifetime_orders"
DISABLED = "disabled"
PERIOD_SPEND = "period_spend"
PERIOD_ORDERS = "period_orders"

CURRENT_YEAR, PREVIOUS_YEAR = "current_year", "previous_year"
CURRENT_QUARTER, PREVIOUS_QUARTER = "current_quarter", "previous_quarter"
PERIODS = (CURRENT_YEAR, PREVIOUS_YEAR, CURRENT_QUARTER, PREVIOUS_QUARTER)

GTE, LT = "gte", "lt"
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ConditionSpec:
    kind: str
    operator: str = GTE
    amount: Decimal | None = None
    count: int | None = None
    days: int | None = None
    client_type: str = ""
    text: str = ""
    product_id: int | None = None
    collection_id: int | None = None
    id: int | None = None
    period: str = ""


@dataclass(frozen=True, slots=True)
class RuleSpec:
    id: int | None
    name: str
    conditions: tuple[ConditionSpec, ...]


@dataclass(frozen=True, slots=True)
class CategorySpec:
    id: int
    name: str
    rank: int
    is_default: bool = False
    auto_enter: bool = True
    auto_leave: bool = True
    rules: tuple[RuleSpec, ...] = ()
    #: Days a customer who stops qualifying keeps the category (loyalty.decide).
    grace_days: int = 0
    #: (month, day) dates on which alone customers may move down out of the category.
    reevaluate_on: tuple[tuple[int, int], ...] = ()


@dataclass(slots=True)
class Figures:
    customer_id: int
    client_type: str = "retail"
    is_active: bool = True
    city: str = ""
    category_id: int | None = None
    locked: bool = False
    lifetime_spend: Decimal = ZERO
    lifetime_orders: int = 0
    largest_ever: Decimal = ZERO
    last_order_date: date | None = None
    window_spend: dict[int, Decimal] = field(default_factory=dict)
    window_orders: dict[int, int] = field(default_factory=dict)
    window_largest: dict[int, Decimal] = field(default_factory=dict)
    products: frozenset[int] = frozenset()
    collections: frozenset[int] = frozenset()
    shipping_counts: dict[str, int] = field(default_factory=dict)
    points_earned: dict[int, int] = field(default_factory=dict)
    points_balance: int = 0
    period_spend: dict[str, Decimal] = field(default_factory=dict)
    period_orders: dict[str, int] = field(default_factory=dict)
    # Lifecycle state (loyalty.CustomerLifecycle).
    grace_category_id: int | None = None
    grace_since: date | None = None
    manual_until: date | None = None


@dataclass(frozen=True, slots=True)
class Needs:
    """Which figures the database must compute for a set of rules."""

    spend_windows: frozenset[int] = frozenset()
    order_windows: frozenset[int] = frozenset()
    largest_windows: frozenset[int] = frozenset()
    lifetime: bool = False
    largest_ever: bool = False
    last_order: bool = False
    products: frozenset[int] = frozenset()
    collections: frozenset[int] = frozenset()
    shipping_methods: frozenset[str] = frozenset()
    lifetime_orders: bool = False
    points_windows: frozenset[int] = frozenset()
    points_balance: bool = False
    spend_periods: frozenset[str] = frozenset()
    order_periods: frozenset[str] = frozenset()

    @property
    def orders_at_all(self) -> bool:
        return bool(
            self.spend_windows or self.order_windows or self.largest_windows or self.lifetime
            or self.largest_ever or self.last_order or self.lifetime_orders
            or self.spend_periods or self.order_periods
        )

    def earliest_day(self, as_of: date) -> date | None:
        """The first local date any figure looks at, or None for the whole history."""
        if self.lifetime or self.largest_ever or self.last_order or self.lifetime_orders:
            return None
        days = [as_of - timedelta(days=d) for d in (
            self.spend_windows | self.order_windows | self.largest_windows)]
        days += [period_bounds(p, as_of)[0] for p in self.spend_periods | self.order_periods]
        return min(days) if days else None

    @property
    def oldest_window(self) -> int | None:
        """The longest window, or None when some figure needs the whole history."""
        if self.lifetime or self.largest_ever or self.last_order or self.lifetime_orders:
            return None
        windows = self.spend_windows | self.order_windows | self.largest_windows
        return max(windows) if windows else None


def needs_of(categories) -> Needs:
    """`categories`: anything with `.rules` (categories, segments)."""
    spend, orders, largest = set(), set(), set()
    lifetime = largest_ever = last = lifetime_orders = False
    products, collections, methods = set(), set(), set()
    points_windows, points_balance = set(), False
    spend_periods, order_periods = set(), set()
    for category in categories:
        for rule in category.rules:
            for c in rule.conditions:
                if c.kind == WINDOW_SPEND:
                    spend.add(c.days)
                elif c.kind == WINDOW_ORDERS:
                    orders.add(c.days)
                elif c.kind == LARGEST_ORDER:
                    if c.days:
                        largest.add(c.days)
                    else:
                        largest_ever = True
                elif c.kind == LIFETIME_SPEND:
                    lifetime = True
                elif c.kind == LIFETIME_ORDERS:
                    lifetime_orders = True
                elif c.kind == DAYS_SINCE_LAST_ORDER:
                    last = True
                elif c.kind == BOUGHT_PRODUCT and c.product_id:
                    products.add(c.product_id)
                elif c.kind == BOUGHT_COLLECTION and c.collection_id:
                    collections.add(c.collection_id)
                elif c.kind == SHIPPING_METHOD_USED and c.text:
                    methods.add(c.text)
                elif c.kind == POINTS_EARNED:
                    points_windows.add(c.days)
                elif c.kind == POINTS_BALANCE:
                    points_balance = True
                elif c.kind == PERIOD_SPEND and c.period in PERIODS:
                    spend_periods.add(c.period)
                elif c.kind == PERIOD_ORDERS and c.period in PERIODS:
                    order_periods.add(c.period)
    return Needs(
        frozenset(spend), frozenset(orders), frozenset(largest), lifetime, largest_ever, last,
        frozenset(products), frozenset(collections), frozenset(methods), lifetime_orders,
        points_windows=frozenset(points_windows), points_balance=points_balance,
        spend_periods=frozenset(spend_periods), order_periods=frozenset(order_periods),
    )


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def period_bounds(period: str, as_of: date) -> tuple[date, date]:
    """The local dates [first, end) of a calendar period as of a date (end exclusive)."""
    if period == CURRENT_YEAR:
        return date(as_of.year, 1, 1), as_of + timedelta(days=1)
    if period == PREVIOUS_YEAR:
        return date(as_of.year - 1, 1, 1), date(as_of.year, 1, 1)
    start = _quarter_start(as_of)
    if period == CURRENT_QUARTER:
        return start, as_of + timedelta(days=1)
    if period == PREVIOUS_QUARTER:
        return _quarter_start(start - timedelta(days=1)), start
    raise ValueError(f"unknown calendar period {period!r}")


def measure(c: ConditionSpec, f: Figures, as_of: date):
    kind = c.kind
    if kind == WINDOW_SPEND:
        return f.window_spend.get(c.days, ZERO)
    if kind == WINDOW_ORDERS:
        return f.window_orders.get(c.days, 0)
    if kind == CLIENT_TYPE:
        return f.client_type
    if kind == ACTIVE:
        return f.is_active
    if kind == DISABLED:
        return not f.is_active
    if kind == LIFETIME_ORDERS:
        return f.lifetime_orders
    if kind == LARGEST_ORDER:
        return f.window_largest.get(c.days, ZERO) if c.days else f.largest_ever
    if kind == LIFETIME_SPEND:
        return f.lifetime_spend
    if kind == DAYS_SINCE_LAST_ORDER:
        return None if f.last_order_date is None else (as_of - f.last_order_date).days
    if kind == BOUGHT_PRODUCT:
        return c.product_id in f.products
    if kind == BOUGHT_COLLECTION:
        return c.collection_id in f.collections
    if kind == SHIPPING_METHOD_USED:
        return f.shipping_counts.get(c.text, 0)
    if kind == DELIVERY_CITY:
        return f.city
    if kind == POINTS_EARNED:
        return f.points_earned.get(c.days, 0)
    if kind == POINTS_BALANCE:
        return f.points_balance
    if kind == PERIOD_SPEND:
        return f.period_spend.get(c.period, ZERO)
    if kind == PERIOD_ORDERS:
        return f.period_orders.get(c.period, 0)
    raise ValueError(f"unknown condition kind {kind!r}")


def _compare(value, operator: str, wanted) -> bool:
    return value >= wanted if operator == GTE else value < wanted


def holds(c: ConditionSpec, value) -> bool:
    kind = c.kind
    if kind in (WINDOW_SPEND, LIFETIME_SPEND, PERIOD_SPEND):
        return _compare(value, c.operator, c.amount or ZERO)
    if kind == LARGEST_ORDER:
        return value >= (c.amount or ZERO)
    if kind in (WINDOW_ORDERS, LIFETIME_ORDERS, POINTS_EARNED, POINTS_BALANCE, PERIOD_ORDERS):
        return _compare(value, c.operator, c.count or 0)
    if kind == DAYS_SINCE_LAST_ORDER:
        if value is None:
            return c.operator == GTE
        return _compare(value, c.operator, c.count or 0)
    if kind == SHIPPING_METHOD_USED:
        return value >= (c.count or 1)
    if kind == CLIENT_TYPE:
        return value == c.client_type
    if kind == DELIVERY_CITY:
        return value.strip().casefold() == c.text.strip().casefold()
    return bool(value)  # active, disabled, bought product / collection


def wanted(c: ConditionSpec):
    """The threshold or value a condition asks for, for explanations."""
    if c.kind in (WINDOW_SPEND, LIFETIME_SPEND, LARGEST_ORDER, PERIOD_SPEND):
        return c.amount or ZERO
    if c.kind in (
        WINDOW_ORDERS, LIFETIME_ORDERS, DAYS_SINCE_LAST_ORDER, POINTS_EARNED, POINTS_BALANCE,
        PERIOD_ORDERS,
    ):
        return c.count or 0
    if c.kind == SHIPPING_METHOD_USED:
        return c.count or 1
    if c.kind == CLIENT_TYPE:
        return c.client_type
    if c.kind == DELIVERY_CITY:
        return c.text
    return True


@dataclass(frozen=True, slots=True)
class Check:
    condition: ConditionSpec
    met: bool
    measured: object
    wanted: object
    #: How far a numeric figure is from meeting the condition (0 when met), else None.
    gap: object


def check(c: ConditionSpec, f: Figures, as_of: date) -> Check:
    value = measure(c, f, as_of)
    met = holds(c, value)
    want = wanted(c)
    gap = None
    if isinstance(want, (int, Decimal)) and not isinstance(want, bool) and value is not None:
        if met:
            gap = 0
        elif c.operator == GTE or c.kind in (LARGEST_ORDER, SHIPPING_METHOD_USED):
            gap = want - value
        else:
            gap = value - want + (1 if isinstance(want, int) else 0)
    return Check(c, met, value, want, gap)


def rule_holds(rule: RuleSpec, f: Figures, as_of: date) -> bool:
    # A rule without conditions never holds: an empty rule must not pull everyone in.
    if not rule.conditions:
        return False
    return all(holds(c, measure(c, f, as_of)) for c in rule.conditions)


def compile_condition(c: ConditionSpec, as_of: date):
    """A fast predicate equal to `holds(c, measure(c, f, as_of))` (tested to agree), for
    recalculations that evaluate the same rules on millions of customers."""
    kind, gte = c.kind, c.operator == GTE
    amount, count, days = c.amount or ZERO, c.count or 0, c.days
    if kind == WINDOW_SPEND:
        if gte:
            return lambda f: f.window_spend.get(days, ZERO) >= amount
        return lambda f: f.window_spend.get(days, ZERO) < amount
    if kind == WINDOW_ORDERS:
        if gte:
            return lambda f: f.window_orders.get(days, 0) >= count
        return lambda f: f.window_orders.get(days, 0) < count
    if kind == CLIENT_TYPE:
        client_type = c.client_type
        return lambda f: f.client_type == client_type
    if kind == LIFETIME_SPEND:
        if gte:
            return lambda f: f.lifetime_spend >= amount
        return lambda f: f.lifetime_spend < amount
    if kind == LIFETIME_ORDERS:
        if gte:
            return lambda f: f.lifetime_orders >= count
        return lambda f: f.lifetime_orders < count
    if kind == PERIOD_SPEND:
        period = c.period
        if gte:
            return lambda f: f.period_spend.get(period, ZERO) >= amount
        return lambda f: f.period_spend.get(period, ZERO) < amount
    if kind == PERIOD_ORDERS:
        period = c.period
        if gte:
            return lambda f: f.period_orders.get(period, 0) >= count
        return lambda f: f.period_orders.get(period, 0) < count
    if kind == LARGEST_ORDER and days:
        return lambda f: f.window_largest.get(days, ZERO) >= amount
    if kind == LARGEST_ORDER:
        return lambda f: f.largest_ever >= amount
    return lambda f: holds(c, measure(c, f, as_of))


def compile_rule(rule: RuleSpec, as_of: date):
    """A predicate for a whole rule (conditions AND-ed; an empty rule never holds)."""
    if not rule.conditions:
        return lambda f: False
    predicates = tuple(compile_condition(c, as_of) for c in rule.conditions)
    if len(predicates) == 1:
        return predicates[0]
    return lambda f: all(p(f) for p in predicates)


def label(c: ConditionSpec) -> str:
    """A stable key for a condition's figure in history rows, e.g. "window_spend_60d"."""
    if c.days and c.kind in (WINDOW_SPEND, WINDOW_ORDERS, LARGEST_ORDER, POINTS_EARNED):
        return f"{c.kind}_{c.days}d"
    if c.kind in (PERIOD_SPEND, PERIOD_ORDERS) and c.period:
        return f"{c.kind}_{c.period}"
    if c.kind == SHIPPING_METHOD_USED:
        return f"{c.kind}_{c.text}"
    if c.kind == BOUGHT_PRODUCT:
        return f"{c.kind}_{c.product_id}"
    if c.kind == BOUGHT_COLLECTION:
        return f"{c.kind}_{c.collection_id}"
    return c.kind


def as_json(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def measured_figures(rule: RuleSpec, f: Figures, as_of: date) -> dict:
    return {label(c): as_json(measure(c, f, as_of)) for c in rule.conditions}
