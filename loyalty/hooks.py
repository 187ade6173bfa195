"""What loyalty does when commerce facts change (registered in LoyaltyConfig.ready)."""

from django.db import transaction

from shops.events import FiguresChanged

from . import points, segments, services, tasks


def figures_changed(event: FiguresChanged) -> None:
    if event.what == "registered":
        services.customer_place_in_default(customer_id=event.customer_id)
        segments.customer_segments_refresh(customer_id=event.customer_id)
        return
    # Points follow the order at once, in its transaction, with the category it was in.
    points.figures_changed(event)
    # Recalculate after commit, so the worker sees the order that caused it.
    customer_id = event.customer_id
    transaction.on_commit(lambda: tasks.recalculate_customer.delay(customer_id))
    transaction.on_commit(lambda: tasks.refresh_customer_segments.delay(customer_id))
