"""Explicit hooks from commerce facts to the apps that react to them.

`shops` imports nothing from the other apps (data flows one way), yet a counted order must
trigger a recalculation and a notification. The reacting apps register a handler here in
their AppConfig.ready(); shops services call `customer_figures_changed` inside their
transaction. Handlers decide themselves what runs now (an outbox row in the same
transaction) and what runs on commit (a task). This is a plain list of callables, not a
Django signal: every call site is a visible service call.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class FiguresChanged:
    shop_id: int
    customer_id: int
    order_id: int | None
    #: "counted" when an order became counted, "uncounted" when it stopped counting,
    #: "value" when a counted order's value changed (a return), "registered" for new customers.
    what: str


Handler = Callable[[FiguresChanged], None]
_handlers: list[Handler] = []


def on_figures_changed(handler: Handler) -> None:
    if handler not in _handlers:
        _handlers.append(handler)


def figures_changed(event: FiguresChanged) -> None:
    for handler in list(_handlers):
        handler(event)


# --- what else a shop holds ------------------------------------------------------------------

#: Other apps' data that fixes a shop's currency (its amounts are in it) and makes a time
#: zone change need confirmation: (label, check(shop_id) -> bool), registered in their
#: AppConfig.ready() (pricing: discount configurations).
DataCheck = Callable[[int], bool]
_data_checks: list[tuple[str, DataCheck]] = []


def on_shop_data(label, check: DataCheck) -> None:
    if all(existing is not check for _label, existing in _data_checks):
        _data_checks.append((label, check))


def shop_data_checks() -> list[tuple[str, DataCheck]]:
    return list(_data_checks)
