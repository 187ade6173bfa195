"""Explicit hooks from loyalty changes to the apps that react to them (notifications).

Like `shops.events`: a plain list of callables registered in AppConfig.ready(), called by
loyalty services inside the transaction that writes the change, so a reacting app can record
its own rows (an outbox message) atomically with the change, and a rolled back change leaves
nothing behind. Handlers receive the ids of the CategoryChange rows just written, in one call
per written batch, so they can react set-based (one INSERT ... SELECT for a whole batch).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Move:
    """One written CategoryChange as its writer knows it (so handlers need not read it back)."""

    change_id: int
    customer_id: int
    from_id: int | None
    to_id: int | None
    direction: int
    reason: str
    #: The customer's language as stored ('' for the shop's default).
    language: str


@dataclass(frozen=True)
class CategoriesChanged:
    shop_id: int
    #: ids of the CategoryChange rows written (moves by rules, fallbacks, manual moves and
    #: the placement of a newly registered customer; lock/unlock rows are not moves).
    change_ids: tuple[int, ...]
    #: The same changes in full, in the order written, when the writer has them at hand (a
    #: recalculation batch); None: a handler reads what it needs from the history.
    moves: tuple[Move, ...] | None = None


Handler = Callable[[CategoriesChanged], None]
_handlers: list[Handler] = []


def on_categories_changed(handler: Handler) -> None:
    if handler not in _handlers:
        _handlers.append(handler)


def categories_changed(event: CategoriesChanged) -> None:
    if not event.change_ids:
        return
    for handler in list(_handlers):
        handler(event)
