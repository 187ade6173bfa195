"""Which customers the notices scan examines: one SQL pass per shop instead of every customer.

notifications.notices decides in Python, customer by customer (loyalty.keeping), whether a
customer is "at risk" of losing their category or "close to the next one". Most customers
are neither, and on a million customers computing their keeping figures one by one costs
minutes. This module finds, in one statement over a snapshot of the shop's figures, a
*superset* of the customers for whom either situation can hold, plus every customer with an
open episode (to end it); only those are then read and decided. A customer wrongly found
costs time, never a wrong message; one wrongly left out would be a missed notice, so every
test below is argued sound here and compared with a scan of everyone in the tests.

At risk (category C shown to customers, "warn N days before", N > 0): the customer is at risk
when the last day they still qualify (`keeps_until`, if they buy nothing more) is at most N
days away, i.e. when they would not qualify on day D = as_of + N + 1. If they buy nothing
more, their N-day window figures on D are the figures of the orders placed from D - W on,
which is the (W - N - 1)-day window as of today; "days since the last order < K" on D is
"the last order is on or after D - K + 1". Every other figure stays as it is
(loyalty.keeping.figures_on). When C's conditions only *lose* hold as days pass without a
purchase (window amounts and counts at least X, the largest order in a window, fewer than
K days since the last order, and conditions that do not depend on the day), a customer who
qualifies on D qualifies on every day up to D, so `keeps_until` >= D: not at risk. The
candidates are the customers of C who do not qualify on D. A category with any other
condition (at most X in a window, at least K days since the last order, conditions this
SQL does not compile) has all its customers as candidates.

Close to the next category T (T's "within an amount" and/or "within a share"): the customer
is close when the cheapest of T's rules misses at most the amount, or at most the share of
the threshold of the condition that misses most, and at most the share of its order count
(loyalty.keeping.is_close). A rule's largest amount gap is then at most
max(amount, share x the rule's largest amount threshold), and each of its amount conditions
misses at most that; its order-count conditions miss at most share x its largest count.
The candidates are the customers of the category below T for whom some rule of T holds with
each amount threshold lowered by that allowance, each count lowered by its allowance, "days
since the last order < K" counted as met when one order is within the allowance, and every
other condition as it is (unmet, buying cannot meet it: loyalty.keeping.rule_need).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection

from loyalty import conditions as c
from loyalty import figures as figures_db
from loyalty import prefilter, temp_tables
from loyalty.conditions import Needs, needs_of
from loyalty.decide import Ladder
from loyalty.incremental import Edges, edges_of
from loyalty.keeping import next_up
from loyalty.models import Category
from shops.lookups import any_ids_sql
from shops.models import Customer, Shop

from .models import NoticeEpisode

#: Conditions that only lose hold as days pass without a purchase (window figures >= X,
#: "fewer than K days since the last order").
_WINDOW_KINDS = (c.WINDOW_SPEND, c.WINDOW_ORDERS, c.LARGEST_ORDER)


def _day_dependent(cond: c.ConditionSpec) -> bool:
    return (cond.kind in _WINDOW_KINDS and bool(cond.days)) or cond.kind == c.DAYS_SINCE_LAST_ORDER


def _monotone(cond: c.ConditionSpec) -> bool:
    """Compiled, and true on a later day without purchases only if true today."""
    if cond.kind not in prefilter.COMPILED:
        return False
    if not _day_dependent(cond):
        return True
    if cond.kind == c.LARGEST_ORDER:
        return True  # always "at least"
    return cond.operator == (c.LT if cond.kind == c.DAYS_SINCE_LAST_ORDER else c.GTE)


def at_risk_categories(ladder: Ladder, categories: dict[int, Category]):
    """(spec, N) of the categories whose customers can be at risk."""
    for spec in ladder.categories:
        category = categories.get(spec.id)
        if (category is not None and category.visible_to_customer and category.at_risk_days
                and not spec.is_default and spec.auto_leave):
            yield spec, category.at_risk_days


def close_targets(ladder: Ladder, categories: dict[int, Category], visible: set[int]):
    """(category id below or None, target spec) for every step up with a close setting."""
    below = [None, *(spec.id for spec in ladder.categories)]
    for current_id in below:
        spec = ladder.by_id.get(current_id)
        if current_id is not None and (not spec.auto_leave or current_id not in visible):
            continue
        target = next_up(ladder, current_id, visible)
        if target is None:
            continue
        t = categories[target.id]
        if t.close_amount is not None or t.close_percent:
            yield current_id, target


def shifted_days(days: int, n: int) -> int:
    """The window, as of today, that holds on day as_of + n + 1 what a `days` window will."""
    return days - n - 1


def _shifted(ladder: Ladder, categories: dict[int, Category]):
    """(condition, shifted length) of every window and days-since condition of the
    categories that can be at risk, where the shifted length is not negative."""
    for spec, n in at_risk_categories(ladder, categories):
        for rule in spec.rules:
            for cond in rule.conditions:
                if cond.kind in _WINDOW_KINDS and cond.days:
                    days = shifted_days(cond.days, n)
                elif cond.kind == c.DAYS_SINCE_LAST_ORDER:
                    days = shifted_days(cond.count or 0, n)
                else:
                    continue
                if days >= 0:
                    yield cond, days


def shifted_needs(ladder: Ladder, categories: dict[int, Category]) -> Needs:
    """What the snapshot must hold: today's figures, and the shifted windows of the
    categories that can be at risk."""
    needs = needs_of(ladder.categories)
    windows = {kind: set() for kind in _WINDOW_KINDS}
    for cond, days in _shifted(ladder, categories):
        if cond.kind in windows:
            windows[cond.kind].add(days)
    return replace(
        needs, spend_windows=needs.spend_windows | windows[c.WINDOW_SPEND],
        order_windows=needs.order_windows | windows[c.WINDOW_ORDERS],
        largest_windows=needs.largest_windows | windows[c.LARGEST_ORDER],
    )


def notice_edges(ladder: Ladder, categories: dict[int, Category]) -> Edges:
    """The day-relative lengths whose edges can change a notice without a purchase: the
    categories' own (qualifying today, the next category's distance) and, for the
    categories that can be at risk, the shifted ones (the day `keeps_until - N` is
    reached)."""
    own = edges_of(ladder.categories)
    shifted = list(_shifted(ladder, categories))
    return replace(
        own,
        order_windows=own.order_windows | {d for cond, d in shifted if cond.kind in _WINDOW_KINDS},
        days_since=own.days_since | {d for cond, d in shifted
                                     if cond.kind == c.DAYS_SINCE_LAST_ORDER},
    )


# --- the SQL ---------------------------------------------------------------------------------


def _holds_on(shop: Shop, spec, n: int, as_of: date) -> tuple[str, list]:
    """`spec` holds on as_of + n + 1 if the customer buys nothing more."""
    today = figures_db.last_order_cutoff(shop, as_of)
    on_day = figures_db.last_order_cutoff(shop, as_of + timedelta(days=n + 1))

    def compile_one(_rule, cond):
        if cond.kind in _WINDOW_KINDS and cond.days:
            days = shifted_days(cond.days, n)
            if days < 0:  # the window then holds no order of today's
                threshold = cond.count or 0 if cond.kind == c.WINDOW_ORDERS else \
                    prefilter._amount((cond.amount or c.ZERO) - prefilter.HALF_CENT)
                return "0 >= %s", [threshold]
            return prefilter._condition(replace(cond, days=days), today)
        if cond.kind == c.DAYS_SINCE_LAST_ORDER:
            return prefilter._condition(cond, on_day)
        return prefilter._condition(cond, today)

    return prefilter.rules_sql(spec.rules, compile_one)


def _within(shop: Shop, target, setting: Category, as_of: date) -> tuple[str, list]:
    """Some rule of `target` holds with its thresholds lowered by the close allowance."""
    flat = setting.close_amount
    share = (setting.close_percent or c.ZERO) / 100
    today = figures_db.last_order_cutoff(shop, as_of)

    def allowances(rule) -> tuple[Decimal, Decimal]:
        amounts = [cond.amount or c.ZERO for cond in rule.conditions
                   if (cond.kind in (c.WINDOW_SPEND, c.LIFETIME_SPEND) and cond.operator == c.GTE)
                   or cond.kind == c.LARGEST_ORDER]
        counts = [Decimal(cond.count or 0) for cond in rule.conditions
                  if cond.kind in (c.WINDOW_ORDERS, c.LIFETIME_ORDERS)
                  and cond.operator == c.GTE]
        if any(cond.kind == c.DAYS_SINCE_LAST_ORDER and cond.operator == c.LT
               for cond in rule.conditions):
            counts.append(Decimal(1))
        amount = max([flat or c.ZERO, max(amounts, default=c.ZERO) * share])
        return amount, max(counts, default=c.ZERO) * share

    allowed = {rule: allowances(rule) for rule in target.rules}

    def compile_one(rule, cond):
        amount, orders = allowed[rule]
        gte = cond.operator == c.GTE
        if cond.kind in (c.WINDOW_SPEND, c.LIFETIME_SPEND) and gte:
            return prefilter._condition(replace(cond, amount=(cond.amount or c.ZERO) - amount),
                                        today)
        if cond.kind in (c.WINDOW_ORDERS, c.LIFETIME_ORDERS) and gte:
            lowered = math.ceil(Decimal(cond.count or 0) - orders)
            return prefilter._condition(replace(cond, count=lowered), today)
        if cond.kind == c.LARGEST_ORDER and (cond.amount or c.ZERO) <= amount:
            return "1 = 1", []
        if cond.kind == c.DAYS_SINCE_LAST_ORDER and not gte and orders >= 1:
            return "1 = 1", []
        return prefilter._condition(cond, today)

    return prefilter.rules_sql(target.rules, compile_one)


def _in_category(category_id: int | None, ladder: Ladder) -> tuple[str, list]:
    if category_id is not None:
        return "c.category_id = %s", [category_id]
    known = [spec.id for spec in ladder.categories]
    if not known:
        return "1 = 1", []
    marks = ", ".join(["%s"] * len(known))
    return f"(c.category_id IS NULL OR c.category_id NOT IN ({marks}))", known


def candidates(shop: Shop, ladder: Ladder, categories: dict[int, Category],
               visible: set[int], as_of: date, *, among: set[int] | None = None) -> set[int]:
    """The customers the scan must decide for (see the module contract): of the whole shop,
    or only of `among` (an incremental night's candidates: the others' situation cannot
    have changed, nor can their open episodes)."""
    parts, params = [], []
    for spec, n in at_risk_categories(ladder, categories):
        conds = [cond for rule in spec.rules for cond in rule.conditions]
        if all(_monotone(cond) for cond in conds):
            holds, p = _holds_on(shop, spec, n, as_of)
            parts.append(f"(c.category_id = %s AND NOT {holds})")
            params += [spec.id, *p]
        else:
            parts.append("c.category_id = %s")
            params.append(spec.id)
    for current_id, target in close_targets(ladder, categories, visible):
        where, p = _in_category(current_id, ladder)
        if all(cond.kind in prefilter.COMPILED for rule in target.rules
               for cond in rule.conditions):
            within, q = _within(shop, target, categories[target.id], as_of)
            parts.append(f"({where} AND {within})")
            params += [*p, *q]
        else:
            parts.append(where)
            params += p
    episodes = NoticeEpisode.objects.filter(shop=shop, ended_on__isnull=True)
    needs = shifted_needs(ladder, categories)
    if among is None:
        found = set(episodes.values_list("customer_id", flat=True))
        if parts:
            found |= _matching(shop, needs, as_of, parts, params, None)
        return found
    found = set()
    ordered = sorted(among)
    size = CHUNK.get(connection.vendor, CHUNK_DEFAULT)
    for i in range(0, len(ordered), size):
        chunk = ordered[i:i + size]
        found |= set(
            episodes.filter(customer_id__in_ids=chunk).values_list("customer_id", flat=True)
        )
        if parts:
            found |= _matching(shop, needs, as_of, parts, params, chunk)
    return found


#: Customers of an incremental night's candidates looked at per statement.
CHUNK = {"postgresql": 10_000}
CHUNK_DEFAULT = 500


def _matching(shop, needs: Needs, as_of, parts, params, ids) -> set[int]:
    """The customers (of the shop, or among `ids`) matching one of `parts`, over a snapshot
    of their figures (`needs`: with the shifted windows)."""
    table = f"notices_figures_{shop.pk}"
    if needs.orders_at_all:
        figures = figures_db._order_figures(shop, needs, as_of)
        if ids is not None:
            figures = figures.filter(customer_id__in_ids=ids)
        sql, sparams = figures.query.sql_with_params()
    else:
        sql, sparams = "SELECT 0 AS customer_id WHERE 1 = 0", ()
    temp_tables.create(temp_tables.TempTable(table, sql, sparams, unique=True))
    among, among_params = "", []
    if ids is not None:
        condition, among_params = any_ids_sql("c.id", ids, connection.vendor)
        among = f" AND {condition}"
    try:
        # Table names are ours; every value is a parameter.
        query = (
            f"SELECT c.id FROM {Customer._meta.db_table} c"  # noqa: S608
            f" LEFT JOIN {table} f ON f.customer_id = c.id"
            f" WHERE c.shop_id = %s{among} AND NOT c.category_locked"
            f" AND ({' OR '.join(parts)})"
        )
        with connection.cursor() as cursor:
            cursor.execute(query, [shop.pk, *among_params, *params])
            return {row[0] for row in cursor.fetchall()}
    finally:
        temp_tables.drop(table)
