"""Time-driven category state: grace periods and temporary holds, written set-based; and the
customers whose category a passing date may change, for the incremental nightly pass.

The decisions themselves are loyalty.decide's (pure); this module writes what they ask
(`write_state`) and answers "who is due" (`customers_due` and its four parts). Worked
examples: docs/lifecycle.md.

`customers_due(shop_id, since, until)` returns the set of customer ids whose category may
change at a recalculation dated in (since, until] for a reason other than their orders:

- `grace_ending_due`: a grace period ends on or before `until` (an overdue one too: it is
  cleared or ends once examined);
- `temporary_ending_due`: a temporary manual move or lock ends on or before `until`;
- `calendar_boundary_due`: a calendar year or quarter the shop's rules use starts in
  (since, until]: the customers with counted orders in the periods whose figures shift;
- `fixed_date_due`: one of a category's re-evaluation dates falls in (since, until]: the
  customers in that category.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Q, QuerySet

from shops.counting import COUNTED_ORDER
from shops.models import Customer, Order, Shop

from . import conditions as c
from .decide import Decision, next_reevaluation
from .figures import local_midnight
from .models import Category, CategoryChange, ChangeReason, CustomerLifecycle, Rule
from .validation import reevaluation_dates

# --- writes -------------------------------------------------------------------------------


def unlock_returned(shop: Shop, decisions: list[Decision], *, as_of: date, when) -> set[int]:
    """Unlock the customers whose temporary hold has ended (the decisions marked
    `returned`), conditional on the hold still being the one read. Those who stay in their
    category get a history row saying they are back to the rules; those who move get it
    from the move (reason "temporary ended"). Returns the ids unlocked."""
    ids = [d.customer_id for d in decisions if d.returned]
    if not ids:
        return set()
    unlocked = set(
        Customer.objects.select_for_update().filter(
            pk__in=ids, category_locked=True, lifecycle__manual_until__lte=as_of
        ).values_list("pk", flat=True)
    )
    if not unlocked:
        return unlocked
    Customer.objects.filter(pk__in=unlocked).update(category_locked=False)
    CustomerLifecycle.objects.filter(customer_id__in=unlocked).update(manual_until=None)
    CategoryChange.objects.bulk_create(
        CategoryChange(
            shop=shop, customer_id=d.customer_id, from_category_id=d.from_id,
            to_category_id=d.to_id, changed_at=when, as_of=as_of,
            reason=ChangeReason.TEMPORARY_ENDED,
        )
        for d in decisions if d.customer_id in unlocked and not d.moves
    )
    return unlocked


def write_grace(decisions: list[Decision], *, moved: set[int], as_of: date) -> None:
    """Start the grace periods the decisions start; forget those they clear, and those of
    every customer who moved. Two statements whatever the number of customers."""
    clear = {d.customer_id for d in decisions if d.grace_clear} | moved
    if clear:  # only rows holding a grace period: an UPDATE to the same values rewrites rows
        CustomerLifecycle.objects.filter(
            Q(grace_since__isnull=False) | Q(grace_category__isnull=False),
            customer_id__in_ids=clear,
        ).update(grace_since=None, grace_category=None)
    starts = [d for d in decisions if d.grace_start]
    if starts:
        CustomerLifecycle.objects.bulk_create(
            [CustomerLifecycle(customer_id=d.customer_id, grace_category_id=d.from_id,
                               grace_since=as_of) for d in starts],
            update_conflicts=True, unique_fields=["customer"],
            update_fields=["grace_category", "grace_since"],
        )


def hold_until(customer_id: int, until: date | None) -> None:
    """Record (or, with None, forget) the end of a customer's temporary hold."""
    if until is None:
        CustomerLifecycle.objects.filter(customer_id=customer_id).update(manual_until=None)
        return
    CustomerLifecycle.objects.update_or_create(
        customer_id=customer_id, defaults={"manual_until": until}
    )


def forget_grace(customer_id: int) -> None:
    CustomerLifecycle.objects.filter(customer_id=customer_id).update(
        grace_since=None, grace_category=None
    )


# --- who is due ---------------------------------------------------------------------------


def grace_ending_due(shop_id: int, since: date, until: date) -> QuerySet:
    """Customers in a grace period that ends on or before `until` (one OR per category with
    a grace period: the categories are few)."""
    del since  # an overdue grace period is due as well
    ends = Q()
    for category_id, days in Category.objects.filter(
        shop_id=shop_id, grace_days__gt=0
    ).values_list("pk", "grace_days"):
        ends |= Q(lifecycle__grace_category_id=category_id,
                  lifecycle__grace_since__lte=until - timedelta(days=days))
    if not ends:
        return Customer.objects.none().values_list("pk", flat=True)
    return Customer.objects.filter(ends, shop_id=shop_id).values_list("pk", flat=True)


def temporary_ending_due(shop_id: int, since: date, until: date) -> QuerySet:
    """Customers held by hand (a temporary move or lock) until a date on or before `until`."""
    del since  # an overdue hold is due as well
    return Customer.objects.filter(
        shop_id=shop_id, category_locked=True, lifecycle__manual_until__lte=until
    ).values_list("pk", flat=True)


def _period_starts(since: date, until: date, quarterly: bool) -> list[date]:
    """The first days of years (or quarters) in (since, until]."""
    months = (1, 4, 7, 10) if quarterly else (1,)
    return [
        date(year, month, 1)
        for year in range(since.year, until.year + 1) for month in months
        if since < date(year, month, 1) <= until
    ]


def calendar_boundary_due(shop_id: int, since: date, until: date) -> QuerySet:
    """When a calendar year or quarter that the shop's category rules use starts in
    (since, until], the customers whose period figures shift: those with counted orders from
    the start of the period that was "previous" just before the boundary on."""
    periods = set(
        Rule.objects.filter(
            category__shop_id=shop_id,
            conditions__kind__in=(c.PERIOD_SPEND, c.PERIOD_ORDERS),
        ).values_list("conditions__period", flat=True)
    )
    starts = []
    if periods & {c.CURRENT_YEAR, c.PREVIOUS_YEAR}:
        starts += [(b, date(b.year - 2, 1, 1)) for b in _period_starts(since, until, False)]
    if periods & {c.CURRENT_QUARTER, c.PREVIOUS_QUARTER}:
        starts += [
            (b, c.period_bounds(c.PREVIOUS_QUARTER, b - timedelta(days=1))[0])
            for b in _period_starts(since, until, True)
        ]
    if not starts:
        return Customer.objects.none().values_list("pk", flat=True)
    shop = Shop.objects.get(pk=shop_id)
    earliest = min(first for _boundary, first in starts)
    return (
        Order.objects.filter(COUNTED_ORDER, shop_id=shop_id,
                             placed_at__gte=local_midnight(shop, earliest))
        .values_list("customer_id", flat=True).distinct().order_by()
    )


def fixed_date_due(shop_id: int, since: date, until: date) -> QuerySet:
    """Customers in a category one of whose re-evaluation dates falls in (since, until]."""
    due = []
    for category_id, text in Category.objects.filter(shop_id=shop_id).exclude(
        reevaluate_on=""
    ).values_list("pk", "reevaluate_on"):
        try:
            dates = reevaluation_dates(text)
        except ValueError:
            continue
        following = next_reevaluation(dates, since) if dates else None
        if following is not None and following <= until:
            due.append(category_id)
    return Customer.objects.filter(shop_id=shop_id, category_id__in=due).values_list(
        "pk", flat=True
    )


def customers_due(shop_id: int, since: date, until: date) -> set[int]:
    """The union of the four: ids of the customers whose category may change at a
    recalculation dated in (since, until] for a reason that is a date, not an order. Each
    part is its own indexed query (an OR of the four as subqueries would test every
    customer of the shop against each)."""
    found: set[int] = set()
    for part in (grace_ending_due, temporary_ending_due, calendar_boundary_due,
                 fixed_date_due):
        found.update(part(shop_id, since, until).order_by())
    return found
