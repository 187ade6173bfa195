"""What loyalty does when commerce facts change (registered in LoyaltyConfig.ready)."""

from collections import defaultdict

from shops.events import FiguresChanged, HistoryImported
from shops.models import Shop

from . import points, rollup, segments, services
from .events import CategoriesChanged


def figures_changed(event: FiguresChanged) -> None:
    """A customer registered (inside the registration's transaction): the default
    category and their segments at once. An order event given here is applied alone."""
    if event.what == "registered":
        services.customer_place_in_default(customer_id=event.customer_id)
        segments.customer_segments_refresh(customer_id=event.customer_id)
        return
    intake_batch([event])


def _rounds(batch: list[FiguresChanged]) -> list[list[FiguresChanged]]:
    """Split a batch so that no round holds two "counted" events of one customer.

    An order earns points at the tier of the category its customer is in, and the
    recalculation after one order may move the customer before the next one earns: rounds
    give a batch the same result as applying its events one after the other."""
    rounds: list[list[FiguresChanged]] = [[]]
    seen: dict[int, int] = defaultdict(int)
    for event in batch:
        index = 0
        if event.what == "counted":
            index = seen[event.customer_id]
            seen[event.customer_id] += 1
        while len(rounds) <= index:
            rounds.append([])
        rounds[index].append(event)
    return rounds


def intake_batch(batch: list[FiguresChanged]) -> None:
    """shops.events.on_intake handler, inside the drain's transaction: per round the points
    of the batch's orders, one recalculation of exactly the affected customers per shop;
    then one segment refresh of them per shop."""
    batch = [e for e in batch if e.order_id is not None and e.what != "registered"]
    if not batch:
        return
    shops = Shop.objects.in_bulk({e.shop_id for e in batch})
    for round_ in _rounds(batch):
        points.orders_points_sync(order_ids=[e.order_id for e in round_])
        for shop_id, customer_ids in _by_shop(round_).items():
            services.customers_recalculate(shop=shops[shop_id], customer_ids=customer_ids)
    for shop_id, customer_ids in _by_shop(batch).items():
        segments.customers_segments_refresh(shop=shops[shop_id], customer_ids=customer_ids)


def _by_shop(batch: list[FiguresChanged]) -> dict[int, set[int]]:
    grouped: dict[int, set[int]] = defaultdict(set)
    for event in batch:
        grouped[event.shop_id].add(event.customer_id)
    return grouped


#: Customers (orders) per set-based step of an imported history.
HISTORY_BATCH = 5000


def history_imported(event: HistoryImported) -> None:
    """shops.events.on_history_imported handler, inside the import's transaction: ONE
    recalculation of exactly the affected customers at the event's date, recorded in the
    history without telling anyone (no messages); then the points of the imported orders,
    at the category each customer holds after it (the bonus tier still comes from the
    lifetime spend before each order); then the customers' segments. Set-based, in
    batches of HISTORY_BATCH."""
    shop = Shop.objects.get(pk=event.shop_id)
    customer_ids = sorted(set(event.customer_ids))
    order_ids = sorted(set(event.order_ids))
    for start in range(0, len(customer_ids), HISTORY_BATCH):
        services.customers_recalculate(
            shop=shop, customer_ids=customer_ids[start:start + HISTORY_BATCH],
            as_of=event.as_of, announce=False,
        )
    for start in range(0, len(order_ids), HISTORY_BATCH):
        points.orders_points_sync(order_ids=order_ids[start:start + HISTORY_BATCH])
    for start in range(0, len(customer_ids), HISTORY_BATCH):
        segments.customers_segments_refresh(
            shop=shop, customer_ids=customer_ids[start:start + HISTORY_BATCH],
            as_of=event.as_of,
        )
    through = rollup.rolled_up_through(shop)
    if through is not None:
        # The imported orders and the quiet moves bypassed the drain and the move hook:
        # the shop's rolled-up days are counted again, in one set-based rebuild.
        rollup.rollup_rebuild(shop, through=through)


def statistics_batch(batch: list[FiguresChanged]) -> None:
    """shops.events.on_intake handler, registered after `intake_batch`: the statistics
    rollup's days of the batch's orders counted again (after the moves they caused)."""
    rollup.rollup_apply_batch([e for e in batch if e.what != "registered"])


def statistics_moves(event: CategoriesChanged) -> None:
    """loyalty.events.on_categories_changed handler: moved customers take their rolled-up
    orders to their new category."""
    rollup.rollup_moves(event.shop_id, event.change_ids, event.moves)
