"""The one place notifications read bonus points from.

Messages show the points an order earned and the customer's balance. The points ledger is
built in another issue; at merge this function is wired to it
(`loyalty.points.order_points(order_id)`, `loyalty.points.balance(customer_id)`, or a
set-based balance query for a batch). Until then every figure is 0.

It is called once per batch of messages (a nightly recalculation may announce thousands
of moves at once), so it takes all the batch's customers together: wiring it to a
per-customer function would put one query per customer back into the batch.
"""

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Points:
    earned: int = 0
    balance: int = 0


def points_for(customer_ids: Iterable[int], order_id: int | None = None) -> dict[int, Points]:
    """{customer id: Points}: the balance of each customer and, with `order_id`, the points
    that order earned (for its customer). Customers missing from the result have 0."""
    return {}
