"""The shop's category ladder compiled to SQL: a pre-filter for recalculation.

For each customer of a batch, the database computes the category the rules would give
(`target`) from a snapshot of the figures (see loyalty.figures.snapshot), and only
customers whose target differs from their category are fetched; loyalty.decide then
decides for those on freshly read figures, so the pure function stays the only judge: a
customer wrongly fetched costs time, never a wrong move. A customer wrongly *not* fetched
would be a missed move, so this module must give the same target as decide() for every
customer; tests compare a pre-filtered run with a full run.

Amounts are compared with half a cent of margin: stored amounts and thresholds have two
decimals, and SQLite sums them as floats, so `sum >= 1000 - 0.005` is the exact test on
both databases. Conditions that are not compiled here (purchases, shipping methods, cities:
their comparison rules are Python's) make `target_sql` return None: no pre-filter.

The SQL reads the customer as alias `c` and the snapshot row as alias `f` (LEFT JOIN: a
customer without counted orders has no row, hence the COALESCEs).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from django.db import connection

from . import conditions as c
from .decide import Ladder

HALF_CENT = Decimal("0.005")
COMPILED = {
    c.CLIENT_TYPE, c.ACTIVE, c.WINDOW_SPEND, c.WINDOW_ORDERS, c.LARGEST_ORDER,
    c.LIFETIME_SPEND, c.DAYS_SINCE_LAST_ORDER, c.LIFETIME_ORDERS, c.DISABLED,
    c.PERIOD_SPEND, c.PERIOD_ORDERS,
}


def compilable(ladder: Ladder) -> bool:
    return all(
        cond.kind in COMPILED
        for category in ladder.categories for rule in category.rules for cond in rule.conditions
    )


def _amount(value: Decimal):
    # SQLite compares a float column with a text parameter as text: give it a number.
    return float(value) if connection.vendor == "sqlite" else value


def _condition(
    cond: c.ConditionSpec, last_order_before: Callable[[int], datetime]
) -> tuple[str, list]:
    kind, gte = cond.kind, cond.operator == c.GTE
    op = ">=" if gte else "<"
    if kind == c.CLIENT_TYPE:
        return "c.client_type = %s", [cond.client_type]
    if kind == c.ACTIVE:
        return "c.is_active", []
    if kind == c.DISABLED:
        return "NOT c.is_active", []
    if kind == c.WINDOW_ORDERS:
        return f"COALESCE(f.orders_{cond.days}, 0) {op} %s", [cond.count or 0]
    if kind == c.LIFETIME_ORDERS:
        return f"COALESCE(f.orders_ever, 0) {op} %s", [cond.count or 0]
    if kind in (c.PERIOD_SPEND, c.PERIOD_ORDERS) and cond.period not in c.PERIODS:
        # An unknown period measures zero, as in loyalty.conditions (needs_of skips it).
        wanted = cond.count or 0 if kind == c.PERIOD_ORDERS else _amount(
            (cond.amount or c.ZERO) - HALF_CENT)
        return f"0 {op} %s", [wanted]
    if kind == c.PERIOD_ORDERS:
        return f"COALESCE(f.porders_{cond.period}, 0) {op} %s", [cond.count or 0]
    if kind == c.DAYS_SINCE_LAST_ORDER:
        # days >= N  <=>  the last order's local date <= as_of - N  <=>  placed before the
        # local midnight that starts day (as_of - N + 1). No order at all: ">=" holds.
        cutoff = connection.ops.adapt_datetimefield_value(last_order_before(cond.count or 0))
        if gte:
            return "(f.last_placed_at < %s OR f.last_placed_at IS NULL)", [cutoff]
        return "f.last_placed_at >= %s", [cutoff]
    amount = _amount((cond.amount or c.ZERO) - HALF_CENT)
    if kind == c.WINDOW_SPEND:
        column = f"spend_{cond.days}"
    elif kind == c.LIFETIME_SPEND:
        column = "lifetime"
    elif kind == c.PERIOD_SPEND:
        column = f"pspend_{cond.period}"
    elif kind == c.LARGEST_ORDER:
        column, op = (f"largest_{cond.days}" if cond.days else "largest_ever"), ">="
    else:  # pragma: no cover - guarded by compilable()
        raise ValueError(kind)
    return f"COALESCE(f.{column}, 0) {op} %s", [amount]


def target_sql(
    ladder: Ladder, last_order_before: Callable[[int], datetime]
) -> tuple[str, list] | None:
    """A CASE expression giving each customer's target category id, or None."""
    if not compilable(ladder):
        return None
    parts, params = ["CASE WHEN c.category_locked THEN c.category_id"], []
    sticky = [cat.id for cat in ladder.categories if not cat.auto_leave]
    if sticky:
        parts.append(f"WHEN c.category_id IN ({', '.join(['%s'] * len(sticky))}) "
                     "THEN c.category_id")
        params += sticky
    for category in ladder.categories:
        if not any(r.conditions for r in category.rules):
            continue
        holds, p = rules_sql(category.rules,
                             lambda _rule, cond: _condition(cond, last_order_before))
        params += p
        if not category.auto_enter:
            holds = f"(c.category_id = %s AND {holds})"
            params.append(category.id)
        parts.append(f"WHEN {holds} THEN %s")
        params.append(category.id)
    parts.append("ELSE %s END")
    params.append(ladder.default.id if ladder.default else None)
    return " ".join(parts), params


def rules_sql(rules, compile_one) -> tuple[str, list]:
    """OR over the rules that have conditions of AND over `compile_one(rule, cond)` (each an
    SQL fragment and its parameters); no such rule: false."""
    ors, params = [], []
    for rule in rules:
        if not rule.conditions:
            continue
        ands = []
        for cond in rule.conditions:
            sql, p = compile_one(rule, cond)
            ands.append(sql)
            params += p
        ors.append("(" + " AND ".join(ands) + ")")
    return ("(" + " OR ".join(ors) + ")" if ors else "(1 = 0)"), params


def distinct_from(left: str, right: str) -> str:
    """Null-safe inequality, spelled for the database in use."""
    if connection.vendor == "sqlite":
        return f"({left}) IS NOT ({right})"
    return f"({left}) IS DISTINCT FROM ({right})"
