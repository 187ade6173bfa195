"""What notifications does when loyalty or commerce facts change (NotificationsConfig.ready).

Both hooks run inside the transaction that writes the change, so the outbox rows commit or
roll back with it.
"""

from loyalty.events import CategoriesChanged
from shops.events import FiguresChanged

from . import services


def categories_changed(event: CategoriesChanged) -> None:
    services.messages_for_category_changes(shop_id=event.shop_id, change_ids=event.change_ids)


def figures_changed(event: FiguresChanged) -> None:
    if event.what == "registered":
        services.message_for_registration(customer_id=event.customer_id)
    elif event.what == "counted" and event.order_id is not None:
        services.message_for_order(order_id=event.order_id)
