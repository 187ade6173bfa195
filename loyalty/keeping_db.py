"""`keeps_until`, `to_keep` and `to_next` (loyalty.keeping) for a batch of customers,
read set-based: the figures of the batch (loyalty.figures.load, its grouped query), and one
query for the batch's counted orders inside the longest window the shop's rules use, in
(customer, placed) order. The same function serves one customer (the admin's customer page,
the API) and a whole shop in keyset batches (the notices scan)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from shops.counting import COUNTED_ORDER, ORDER_NET_VALUE
from shops.models import Order, Shop

from . import figures as figures_db
from . import keeping
from .conditions import Needs, needs_of
from .decide import Ladder


def _orders(shop: Shop, needs: Needs, as_of: date, ids) -> dict[int, list[keeping.Order]]:
    """Counted orders inside the longest window, per customer, as (local date, net)."""
    windows = needs.spend_windows | needs.order_windows | needs.largest_windows
    if not windows:
        return {}
    start = figures_db.window_start(shop, as_of, max(windows))
    end = figures_db.local_midnight(shop, as_of + timedelta(days=1))
    rows = (
        Order.objects.filter(COUNTED_ORDER, shop=shop, customer_id__in_ids=ids,
                             placed_at__gte=start, placed_at__lt=end)
        # No id in the ordering: orders of one instant may come in any order (only dates
        # and values are used), and the covering index of counted orders answers alone.
        .annotate(net=ORDER_NET_VALUE).order_by("customer_id", "placed_at")
        .values_list("customer_id", "placed_at", "net")
    )
    tz = shop.tz
    result: dict[int, list[keeping.Order]] = {}
    for customer_id, placed_at, net in rows:
        result.setdefault(customer_id, []).append(
            (placed_at.astimezone(tz).date(), figures_db.money(Decimal(net)))
        )
    return result


def load(
    shop: Shop, ladder: Ladder, as_of: date, *, visible: set[int],
    id_range: tuple[int, int] | None = None, customer_ids: list[int] | None = None,
) -> dict[int, keeping.Keeping]:
    """Each customer's Keeping, for ids in (lo, hi] or in `customer_ids`: two grouped
    reads (figures, orders) besides what rules on purchases or points add."""
    needs = needs_of(ladder.categories)
    figures = figures_db.load(shop, needs, as_of, id_range=id_range, customer_ids=customer_ids)
    if not figures:
        return {}
    orders = _orders(shop, needs, as_of, [f.customer_id for f in figures])
    return {
        f.customer_id: keeping.keeping(
            f, orders.get(f.customer_id, []), ladder, as_of, visible=visible
        )
        for f in figures
    }


def for_customer(customer, as_of: date | None = None) -> keeping.Keeping:
    """One customer's Keeping as of `as_of` (default: the shop's today)."""
    from .models import Category
    from .selectors import ladder as ladder_of

    shop = customer.shop
    as_of = as_of or shop.today()
    steps = ladder_of(shop)
    visible = set(Category.objects.filter(shop=shop, visible_to_customer=True)
                  .values_list("pk", flat=True))
    return load(shop, steps, as_of, visible=visible, customer_ids=[customer.pk])[customer.pk]
