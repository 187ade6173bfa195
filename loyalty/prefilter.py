"""The shop's category ladder compiled to a SQL expression: a pre-filter for recalculation.

For each customer of a batch, the database computes the category the rules would give
(`target`), and only customers whose target differs from their category are fetched;
loyalty.decide then decides for those, with the same figures, so the pure function stays
the only judge: a customer wrongly fetched costs time, never a wrong move. A customer
wrongly *not* fetched would be a missed move, so this module must give the same target as
decide() for every customer; tests compare a pre-filtered run with a full run.

Amounts are compared with half a cent of margin: stored amounts and thresholds have two
decimals, and SQLite sums them as floats, so `sum >= 1000 - 0.005` is the exact test on
both databases. Conditions that are not compiled here (purchases, shipping methods, cities:
their comparison rules are Python's) make `compile_target` return None: no pre-filter.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import BigIntegerField, Case, F, Q, Value, When

from . import conditions as c
from .decide import Ladder

HALF_CENT = Decimal("0.005")
COMPILED = {
    c.CLIENT_TYPE, c.ACTIVE, c.WINDOW_SPEND, c.WINDOW_ORDERS, c.LARGEST_ORDER,
    c.LIFETIME_SPEND, c.DAYS_SINCE_LAST_ORDER,
}


def compilable(ladder: Ladder) -> bool:
    return all(
        cond.kind in COMPILED
        for category in ladder.categories for rule in category.rules for cond in rule.conditions
    )


def _condition(cond: c.ConditionSpec, last_order_before) -> Q:
    """`cond` as a Q over the figure annotations named in loyalty.figures."""
    kind, gte = cond.kind, cond.operator == c.GTE
    if kind == c.CLIENT_TYPE:
        return Q(client_type=cond.client_type)
    if kind == c.ACTIVE:
        return Q(is_active=True)
    if kind == c.WINDOW_ORDERS:
        name, wanted = f"f_orders_{cond.days}", cond.count or 0
        return Q(**{f"{name}__gte": wanted}) if gte else Q(**{f"{name}__lt": wanted})
    if kind == c.DAYS_SINCE_LAST_ORDER:
        # days >= N  <=>  the last order's local date <= as_of - N  <=>  placed before the
        # local midnight that starts day (as_of - N + 1). No order at all: ">=" holds.
        cutoff = last_order_before(cond.count or 0)
        if gte:
            return Q(f_last_placed_at__lt=cutoff) | Q(f_last_placed_at__isnull=True)
        return Q(f_last_placed_at__gte=cutoff)
    amount = (cond.amount or c.ZERO) - HALF_CENT
    if kind == c.WINDOW_SPEND:
        name = f"f_spend_{cond.days}"
    elif kind == c.LIFETIME_SPEND:
        name = "f_lifetime"
    elif kind == c.LARGEST_ORDER:
        name, gte = (f"f_largest_{cond.days}" if cond.days else "f_largest_ever"), True
    else:  # pragma: no cover - guarded by compilable()
        raise ValueError(kind)
    return Q(**{f"{name}__gte": amount}) if gte else Q(**{f"{name}__lt": amount})


def compile_target(ladder: Ladder, as_of: date, last_order_before) -> Case | None:
    """A CASE expression giving each customer's target category id, or None."""
    if not compilable(ladder):
        return None
    whens = [When(category_locked=True, then=F("category_id"))]
    sticky = [cat.id for cat in ladder.categories if not cat.auto_leave]
    if sticky:
        whens.append(When(category_id__in=sticky, then=F("category_id")))
    for category in ladder.categories:
        rules = [r for r in category.rules if r.conditions]
        if not rules:
            continue
        holds = Q()
        for rule in rules:
            both = Q()
            for cond in rule.conditions:
                both &= _condition(cond, last_order_before)
            holds |= both
        if not category.auto_enter:
            holds &= Q(category_id=category.id)
        whens.append(When(holds, then=Value(category.id)))
    default = Value(ladder.default.id if ladder.default else None)
    return Case(*whens, default=default, output_field=BigIntegerField())


def differs(target_name: str = "f_target") -> Q:
    """target IS DISTINCT FROM category_id, spelled for both databases."""
    return (
        Q(**{f"{target_name}__isnull": False}, category_id__isnull=True)
        | Q(**{f"{target_name}__isnull": True}, category_id__isnull=False)
        | (~Q(**{target_name: F("category_id")}) & Q(category_id__isnull=False)
           & Q(**{f"{target_name}__isnull": False}))
    )

