"""The one definition of a *counted* order and of an order's *value*.

An order counts for loyalty when it is completed and paid in full. Its value is the goods
value (sum of its lines, shipping excluded) minus the returned goods value; returns lower the
value retroactively, whenever they are recorded. Everything that measures spend (category
rules, cumulative discounts, bonus tiers, statistics) uses these names and nothing else.
"""

from decimal import Decimal

from django.db.models import F, Q

COMPLETED = "completed"

#: Filter for counted orders, relative to the Order model.
COUNTED_ORDER = Q(status=COMPLETED, paid_in_full=True)

#: Net goods value of an order, relative to the Order model (a database expression).
ORDER_NET_VALUE = F("goods_total") - F("returned_total")


def prefixed(prefix: str) -> tuple[Q, F]:
    """The counted filter and net value expression seen through a relation, e.g. "orders__"."""
    q = Q(**{f"{prefix}status": COMPLETED, f"{prefix}paid_in_full": True})
    value = F(f"{prefix}goods_total") - F(f"{prefix}returned_total")
    return q, value


def is_counted(*, status: str, paid_in_full: bool) -> bool:
    return status == COMPLETED and paid_in_full


def net_value(*, goods_total: Decimal, returned_total: Decimal) -> Decimal:
    return goods_total - returned_total
