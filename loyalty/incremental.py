"""Which customers an incremental night must re-examine: the *candidate sources*.

A customer's category and segments are a function of their figures (loyalty.figures), their
own fields (client type, active, city), their current category and lock, the rules, and the
day (`as_of`). A night that starts from the state the last pass left (per shop, in
`NightlyState`) therefore only needs the customers for whom one of these inputs can have
changed since that pass. Each source below is one set-based query that answers "these
customers, maybe" for one kind of change; the union is the candidate set. A source may
return too many customers (they cost time, never a wrong result); one that misses a
customer would leave them where a full pass would move them, so the property tests
(tests/loyalty/test_nightly_property.py) compare incremental and full nights on random
histories.

Changes since the last pass are found by high-water marks (ids seen by the last pass,
exact whatever the clocks say) and, for rows written by transactions still open when the
last pass read its marks, by time (`since`: the last pass's start minus
`FRESHNESS_MARGIN`). Changes of the day are found from the edges of the rules' windows:
an order leaves an N-day window when as_of moves past its placed date + N, a customer
crosses a days-since-last-order threshold N when their last order's date + N falls between
the two days. The edges are the exact bounds loyalty.figures measures with (a window
starts at local midnight of as_of - N; the property tests hold them to it).

An order leaving a window only lowers the customer's window figures. When every window
condition of the holders is "at least" (so lower figures never make one hold that did
not), the leaving order matters only to customers who hold something by a window
condition: whose current category has one among its rules (a higher category cannot start
to hold, and the rules of the one they are in, without windows, hold as before), or who are
members of a segment with one (segments are only left, never joined, on lower figures). The
others are not candidates for it (`edges_of(..., by_holding=True)`; the night's category
and segment steps ask so, the notices, which also look at how close a customer is, do not).

Rule, category, segment, policy or time-zone edits are not candidates: they make the whole
shop's next night a full pass (loyalty.nightly).

Another app (or feature) that adds something time-driven registers a source with
`register_source(name, source)`: `source(window)` returns an iterable or a queryset of
customer ids (a `values_list(..., flat=True)`), evaluated once per night.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from django.db.models import Max, Q

from shops.counting import COUNTED_ORDER
from shops.models import Customer, IntakeEvent, Order, Shop

from . import conditions as c
from .figures import local_midnight
from .membership import SegmentSpec
from .models import CategoryChange, PointsEntry, PointsKind, SegmentMember

#: How long a transaction that writes facts may stay open: rows it wrote may carry ids
#: below the last pass's marks and times before its start.
FRESHNESS_MARGIN = timedelta(minutes=10)


@dataclass(frozen=True)
class Edges:
    """The day-relative lengths the rules use."""

    #: Window lengths over orders (spend, orders, largest order in N days).
    order_windows: frozenset[int] = frozenset()
    #: Days-since-last-order thresholds.
    days_since: frozenset[int] = frozenset()
    #: Window lengths over points earned.
    points_windows: frozenset[int] = frozenset()
    #: An order leaving a window matters only to customers holding one of these (ids of
    #: categories, `held_as` "category", or segments, "segment"); None: to every customer.
    leaving_matters_for: frozenset[int] | None = None
    held_as: str = ""


WINDOW_KINDS = (c.WINDOW_SPEND, c.WINDOW_ORDERS, c.LARGEST_ORDER)


def edges_of(holders, *, by_holding: bool = False) -> Edges:
    """`holders`: categories or segments (anything with `.rules` of condition specs).
    `by_holding`: orders leaving a window are candidates only for the customers holding a
    category or segment by a window condition, when that is sound (see the module's doc)."""
    holders = list(holders)
    orders, since, pts = set(), set(), set()
    windowed, at_least = set(), True
    for holder in holders:
        for rule in holder.rules:
            for cond in rule.conditions:
                if cond.kind in WINDOW_KINDS and cond.days:
                    orders.add(cond.days)
                    windowed.add(holder.id)
                    at_least = at_least and cond.operator == c.GTE
                elif cond.kind == c.DAYS_SINCE_LAST_ORDER:
                    since.add(cond.count or 0)
                elif cond.kind == c.POINTS_EARNED and cond.days:
                    pts.add(cond.days)
    edges = Edges(frozenset(orders), frozenset(since), frozenset(pts))
    kinds = {"segment" if isinstance(h, SegmentSpec) else "category" for h in holders}
    if by_holding and at_least and len(kinds) == 1:
        edges = replace(edges, leaving_matters_for=frozenset(windowed), held_as=kinds.pop())
    return edges


@dataclass(frozen=True)
class Window:
    """What lies between the last pass and this night, for one shop."""

    shop: Shop
    last_as_of: date
    as_of: date
    #: The last pass's start minus FRESHNESS_MARGIN.
    since: datetime
    last_entry_id: int
    last_customer_id: int
    last_change_id: int
    last_event_id: int
    edges: Edges = field(default_factory=Edges)
    #: The moment the last pass's points expiry wrote its entries against (its `now`).
    last_now: datetime | None = None

    def day_range(self, days: int, *, extra: int = 0) -> tuple[datetime, datetime]:
        """[start, end) of the instants an N-day window starting at local midnight of
        (as_of - N + extra) loses between last_as_of and as_of: exactly the bounds
        loyalty.figures uses (window_start), one day per night."""
        start = self.last_as_of - timedelta(days=days - extra)
        end = self.as_of - timedelta(days=days - extra)
        return local_midnight(self.shop, start), local_midnight(self.shop, end)

    def new_days(self) -> tuple[datetime, datetime]:
        """[start, end) of the days that enter the end of every window (after last_as_of
        up to as_of)."""
        return (local_midnight(self.shop, self.last_as_of + timedelta(days=1)),
                local_midnight(self.shop, self.as_of + timedelta(days=1)))


#: Every built-in source clears the model's default ordering: with DISTINCT, Django would
#: otherwise add the ordering columns to the selected ones (and sort every row).
Source = Callable[[Window], Iterable[int]]
_sources: list[tuple[str, Source]] = []
#: Sources whose answer is the same for every step of a night (nothing a step writes
#: changes it): asked once per night (`candidates(..., cache=)`).
_per_night: set[str] = set()
#: Sources asked again in a night only when their probe's answer changed (a step wrote
#: rows they read): {name: probe(window) -> a value}.
_probes: dict[str, Callable[[Window], object]] = {}


def register_source(
    name: str, source: Source, *, per_night: bool = False,
    probe: Callable[[Window], object] | None = None,
) -> None:
    """Add a candidate source (idempotent by name: a re-registration replaces it).
    `per_night`: no step of the night changes what it finds (it is then asked once).
    `probe`: a cheap query whose answer changes whenever a step wrote something the source
    finds (the highest id of its table, say): asked again only then."""
    _per_night.discard(name)
    _probes.pop(name, None)
    if per_night:
        _per_night.add(name)
    if probe is not None:
        _probes[name] = probe
    for i, (existing, _fn) in enumerate(_sources):
        if existing == name:
            _sources[i] = (name, source)
            return
    _sources.append((name, source))


def sources() -> list[tuple[str, Source]]:
    return list(_sources)


def candidates(window: Window, *, cache: dict | None = None) -> tuple[set[int], dict[str, int]]:
    """The union of every source's customers, and how many each source gave. `cache`
    (one per night) keeps the per-night sources' answers for the night's later steps."""
    found: set[int] = set()
    counts: dict[str, int] = {}
    for name, source in _sources:
        probe = _probes.get(name) if cache is not None else None
        if probe is not None:
            seen = probe(window)
            cached = cache.get(("probed", name))
            if cached is not None and cached[0] == seen:
                ids = cached[1]
            else:
                ids = set(source(window))
                cache[("probed", name)] = (seen, ids)
        elif cache is not None and name in _per_night and name in cache:
            ids = cache[name]
        else:
            ids = set(source(window))
            if cache is not None and name in _per_night:
                cache[name] = ids
        counts[name] = len(ids)
        found |= ids
    return found, counts


# --- the built-in sources ----------------------------------------------------------------------


def order_events(w: Window):
    """Orders that started or stopped counting, or whose value changed (returns, edits):
    the intake events written with them, in the order's own transaction."""
    return IntakeEvent.objects.filter(
        Q(pk__gt=w.last_event_id) | Q(created_at__gte=w.since), shop=w.shop,
    ).order_by().values_list("customer_id", flat=True).distinct()


def orders_stamped(w: Window):
    """Customers whose orders (or, through shops.services, whose own rule-read fields)
    changed since: the stamp covers changes whose intake events were already cleaned up."""
    return Customer.objects.filter(
        shop=w.shop, orders_changed_at__gte=w.since
    ).order_by().values_list("pk", flat=True)


def new_customers(w: Window):
    return Customer.objects.filter(
        shop=w.shop, pk__gt=w.last_customer_id
    ).order_by().values_list("pk", flat=True)


def category_changes(w: Window):
    """Moves and locks by staff, the intake's recalculations, the last pass's own moves."""
    return CategoryChange.objects.filter(
        Q(pk__gt=w.last_change_id) | Q(changed_at__gte=w.since), shop=w.shop,
    ).order_by().values_list("customer_id", flat=True).distinct()


def points_entries(w: Window):
    """Balances and points earned move only with ledger entries (earning, spending,
    adjustments, reversals, expiry). The last pass's own expiry entries (kind "expired",
    written at its `now`) are left out: that pass expired them before its category and
    segment steps, which saw those customers then."""
    entries = PointsEntry.objects.filter(
        Q(pk__gt=w.last_entry_id) | Q(created_at__gte=w.since), shop=w.shop,
    )
    if w.last_now is not None:
        entries = entries.exclude(kind=PointsKind.EXPIRED, created_at=w.last_now)
    return entries.order_by().values_list("customer_id", flat=True).distinct()


def _placed_between(w: Window, ranges: list[tuple[datetime, datetime]]):
    if not ranges:
        return []
    when = Q()
    for start, end in ranges:
        when |= Q(placed_at__gte=start, placed_at__lt=end)
    return Order.objects.filter(COUNTED_ORDER, when, shop=w.shop).order_by().values_list(
        "customer_id", flat=True).distinct()


def _holding(edges: Edges) -> Q:
    """The customers an order leaving a window can matter to (a filter on orders)."""
    ids = edges.leaving_matters_for
    if ids is None:
        return Q()
    if edges.held_as == "segment":
        return Q(customer_id__in=SegmentMember.objects.filter(segment_id__in=ids)
                 .values("customer_id"))
    return Q(customer__category_id__in=ids) | Q(customer__category_id__isnull=True)


def window_edges(w: Window):
    """Orders that leave an N-day window (placed date + N between the two days), of the
    customers they can matter to, and orders placed on the days that enter the windows' end
    (back-dated imports, a later as_of)."""
    start, end = w.new_days()
    when = Q(placed_at__gte=start, placed_at__lt=end)
    if w.edges.leaving_matters_for != frozenset():
        leaving = Q()
        for start, end in (w.day_range(days) for days in sorted(w.edges.order_windows)):
            leaving |= Q(placed_at__gte=start, placed_at__lt=end)
        if leaving:
            when |= leaving & _holding(w.edges)
    return Order.objects.filter(COUNTED_ORDER, when, shop=w.shop).order_by().values_list(
        "customer_id", flat=True).distinct()


def days_since_thresholds(w: Window):
    """Customers whose last order's date + N falls between the two days (a superset: any
    counted order on those dates)."""
    return _placed_between(w, [w.day_range(n, extra=1) for n in sorted(w.edges.days_since)])


def points_window_edges(w: Window):
    """Ledger entries that leave an N-day points window, or fall on the entering days."""
    if not w.edges.points_windows:
        return []
    when = Q()
    for start, end in [w.day_range(d) for d in sorted(w.edges.points_windows)] + [w.new_days()]:
        when |= Q(created_at__gte=start, created_at__lt=end)
    return PointsEntry.objects.filter(when, shop=w.shop).order_by().values_list(
        "customer_id", flat=True).distinct()



def lifecycle_dates(w: Window):
    """Customers whose category may change for a date, not an order (loyalty.lifecycle): a
    grace period or a temporary move ending, a calendar period the rules use starting, a
    category's fixed re-evaluation date, in (last as_of, as_of]."""
    from . import lifecycle

    return lifecycle.customers_due(w.shop.pk, w.last_as_of, w.as_of)


# Facts written by the storefront and staff, not by the night's steps: asked once a night.
for _name, _source in (
    ("order_events", order_events),
    ("orders_stamped", orders_stamped),
    ("new_customers", new_customers),
):
    register_source(_name, _source, per_night=True)
# Written by the night's own steps too: asked again when their table got new rows (an
# entry committed meanwhile with a lower id is found by the next night, as it would be
# if it had committed after the step's question).
def _highest_id(model):
    return lambda w: model.objects.aggregate(top=Max("pk"))["top"]


register_source("category_changes", category_changes, probe=_highest_id(CategoryChange))
register_source("points_entries", points_entries, probe=_highest_id(PointsEntry))
for _name, _source in (
    ("window_edges", window_edges),
    ("days_since_thresholds", days_since_thresholds),
    ("points_window_edges", points_window_edges),
    ("lifecycle_dates", lifecycle_dates),
):
    register_source(_name, _source)
