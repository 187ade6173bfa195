"""What notifications does when loyalty or commerce facts change (NotificationsConfig.ready).

The hooks run inside the transaction that writes the change (the category change, the
registration, or the intake drain's batch), so the outbox rows commit or roll back with it.
"""

from loyalty.events import CategoriesChanged
from shops.events import FiguresChanged

from . import services


def categories_changed(event: CategoriesChanged) -> None:
    services.messages_for_category_changes(shop_id=event.shop_id, change_ids=event.change_ids,
                                           moves=event.moves)


def figures_changed(event: FiguresChanged) -> None:
    if event.what == "registered":
        services.message_for_registration(customer_id=event.customer_id)
    else:
        intake_batch([event])


def intake_batch(batch: list[FiguresChanged]) -> None:
    """shops.events.on_intake handler (after loyalty's, so the points are in the ledger):
    the "order completed" messages of the batch's newly counted orders, rendered per batch."""
    at_event = {e.order_id: e.category_id for e in batch
                if e.what == "counted" and e.order_id is not None}
    if at_event:
        services.messages_for_orders(order_ids=set(at_event), categories_at_event=at_event)


def nightly_notices(night) -> dict:
    """loyalty.nightly step, after the categories and segments: the "category at risk" and
    "close to the next category" notices of the night's date (notifications.notices)."""
    from .notices import notices_for_night

    return notices_for_night(night)
