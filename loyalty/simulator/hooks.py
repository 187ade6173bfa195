"""What other apps tell a simulation (registered in their AppConfig.ready(); loyalty
imports neither notifications nor pricing):

- `on_audience(provider)`: `provider(shop)` returns the messages the shop would send today,
  as `Audience` rows: an event ("category_up", "category_down", "order_completed"), a
  channel, and the customers who would get it (consent and an address: a queryset of
  customer ids); `category_switch` names a Category field that must be on for the
  customer's category at the event (the "SMS after an order" switch).
- `on_discount_client_types(provider)`: `provider(shop)` returns the client types for which
  the shop has an enabled category discount: only their orders are given the category's
  discount.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

CATEGORY_UP, CATEGORY_DOWN, ORDER_COMPLETED = "category_up", "category_down", "order_completed"


@dataclass(frozen=True)
class Audience:
    event: str
    channel: str
    #: A queryset of customer ids (values_list("pk")) who would get it.
    customers: object
    category_switch: str = ""


_audiences: list[Callable] = []
_discount_types: list[Callable] = []


def on_audience(provider: Callable) -> None:
    if provider not in _audiences:
        _audiences.append(provider)


def on_discount_client_types(provider: Callable) -> None:
    if provider not in _discount_types:
        _discount_types.append(provider)


def audiences(shop) -> list[Audience]:
    return [a for provider in _audiences for a in provider(shop)]


def discount_client_types(shop) -> set[str]:
    return {t for provider in _discount_types for t in provider(shop)}
