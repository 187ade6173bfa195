"""Pricing engine: prices one cart with every discount that applies to one customer.

Pure Python (stdlib only, no Django, no ORM, no settings). Callers load plain data into the
frozen dataclasses of ``inputs`` and call::

    quote(cart, customer, discounts) -> Quote

One module per stage, each with its contract in its docstring:

1. ``inputs``: the input dataclasses, validated when built, and the cart's ``Facts``;
2. ``eligibility``: which configurations may apply, what each is worth, one per kind;
3. ``stacking``: one set of discounts priced line by line (offers, ``sum``, ``sequential``,
   ``exclusive_if_higher``, minimum price, rounding, a code's cap);
4. ``scenarios``: the loyalty card against the others, the promo code with or without; the
   cheapest wins;
5. ``breakdown``: the ``Quote``, its lines and its applied / rejected entries.

The one rounding point: every price computation runs in full Decimal precision (34 digits);
each line's final total is fixed once, ``line_total = round_half_up(exact line amount)`` to
the minor unit. ``undiscounted_total`` is ``round_half_up(quantity * unit_price)``, order
totals are sums of line totals, ``final_unit_price`` is a display value
(``round_half_up(line_total / quantity)``) never fed back into any sum. Splitting an amount
into minor units is allocation (``allocation``), not pricing.

Guarantees the tests hold the engine to: no line or total is ever negative or above its
undiscounted value; every paid unit costs at least ``min(minimum_price, unit_price)``;
adding a discount never raises the total and removing a rejected one never changes it (of
two adding discounts of one kind in different modes, the one worth more on the goods value
is kept: see ``eligibility``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import localcontext

from .breakdown import AppliedDiscount, BreakdownEntry, LineRejection, Quote, QuoteLine, build
from .eligibility import Candidate, _rank, eligibility
from .inputs import (
    REASON_MESSAGES,
    Cart,
    CartLine,
    CategoryDiscount,
    ClientType,
    CumulativeDiscount,
    CumulativeTier,
    CustomerContext,
    Discount,
    DiscountKind,
    DiscountStatus,
    Facts,
    LoyaltyCardDiscount,
    PricingInputError,
    PromoCode,
    QuantityBasis,
    QuantityDiscount,
    QuantityProfile,
    QuantityTier,
    Reason,
    SegmentAdvantage,
    SegmentTier,
    SpecialOffer,
    StackingMode,
    ThresholdDiscount,
    ThresholdTier,
)
from .scenarios import Scenario, choose

__all__ = [
    "REASON_MESSAGES",
    "AppliedDiscount",
    "BreakdownEntry",
    "Cart",
    "CartLine",
    "CategoryDiscount",
    "ClientType",
    "CumulativeDiscount",
    "CumulativeTier",
    "CustomerContext",
    "Discount",
    "DiscountKind",
    "DiscountStatus",
    "LineRejection",
    "LoyaltyCardDiscount",
    "PricingInputError",
    "PromoCode",
    "QuantityBasis",
    "QuantityDiscount",
    "QuantityProfile",
    "QuantityTier",
    "Quote",
    "QuoteLine",
    "Reason",
    "SegmentAdvantage",
    "SegmentTier",
    "SpecialOffer",
    "StackingMode",
    "ThresholdDiscount",
    "ThresholdTier",
    "quote",
]


def quote(cart: Cart, customer: CustomerContext, discounts: Sequence[Discount]) -> Quote:
    """Price ``cart`` for ``customer`` with the shop's ``discounts`` (see the stage modules)."""
    with localcontext() as context:
        context.prec = 34
        facts = Facts.of(cart, customer)
        # An offer claims its units before the exclusive discounts are decided per line: one
        # that then loses every line it frees to an exclusive must not keep its units from
        # the other offers, so the order is priced again without it (it is listed as
        # rejected, lost_to_exclusive), one at a time, until no offer is left in that state.
        idle: set[int] = set()
        while True:
            active = [d for d in discounts if id(d) not in idle] if idle else discounts
            entries, rejected, code_found = eligibility(facts, active)
            eligible = [c for _, c in entries if c is not None and id(c) not in rejected]
            chosen = choose(facts, eligible)
            more = _idle_offers(chosen)
            if not more:
                break
            # one at a time, the first to claim: the later ones may be idle only because of
            # its claims
            idle.add(id(min(more, key=_rank).config))
        if idle:
            kept = {id(config): (config, c) for config, c in entries}
            entries = [
                kept.get(id(d), (d, None)) for d in discounts if id(d) in kept or id(d) in idle
            ]
            rejected.update((i, Reason.LOST_TO_EXCLUSIVE) for i in idle)
        return build(facts, entries, rejected, code_found, chosen)


def _idle_offers(chosen: Scenario) -> list[Candidate]:
    """The special offers (not exclusive) in ``chosen`` that free units on no line kept
    from the exclusive discounts."""
    offers = [c for c in chosen.included if c.free is not None and not c.exclusive]
    if not offers:
        return []
    live: set[int] = set()
    for result in chosen.priced.lines:
        if result.winner is None:
            live.update(id(c) for c, _ in result.contributions)
    return [c for c in offers if id(c) not in live]
