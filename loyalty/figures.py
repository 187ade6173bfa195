"""Customers' figures for category rules, measured set-based in the database.

For one batch of customers (a keyset range of ids in one shop) this runs one query for the
customers and one aggregate query over their counted orders (GROUP BY customer), plus one
query per kind of purchase condition in use. Nothing is computed per customer in SQL loops.
Windows start at local midnight in the shop's time zone (see loyalty.conditions).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Case, Count, DecimalField, ExpressionWrapper, Max, Sum, Value, When
from django.db.models.functions import Coalesce

from shops.counting import COUNTED_ORDER, ORDER_NET_VALUE, prefixed
from shops.models import Customer, Order, OrderLine, Shop

from .conditions import ZERO, Figures, Needs

DECIMAL = DecimalField(max_digits=16, decimal_places=2)
CENT = Decimal("0.01")


def money(value) -> Decimal:
    """Amounts exactly as stored (2 places): SQLite and PostgreSQL then agree to the digit."""
    return ZERO.quantize(CENT) if value is None else Decimal(value).quantize(CENT)
NET = ExpressionWrapper(ORDER_NET_VALUE, output_field=DECIMAL)


def local_midnight(shop: Shop, day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=shop.tz)


def window_start(shop: Shop, as_of: date, days: int) -> datetime:
    return local_midnight(shop, as_of - timedelta(days=days))


def _order_aggregates(shop: Shop, needs: Needs, as_of: date) -> dict:
    aggs = {}
    for days in sorted(needs.spend_windows):
        since = window_start(shop, as_of, days)
        aggs[f"spend_{days}"] = Coalesce(
            Sum(Case(When(placed_at__gte=since, then=NET), output_field=DECIMAL)),
            Value(ZERO), output_field=DECIMAL,
        )
    for days in sorted(needs.order_windows):
        since = window_start(shop, as_of, days)
        aggs[f"orders_{days}"] = Count(Case(When(placed_at__gte=since, then=Value(1))))
    for days in sorted(needs.largest_windows):
        since = window_start(shop, as_of, days)
        aggs[f"largest_{days}"] = Max(
            Case(When(placed_at__gte=since, then=NET), output_field=DECIMAL)
        )
    if needs.lifetime:
        aggs["lifetime"] = Sum(NET)
    if needs.largest_ever:
        aggs["largest_ever"] = Max(NET)
    if needs.last_order:
        aggs["last_placed_at"] = Max("placed_at")
    return aggs


def counted_orders(shop: Shop, as_of: date, needs: Needs):
    """Counted orders of the shop placed up to the end of `as_of`, limited to the oldest
    window when no figure needs the whole history."""
    qs = Order.objects.filter(COUNTED_ORDER, shop=shop)
    qs = qs.filter(placed_at__lt=local_midnight(shop, as_of + timedelta(days=1)))
    if needs.oldest_window is not None:
        qs = qs.filter(placed_at__gte=window_start(shop, as_of, needs.oldest_window))
    return qs


def load(
    shop: Shop, needs: Needs, as_of: date, *, after_id: int = 0, limit: int | None = None,
    customer_ids: list[int] | None = None,
) -> list[Figures]:
    """Figures of the next batch of customers after `after_id` (or of `customer_ids`)."""
    customers = Customer.objects.filter(shop=shop)
    if customer_ids is not None:
        customers = customers.filter(pk__in=customer_ids)
    else:
        customers = customers.filter(pk__gt=after_id)
    customers = customers.order_by("pk").values_list(
        "pk", "client_type", "is_active", "city", "category_id", "category_locked"
    )
    if limit is not None:
        customers = customers[:limit]
    figures = [
        Figures(
            customer_id=pk, client_type=ct, is_active=active, city=city, category_id=cat,
            locked=locked,
        )
        for pk, ct, active, city, cat, locked in customers
    ]
    if not figures:
        return figures
    by_id = {f.customer_id: f for f in figures}
    lo, hi = figures[0].customer_id, figures[-1].customer_id
    in_batch = {"customer_id__in": list(by_id)} if customer_ids is not None else {
        "customer_id__gte": lo, "customer_id__lte": hi
    }

    if needs.orders_at_all:
        aggs = _order_aggregates(shop, needs, as_of)
        rows = (
            counted_orders(shop, as_of, needs).filter(**in_batch)
            .values("customer_id").annotate(**aggs).order_by()
        )
        tz = shop.tz
        for row in rows:
            f = by_id.get(row["customer_id"])
            if f is None:
                continue
            for days in needs.spend_windows:
                f.window_spend[days] = money(row[f"spend_{days}"])
            for days in needs.order_windows:
                f.window_orders[days] = row[f"orders_{days}"]
            for days in needs.largest_windows:
                f.window_largest[days] = money(row[f"largest_{days}"])
            if needs.lifetime:
                f.lifetime_spend = money(row["lifetime"])
            if needs.largest_ever:
                f.largest_ever = money(row["largest_ever"])
            if needs.last_order and row["last_placed_at"] is not None:
                f.last_order_date = row["last_placed_at"].astimezone(tz).date()

    if needs.products or needs.collections:
        _load_purchases(shop, needs, as_of, in_batch, by_id)
    if needs.shipping_methods:
        rows = (
            Order.objects.filter(COUNTED_ORDER, shop=shop)
            .filter(shipping_method__in=needs.shipping_methods)
            .filter(placed_at__lt=local_midnight(shop, as_of + timedelta(days=1)), **in_batch)
            .values("customer_id", "shipping_method").annotate(n=Count("pk")).order_by()
        )
        for row in rows:
            f = by_id.get(row["customer_id"])
            if f is not None:
                f.shipping_counts[row["shipping_method"]] = row["n"]
    return figures


def _load_purchases(shop, needs, as_of, in_batch, by_id) -> None:
    counted, _ = prefixed("order__")
    lines = OrderLine.objects.filter(
        counted, order__shop=shop,
        order__placed_at__lt=local_midnight(shop, as_of + timedelta(days=1)),
        **{f"order__{k}": v for k, v in in_batch.items()},
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
    for customer_id, f in by_id.items():
        if customer_id in products:
            f.products = frozenset(products[customer_id])
        if customer_id in collections:
            f.collections = frozenset(collections[customer_id])

