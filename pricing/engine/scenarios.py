"""Stage 4, scenarios: the loyalty card against the others, the promo code with or without.

Contract: ``choose(facts, eligible)`` prices every way the order may be priced and returns
the cheapest ``Scenario`` (the first one on a tie), with the discounts it leaves out and why.

* Loyalty card (kind ``loyalty_card``) never combines with threshold, cumulative, quantity,
  special offer or promo code discounts. When both sides are eligible the order is priced
  both ways; the cheaper total wins, a tie keeps the other discounts (they may carry gifts
  and points); the loser gets ``card_larger`` / ``card_not_better``. Category and segment
  discounts combine with either side by their stacking modes.
* A combinable promo code is priced with the others by its own stacking mode (stage 3). A
  non-combinable code ("other discounts still apply" = False) is priced alone against the
  order without it; a segment advantage with ``applies_with_promo_code`` = False is left out
  when the code is used, and the order is also priced without the code; so is a code with a
  maximum discount (its cap may leave it giving less than the discounts it pushes out of a
  100% sum). The cheaper order wins; a tie keeps the order without the code
  (``code_not_better``).

So adding a card or a code never makes the order dearer than without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .eligibility import Candidate
from .inputs import NOT_WITH_CARD, DiscountKind, Facts, Reason
from .stacking import Priced, price


@dataclass(slots=True)
class Scenario:
    included: list[Candidate]
    excluded: dict[int, Reason] = field(default_factory=dict)  # id(candidate) -> reason
    priced: Priced | None = None


def scenarios(eligible: list[Candidate]) -> list[Scenario]:
    """The ways to price the order; the cheapest wins, the first one on a tie.

    ``plain``: without the code (only needed when the code may lose); ``coded``: with the
    code; ``carded``: the loyalty card instead of the kinds it never combines with (a
    combinable code included).
    """
    card = next((c for c in eligible if c.config.kind is DiscountKind.LOYALTY_CARD), None)
    code = next((c for c in eligible if c.config.kind is DiscountKind.PROMO_CODE), None)
    automatic = [c for c in eligible if c is not code]
    not_with_card = [c for c in automatic if c.config.kind in NOT_WITH_CARD]
    not_with_code = [
        c
        for c in automatic
        if c.config.kind is DiscountKind.SEGMENT and not c.config.applies_with_promo_code
    ]
    combinable_code = code is not None and code.config.combinable
    card_conflict = card is not None and (bool(not_with_card) or combinable_code)
    others = [c for c in automatic if not (card_conflict and c is card)]

    result = []
    if not combinable_code or not_with_code or code.cap is not None:
        plain = Scenario(others)
        if card_conflict:
            plain.excluded[id(card)] = Reason.CARD_NOT_BETTER
        if code is not None:
            plain.excluded[id(code)] = Reason.CODE_NOT_BETTER
        result.append(plain)
    if combinable_code:
        coded = Scenario([c for c in others if c not in not_with_code] + [code])
        coded.excluded.update((id(c), Reason.NOT_WITH_PROMO_CODE) for c in not_with_code)
        if card is not None:
            coded.excluded[id(card)] = Reason.CARD_NOT_BETTER
        result.append(coded)
    elif code is not None:
        alone = Scenario([code])
        alone.excluded.update((id(c), Reason.CODE_NOT_COMBINABLE) for c in automatic)
        result.append(alone)
    if card_conflict:
        carded = Scenario([c for c in automatic if c not in not_with_card])
        carded.excluded.update((id(c), Reason.CARD_LARGER) for c in not_with_card)
        if code is not None:
            carded.excluded[id(code)] = Reason.CARD_LARGER
        result.append(carded)
    return result


def choose(facts: Facts, eligible: list[Candidate]) -> Scenario:
    chosen = None
    cache: dict = {}
    for scenario in scenarios(eligible):
        scenario.priced = price(facts, scenario.included, cache)
        if chosen is None or scenario.priced.total < chosen.priced.total:
            chosen = scenario
    return chosen
