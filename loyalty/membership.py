"""Which segments a customer is in. Pure: no ORM, no settings.

Contract (SPEC section 5)
- A segment is a set of rules in the category rules' condition language (loyalty.conditions):
  a customer is a member when one of its rules holds (rules OR-ed, conditions AND-ed). A rule
  without conditions never holds, so a segment without rules has no members.
- Segments overlap: a customer may be in any number of them. Locks, ranks and the movement
  flags of categories play no part.
- The built-in segments are ordinary rules in that language (BUILT_IN below), so one
  evaluator serves both and the admin shows their definition like any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from . import conditions as c
from .conditions import Figures, RuleSpec, compile_rule

#: The built-in segments: code -> rules, each a list of conditions (model field values).
#: "Without orders", "customers" and "loyal" count counted orders ever; "first order
#: recently" is exactly one counted order, placed in the last 30 days (shop-local window).
BUILT_IN: dict[str, list[list[dict]]] = {
    "disabled": [[{"kind": c.DISABLED}]],
    "without_orders": [[{"kind": c.LIFETIME_ORDERS, "operator": c.LT, "count": 1}]],
    "first_order_recently": [[
        {"kind": c.LIFETIME_ORDERS, "operator": c.GTE, "count": 1},
        {"kind": c.LIFETIME_ORDERS, "operator": c.LT, "count": 2},
        {"kind": c.WINDOW_ORDERS, "operator": c.GTE, "count": 1, "days": 30},
    ]],
    "loyal": [[{"kind": c.LIFETIME_ORDERS, "operator": c.GTE, "count": 2}]],
    "customers": [[{"kind": c.LIFETIME_ORDERS, "operator": c.GTE, "count": 1}]],
}


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    id: int
    code: str
    rules: tuple[RuleSpec, ...]


def compile_segment(segment: SegmentSpec, as_of: date):
    """A predicate on Figures: does one of the segment's rules hold?"""
    predicates = tuple(compile_rule(rule, as_of) for rule in segment.rules)
    return lambda f: any(p(f) for p in predicates)


def memberships(
    segments: Iterable[SegmentSpec], figures: Iterable[Figures], as_of: date
) -> set[tuple[int, int]]:
    """(segment id, customer id) for every segment each customer is in."""
    compiled = [(s.id, compile_segment(s, as_of)) for s in segments]
    return {
        (segment_id, f.customer_id)
        for f in figures
        for segment_id, holds in compiled
        if holds(f)
    }
