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

Lifecycle (docs/lifecycle.md)
- Temporary holds: a customer locked by hand until a date (`manual_until`) is locked before
  that date; from it on they are unlocked (`returned`) and the rules apply at once: no grace
  period and no fixed date delay the return from a temporary hold.
- Grace period: a move *down* out of a category with `grace_days` waits until `grace_days`
  days after the first recalculation that found the customer not qualifying (the
  customer's `grace_since`; `grace_start` asks the caller to record it); qualifying again,
  or any move, clears it (`grace_clear`). A customer who falls further during the grace
  period keeps the category all the same; when it ends they move straight to what the rules
  give that day (possibly several steps down, or the default), with no second grace period
  for the categories they pass.
- Fixed re-evaluation dates: a move down out of a category with `reevaluate_on` dates happens
  only on one of those (month, day) dates (after the grace period, if both are set); moves up
  are never delayed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .conditions import CategorySpec, Figures, RuleSpec, compile_rule, measured_figures

UP, DOWN, STAY = 1, -1, 0

RULE = "rule"
FALLBACK = "fallback"
LOCKED = "locked"
MANUAL_ONLY = "manual_only"
UNCHANGED = "unchanged"
GRACE = "grace"
WAITING = "waiting"


@dataclass(frozen=True, slots=True)
class Decision:
    customer_id: int
    from_id: int | None
    to_id: int | None
    direction: int
    reason: str
    rule: RuleSpec | None = None
    figures: dict | None = None
    #: Lifecycle: record `grace_since` = as_of for `from_id`; forget the customer's grace.
    grace_start: bool = False
    grace_clear: bool = False
    #: In grace (reason GRACE): the date on which the grace period ends.
    grace_until: date | None = None
    #: The move ends a grace period (the history says so).
    grace_ended: bool = False
    #: Waiting (reason WAITING): the next date the category lets customers move down.
    next_date: date | None = None
    #: A temporary hold ended: unlock the customer (the history says so).
    returned: bool = False
    #: Where the rules alone would put the customer (for GRACE and WAITING).
    rules_to_id: int | None = None

    @property
    def moves(self) -> bool:
        return self.from_id != self.to_id


def grace_until(grace_days: int, since: date) -> date:
    return since + timedelta(days=grace_days)


def next_reevaluation(dates: tuple[tuple[int, int], ...], after: date) -> date | None:
    """The first of the (month, day) dates strictly after `after`."""
    best = None
    for year in (after.year, after.year + 1):
        for month, day in dates:
            try:
                candidate = date(year, month, day)
            except ValueError:  # 29 February in a common year
                continue
            if candidate > after and (best is None or candidate < best):
                best = candidate
    return best


def hold_down(
    category: CategorySpec, grace_since: date | None, as_of: date
) -> tuple[str, date | None] | None:
    """Why a move down out of `category` must wait, or None: (GRACE, the grace period's end)
    or (WAITING, the next re-evaluation date)."""
    if category.grace_days > 0:
        until = grace_until(category.grace_days, grace_since or as_of)
        if as_of < until:
            return GRACE, until
    if category.reevaluate_on and (as_of.month, as_of.day) not in category.reevaluate_on:
        return WAITING, next_reevaluation(category.reevaluate_on, as_of)
    return None


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
    returned = f.locked and f.manual_until is not None and as_of >= f.manual_until
    if f.locked and not returned:
        return Decision(f.customer_id, current_id, current_id, STAY, LOCKED)
    had_grace = f.grace_since is not None
    current = ladder.by_id.get(current_id)
    if current is not None and not current.auto_leave:
        return Decision(f.customer_id, current_id, current_id, STAY, MANUAL_ONLY,
                        grace_clear=had_grace, returned=returned)

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
        return Decision(f.customer_id, current_id, current_id, STAY, UNCHANGED,
                        grace_clear=had_grace, returned=returned)
    direction = UP if ladder.rank(to_id) > ladder.rank(current_id) else DOWN
    in_grace = had_grace and f.grace_category_id == current_id
    if direction == DOWN and current is not None and not returned:
        hold = hold_down(current, f.grace_since if in_grace else None, as_of)
        if hold is not None:
            why, until = hold
            if why == GRACE:
                return Decision(
                    f.customer_id, current_id, current_id, STAY, GRACE, rule, figures,
                    grace_start=not in_grace, grace_clear=had_grace and not in_grace,
                    grace_until=until, rules_to_id=to_id)
            return Decision(f.customer_id, current_id, current_id, STAY, WAITING, rule, figures,
                            grace_clear=had_grace and not in_grace, next_date=until,
                            rules_to_id=to_id)
    return Decision(f.customer_id, current_id, to_id, direction, reason, rule, figures,
                    grace_clear=had_grace, returned=returned,
                    grace_ended=in_grace and direction == DOWN and current.grace_days > 0)
