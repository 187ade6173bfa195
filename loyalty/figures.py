"""Customers' figures for category rules, measured set-based in the database.

For a batch of customers (a keyset range of ids in one shop, or a list of ids) one grouped
query joins the customers to their counted orders inside the oldest window the rules need
(or all history) and aggregates every figure at once; purchases and shipping methods, when
rules use them, take one more grouped query each. Optionally the query keeps only the
customers whose category the rules would change (loyalty.prefilter). Windows start at
local midnight in the shop's time zone (see loyalty.conditions).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Max,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from shops.counting import COUNTED_ORDER, prefixed
from shops.models import Customer, Order, OrderLine, Shop

from . import prefilter
from .conditions import ZERO, Figures, Needs
from .decide import Ladder

DECIMAL = DecimalField(max_digits=16, decimal_places=2)
CENT = Decimal("0.01")
ZERO_SUM = Value(ZERO, output_field=DECIMAL)


def money(value) -> Decimal:
    """Amounts exactly as stored (2 places): SQLite and PostgreSQL then agree to the digit."""
    return ZERO.quantize(CENT) if value is None else Decimal(value).quantize(CENT)


def local_midnight(shop: Shop, day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=shop.tz)


def window_start(shop: Shop, as_of: date, days: int) -> datetime:
    return local_midnight(shop, as_of - timedelta(days=days))


def _end(shop: Shop, as_of: date) -> datetime:
    return local_midnight(shop, as_of + timedelta(days=1))


def _with_figures(customers, shop: Shop, needs: Needs, as_of: date):
    """Annotate a Customer queryset with the figures `needs` asks for (names f_*)."""
    if not needs.orders_at_all:
        return customers
    counted, _ = prefixed("orders__")
    joined = counted & Q(orders__shop=shop, orders__placed_at__lt=_end(shop, as_of))
    if needs.oldest_window is not None:
        joined &= Q(orders__placed_at__gte=window_start(shop, as_of, needs.oldest_window))
    customers = customers.annotate(w=FilteredRelation("orders", condition=joined))
    net = ExpressionWrapper(F("w__goods_total") - F("w__returned_total"), output_field=DECIMAL)
    aggs = {}
    for days in needs.spend_windows:
        inside = Q(w__placed_at__gte=window_start(shop, as_of, days))
        aggs[f"f_spend_{days}"] = Coalesce(Sum(net, filter=inside), ZERO_SUM)
    for days in needs.order_windows:
        inside = Q(w__placed_at__gte=window_start(shop, as_of, days))
        aggs[f"f_orders_{days}"] = Count("w__pk", filter=inside)
    for days in needs.largest_windows:
        inside = Q(w__placed_at__gte=window_start(shop, as_of, days))
        aggs[f"f_largest_{days}"] = Coalesce(Max(net, filter=inside), ZERO_SUM)
    if needs.lifetime:
        aggs["f_lifetime"] = Coalesce(Sum(net), ZERO_SUM)
    if needs.largest_ever:
        aggs["f_largest_ever"] = Coalesce(Max(net), ZERO_SUM)
    if needs.last_order:
        aggs["f_last_placed_at"] = Max("w__placed_at")
    return customers.annotate(**aggs)


def batch_end(shop: Shop, after_id: int, size: int) -> int | None:
    """The last customer id of the next keyset batch after `after_id` (None: no more)."""
    ids = Customer.objects.filter(shop=shop, pk__gt=after_id).order_by("pk")
    last = ids.values_list("pk", flat=True)[size - 1:size].first()
    if last is not None:
        return last
    return ids.order_by("-pk").values_list("pk", flat=True).first()


def load(
    shop: Shop, needs: Needs, as_of: date, *, id_range: tuple[int, int] | None = None,
    customer_ids: list[int] | None = None, only_changing: Ladder | None = None,
) -> list[Figures]:
    """Figures of the customers with ids in (lo, hi] or in `customer_ids`.

    With `only_changing`, keep only those whose category that ladder would change, when
    the ladder can be compiled to SQL (loyalty.prefilter); otherwise everyone."""
    customers = Customer.objects.filter(shop=shop)
    if customer_ids is not None:
        customers = customers.filter(pk__in=customer_ids)
    else:
        lo, hi = id_range
        customers = customers.filter(pk__gt=lo, pk__lte=hi)
    customers = _with_figures(customers, shop, needs, as_of)
    if only_changing is not None:
        target = prefilter.compile_target(
            only_changing, as_of, lambda days: local_midnight(
                shop, as_of - timedelta(days=days) + timedelta(days=1))
        )
        if target is not None:
            customers = customers.annotate(f_target=target).filter(prefilter.differs())
    columns = ["pk", "client_type", "is_active", "city", "category_id", "category_locked"]
    spend = sorted(needs.spend_windows)
    orders = sorted(needs.order_windows)
    largest = sorted(needs.largest_windows)
    columns += [f"f_spend_{d}" for d in spend] + [f"f_orders_{d}" for d in orders]
    columns += [f"f_largest_{d}" for d in largest]
    extra = [n for n, wanted in (("f_lifetime", needs.lifetime),
                                 ("f_largest_ever", needs.largest_ever),
                                 ("f_last_placed_at", needs.last_order)) if wanted]
    columns += extra
    n_s, n_o, n_l = len(spend), len(orders), len(largest)
    tz = shop.tz
    figures = []
    for row in customers.order_by("pk").values_list(*columns):
        f = Figures(
            customer_id=row[0], client_type=row[1], is_active=row[2], city=row[3],
            category_id=row[4], locked=row[5],
        )
        i = 6
        if n_s:
            f.window_spend = {d: money(v) for d, v in zip(spend, row[i:i + n_s], strict=True)}
            i += n_s
        if n_o:
            f.window_orders = dict(zip(orders, row[i:i + n_o], strict=True))
            i += n_o
        if n_l:
            f.window_largest = {d: money(v) for d, v in zip(largest, row[i:i + n_l], strict=True)}
            i += n_l
        for name in extra:
            value = row[i]
            i += 1
            if name == "f_lifetime":
                f.lifetime_spend = money(value)
            elif name == "f_largest_ever":
                f.largest_ever = money(value)
            elif value is not None:
                f.last_order_date = value.astimezone(tz).date()
        figures.append(f)
    if figures and (needs.products or needs.collections or needs.shipping_methods):
        by_id = {f.customer_id: f for f in figures}
        _load_purchases(shop, needs, as_of, by_id)
    return figures


def _load_purchases(shop: Shop, needs: Needs, as_of: date, by_id: dict[int, Figures]) -> None:
    ids = list(by_id)
    counted, _ = prefixed("order__")
    lines = OrderLine.objects.filter(
        counted, order__shop=shop, order__placed_at__lt=_end(shop, as_of),
        order__customer_id__in=ids,
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
    if needs.shipping_methods:
        for customer_id, method, n in (
            Order.objects.filter(COUNTED_ORDER, shop=shop, customer_id__in=ids)
            .filter(shipping_method__in=needs.shipping_methods,
                    placed_at__lt=_end(shop, as_of))
            .values_list("customer_id", "shipping_method").annotate(n=Count("pk")).order_by()
        ):
            by_id[customer_id].shipping_counts[method] = n
    for customer_id, f in by_id.items():
        if customer_id in products:
            f.products = frozenset(products[customer_id])
        if customer_id in collections:
            f.collections = frozenset(collections[customer_id])
