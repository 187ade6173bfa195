"""Which category a customer belongs in. Pure: no ORM, no settings.

Contract (SPEC section 2)
- Locked customers are never moved.
- A customer in a category that may not be left automatically stays there.
- Otherwise the target is the highest-ranked category one of whose rules holds and that
  may be entered automatically (the current category always counts as enterable: staying is
  not entering); when none holds, the default category (the fallback is always allowed, it
  is where customers land on registration); with no default configured, no category.
- Rank decides direction: a higher rank is "up". A customer without a category moving into
  one is "up".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .conditions import CategorySpec, Figures, RuleSpec, compile_rule, measured_figures

UP, DOWN, STAY = 1, -1, 0

RULE = "rule"
FALLBACK = "fallback"
LOCKED = "locked"
MANUAL_ONLY = "manual_only"
UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Decision:
    customer_id: int
    from_id: int | None
    to_id: int | None
    direction: int
    reason: str
    rule: RuleSpec | None = None
    figures: dict | None = None

    @property
    def moves(self) -> bool:
        return self.from_id != self.to_id


class Ladder:
    """A shop's categories prepared for many decisions (highest rank first)."""

    def __init__(self, categories: list[CategorySpec] | tuple[CategorySpec, ...]):
        self.categories = tuple(sorted(categories, key=lambda c: c.rank, reverse=True))
        self.by_id = {c.id: c for c in self.categories}
        self.default = next((c for c in self.categories if c.is_default), None)
        self._compiled: dict[date, tuple] = {}

    def compiled(self, as_of: date) -> tuple:
        """Per category (highest rank first): its spec and its rules as predicates."""
        if as_of not in self._compiled:
            self._compiled[as_of] = tuple(
                (category, tuple((rule, compile_rule(rule, as_of)) for rule in category.rules))
                for category in self.categories
            )
        return self._compiled[as_of]

    def rank(self, category_id: int | None) -> int:
        if category_id is None or category_id not in self.by_id:
            return -1
        return self.by_id[category_id].rank


def decide(f: Figures, ladder: Ladder, as_of: date) -> Decision:
    current_id = f.category_id
    if f.locked:
        return Decision(f.customer_id, current_id, current_id, STAY, LOCKED)
    current = ladder.by_id.get(current_id)
    if current is not None and not current.auto_leave:
        return Decision(f.customer_id, current_id, current_id, STAY, MANUAL_ONLY)

    target, reason, rule = None, FALLBACK, None
    for category, rules in ladder.compiled(as_of):
        if category is not current and not category.auto_enter:
            continue
        for candidate, holds in rules:
            if holds(f):
                target, reason, rule = category, RULE, candidate
                break
        if target is not None:
            break
    if target is None:
        target = ladder.default
        # Explain a fall back with the figures the lost category's first rule looked at.
        lost = current.rules[0] if current is not None and current.rules else None
        figures = measured_figures(lost, f, as_of) if lost else {}
    else:
        figures = measured_figures(rule, f, as_of)

    to_id = target.id if target is not None else None
    if to_id == current_id:
        return Decision(f.customer_id, current_id, current_id, STAY, UNCHANGED)
    direction = UP if ladder.rank(to_id) > ladder.rank(current_id) else DOWN
    return Decision(f.customer_id, current_id, to_id, direction, reason, rule, figures)
