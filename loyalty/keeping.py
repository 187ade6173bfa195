"""How long a customer keeps their category, and what they need to keep it or to move up.
Pure: no ORM, no settings (the set-based read is loyalty.keeping_db).

Contract
- Input: the customer's `Figures` as of `as_of` (loyalty.figures) and their counted orders
  inside the longest window the rules use, as `(local date, net value)` pairs (`Order`s).
  "If they buy nothing more": on a later day the window figures are recomputed from those
  orders alone (`figures_on`); every other figure (lifetime spend and orders, the date of
  the last order, purchases, points) stays as it is, and "days since the last order" is
  measured on that later day.
- `keeps_until` is the **last day on which the customer still qualifies** for their
  current category (one of its rules holds; OR of rules = the latest of the rules' days,
  AND of conditions = the earliest of the conditions' days). The day after it, their
  orders no longer qualify them and the nightly recalculation moves them. It is found by
  trying only the days on which a figure changes: the day after an order leaves a window
  (an order placed on day d is inside an N-day window up to and including d + N), and the
  day "days since the last order < N" stops holding. None when the category holds without
  time limit (lifetime rules, conditions that do not depend on time, the default category),
  when it does not hold today (the customer is there by staff or a lock: the
  recalculation decides), for locked customers and for categories that are never left
  automatically.
- `to_keep` is what is still missing on the day after `keeps_until` (`keeps_until` + 1):
  spent (or ordered) by that day, inside the window then, it keeps the category. It is the
  cheapest `Need` among the category's rules on that day; None with `keeps_until`.
- `to_next` is the cheapest `Need` among the rules of the next category up (the nearest
  higher visible category open to automatic entry), today.
- A `Need` is an amount to spend (in the shop's currency, one or more orders) and a number
  of orders: the largest gap among the rule's amount conditions (one purchase counts toward
  the window spend and the lifetime spend alike; "largest order >= X" needs one order of X)
  and the largest gap among its order-count conditions ("days since the last order < N"
  needs one order). A rule with an unmet condition that buying cannot meet (client type,
  city, a product, points...) is not reachable and is left out. Cheapest = smallest amount,
  then fewest orders.
- Points earned in a window are not projected (they stay as today).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from . import conditions as c
from .conditions import ZERO, CategorySpec, Figures, Needs, RuleSpec
from .decide import Ladder

#: A counted order as (local date placed, net value = goods - returned).
Order = tuple[date, Decimal]

AMOUNT_KINDS = (c.WINDOW_SPEND, c.LIFETIME_SPEND)
ORDER_KINDS = (c.WINDOW_ORDERS, c.LIFETIME_ORDERS)


@dataclass(frozen=True, slots=True)
class Need:
    amount: Decimal = ZERO
    orders: int = 0
    #: The thresholds the gaps are measured against (for "within Y%"): the amount of the
    #: condition with the largest amount gap, the count of the one with the largest order gap.
    amount_of: Decimal | None = None
    orders_of: int | None = None
    rule_id: int | None = None

    @property
    def nothing(self) -> bool:
        return self.amount <= 0 and self.orders <= 0

    def key(self):
        return (self.amount, self.orders)


@dataclass(frozen=True, slots=True)
class Keeping:
    customer_id: int
    category_id: int | None
    keeps_until: date | None = None
    to_keep: Need | None = None
    next_category_id: int | None = None
    to_next: Need | None = None


def figures_on(f: Figures, orders: list[Order], day: date, needs: Needs | None = None) -> Figures:
    """The customer's figures on `day` (>= the day they were measured) if they buy nothing
    more: the window figures (those of `needs`, else those `f` has) recomputed from
    `orders` (sorted by date), the rest kept."""
    dates = [d for d, _ in orders]
    spend = needs.spend_windows if needs is not None else f.window_spend
    counts = needs.order_windows if needs is not None else f.window_orders
    largest = needs.largest_windows if needs is not None else f.window_largest

    def inside(days: int) -> list[Decimal]:
        return [v for _, v in orders[bisect_left(dates, day - timedelta(days=days)):]]

    return replace(
        f,
        window_spend={n: sum(inside(n), ZERO) for n in spend},
        window_orders={n: len(inside(n)) for n in counts},
        window_largest={n: max(inside(n), default=ZERO) for n in largest},
    )


def _change_days(category: CategorySpec, f: Figures, orders: list[Order], as_of: date):
    """The days after `as_of` on which one of the category's time-dependent figures changes,
    ascending."""
    days = set()
    for rule in category.rules:
        for cond in rule.conditions:
            if cond.kind in (c.WINDOW_SPEND, c.WINDOW_ORDERS) or (
                cond.kind == c.LARGEST_ORDER and cond.days
            ):
                days.update(d + timedelta(days=cond.days + 1) for d, _ in orders)
            elif (cond.kind == c.DAYS_SINCE_LAST_ORDER and cond.operator == c.LT
                  and f.last_order_date is not None):
                days.add(f.last_order_date + timedelta(days=cond.count or 0))
    return sorted(d for d in days if d > as_of)


def qualifies(category: CategorySpec, f: Figures, as_of: date) -> bool:
    return any(c.rule_holds(rule, f, as_of) for rule in category.rules)


def keeps_until(category: CategorySpec, f: Figures, orders: list[Order], as_of: date):
    """The last day the customer qualifies for `category` if they buy nothing more, or
    None (holds without time limit, or does not hold today)."""
    if category.is_default or not qualifies(category, f, as_of):
        return None
    for day in _change_days(category, f, orders, as_of):
        if not qualifies(category, figures_on(f, orders, day), day):
            return day - timedelta(days=1)
    return None


def rule_need(rule: RuleSpec, f: Figures, as_of: date) -> Need | None:
    """What the customer misses for `rule` on `as_of`, or None if buying cannot make it."""
    if not rule.conditions:
        return None
    amount, orders = ZERO, 0
    amount_of = orders_of = None
    for cond in rule.conditions:
        ch = c.check(cond, f, as_of)
        if ch.met:
            continue
        if cond.kind in AMOUNT_KINDS and cond.operator == c.GTE:
            gap, of = Decimal(ch.gap), cond.amount or ZERO
        elif cond.kind == c.LARGEST_ORDER:
            gap, of = cond.amount or ZERO, cond.amount or ZERO
        elif cond.kind in ORDER_KINDS and cond.operator == c.GTE:
            if ch.gap > orders:
                orders, orders_of = int(ch.gap), cond.count or 0
            continue
        elif cond.kind == c.DAYS_SINCE_LAST_ORDER and cond.operator == c.LT:
            if orders < 1:
                orders, orders_of = 1, 1
            continue
        else:
            return None
        if gap > amount:
            amount, amount_of = gap, of
    return Need(amount, orders, amount_of, orders_of, rule.id)


def cheapest(category: CategorySpec, f: Figures, as_of: date) -> Need | None:
    needs = [n for n in (rule_need(r, f, as_of) for r in category.rules) if n is not None]
    return min(needs, key=Need.key) if needs else None


def next_up(ladder: Ladder, current_id: int | None, visible: set[int]) -> CategorySpec | None:
    """The nearest higher category shown to customers and open to automatic entry."""
    floor = ladder.rank(current_id)
    above = [cat for cat in ladder.categories
             if cat.rank > floor and cat.id in visible and cat.auto_enter]
    return min(above, key=lambda cat: cat.rank) if above else None


def keeping(
    f: Figures, orders: list[Order], ladder: Ladder, as_of: date, *, visible: set[int],
) -> Keeping:
    """`keeps_until`, `to_keep` and `to_next` of one customer (see the module contract).
    `visible`: ids of the categories shown to customers."""
    current = ladder.by_id.get(f.category_id)
    moved = not f.locked and (current is None or current.auto_leave)
    until = to_keep = None
    if current is not None and moved:
        until = keeps_until(current, f, orders, as_of)
        if until is not None:
            after = until + timedelta(days=1)
            to_keep = cheapest(current, figures_on(f, orders, after), after)
    target = next_up(ladder, f.category_id, visible) if moved else None
    to_next = cheapest(target, f, as_of) if target is not None else None
    return Keeping(
        f.customer_id, f.category_id, until, to_keep,
        target.id if target is not None else None, to_next,
    )


def is_close(need: Need | None, *, amount: Decimal | None, percent: Decimal | None) -> bool:
    """Whether `need` is "close": something is missing, the missing amount is at most
    `amount` or at most `percent`% of its threshold, and the missing orders at most
    `percent`% of theirs. Both settings empty: never close."""
    if need is None or need.nothing or (amount is None and not percent):
        return False
    share = (percent or ZERO) / 100

    def within(gap, threshold, flat) -> bool:
        if gap <= 0:
            return True
        if flat is not None and gap <= flat:
            return True
        return bool(percent) and threshold is not None and gap <= threshold * share

    return (within(need.amount, need.amount_of, amount)
            and within(need.orders, need.orders_of, None))
