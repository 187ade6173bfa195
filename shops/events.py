"""Explicit hooks from commerce facts to the apps that react to them.

`shops` imports nothing from the other apps (data flows one way), yet a counted order must
trigger a recalculation and a notification. The reacting apps register handlers here in
their AppConfig.ready(). This is a plain list of callables, not a Django signal: every call
site is a visible service call.

Three hooks:
- `on_figures_changed`: called by `shops.services.customer_upsert` inside its transaction
  when a customer registers (placement in the default category, the welcome message).
- `on_intake`: changes to orders are not handled in the order's transaction. The services
  write an `IntakeEvent` row; the intake drain (shops.intake) later calls these handlers
  with a batch of events, in order of registration, inside the drain's transaction. A
  handler works set-based on the whole batch and must be idempotent: the drain may hand it
  the same event again after a crash, and, when a batch fails, each event on its own.
- `on_history_imported`: called once per file imported as past history (shops.importing),
  inside the import's transaction, with every customer and order the file touched: the
  reacting apps apply the file's effects set-based, without messages.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class FiguresChanged:
    shop_id: int
    customer_id: int
    order_id: int | None
    #: "counted" when an order became counted, "uncounted" when it stopped counting,
    #: "value" when a counted order's value changed (a return), "registered" for new customers.
    what: str
    #: The customer's category when the change is applied, before any of its effects (the
    #: drain fills it in: a recalculation the order causes must not change which category's
    #: switches its messages follow).
    category_id: int | None = None


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


IntakeHandler = Callable[[list[FiguresChanged]], None]
_intake_handlers: list[IntakeHandler] = []


def on_intake(handler: IntakeHandler) -> None:
    if handler not in _intake_handlers:
        _intake_handlers.append(handler)


def intake_apply(batch: list[FiguresChanged]) -> None:
    """Run every intake handler on `batch` (called by the drain only)."""
    if not batch:
        return
    for handler in list(_intake_handlers):
        handler(batch)


# --- imported history ------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryImported:
    """A file imported as past history (shops.importing with history on): its orders wrote
    no intake events and its customers no registrations, so nothing was messaged."""

    shop_id: int
    #: The customers whose figures the file changed (new customers, customers of the
    #: file's orders or returns).
    customer_ids: tuple[int, ...]
    #: The orders the file created or changed (their points follow their state).
    order_ids: tuple[int, ...]
    #: The day to decide the categories for (None: the shop's today).
    as_of: date | None = None


HistoryHandler = Callable[[HistoryImported], None]
_history_handlers: list[HistoryHandler] = []


def on_history_imported(handler: HistoryHandler) -> None:
    if handler not in _history_handlers:
        _history_handlers.append(handler)


def history_imported(event: HistoryImported) -> None:
    """Run every handler, inside the import's transaction, once per imported file."""
    for handler in list(_history_handlers):
        handler(event)
