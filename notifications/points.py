"""The one place notifications read bonus points from (loyalty.points).

Messages show the points an order earned and the customer's balance. It is called once per
batch of messages (a nightly recalculation may announce thousands of moves at once), so it
takes all the batch's customers together: one query for the balances, one for the order.
Loyalty's handlers run before ours (INSTALLED_APPS order), so an order's points are already
in the ledger when its "order completed" message is rendered.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from loyalty import points as ledger
from loyalty.models import PointsAccount
from shops.models import Order


@dataclass(frozen=True)
class Points:
    earned: int = 0
    balance: int = 0


def points_for(customer_ids: Iterable[int], order_id: int | None = None) -> dict[int, Points]:
    """{customer id: Points}: the balance of each customer and, with `order_id`, the points
    that order earned (for its customer). Customers missing from the result have 0."""
    balances = ledger.balances(customer_ids)
    result = {pk: Points(balance=value) for pk, value in balances.items()}
    if order_id is not None:
        owner = Order.objects.filter(pk=order_id).values_list("customer_id", flat=True).first()
        if owner is not None:
            result[owner] = Points(
                earned=ledger.order_points(order_id), balance=balances.get(owner, 0)
            )
    return result


def order_points_for(order_ids: Iterable[int]) -> dict[int, int]:
    """{order id: points it earned} for a batch of orders (orders without any: missing)."""
    return ledger.orders_points(order_ids)


def balance_columns() -> tuple[str, str, str]:
    """(table, customer column, balance column) of the balances, for set-based messages
    that join them in SQL."""
    meta = PointsAccount._meta
    return (meta.db_table, meta.get_field("customer").column,
            meta.get_field("balance").column)
