"""Stage 2, eligibility: which configurations may apply to this cart, and what each is worth.

Contract: ``eligibility(facts, discounts)`` returns, in input order, one entry per
configuration considered: ``(config, Candidate)`` when it is eligible at order level, or
``(config, None)`` with its ``Reason`` in the rejections when it is not (disabled, other
client type, tier not reached, customer not in the segment, no category/card percent, code
checks). Promo codes other than the one
entered (matched after ``strip().casefold()``) are not considered and not listed.

* Bases: threshold tiers, segment cart tiers and a code's minimum order value compare with
  ``goods_total`` (before any discount) using ``>=``; cumulative tiers the lifetime counted
  spend net of returns; quantity profiles the quantity (or undiscounted value) of the product
  over all its cart lines. Only the highest reached tier of a configuration applies.
* Promo codes: valid from/until inclusive; a limit is reached when uses so far ``>=`` limit
  (None = unlimited).
* ``one_per_kind`` is the "same type never adds up" rule: of several discounts of one kind
  that add up (``sum`` and ``sequential``) only the one worth most on ``goods_total`` stays
  (ties: free shipping first, then lower ``position``, then ``str(id)``), and likewise of
  several ``exclusive_if_higher`` ones of a kind; the others get ``same_type_higher``. The
  two groups are filtered apart: an exclusive discount applies alone, so it must beat the sum
  of ALL the others, one of its own kind included (stage 3). The loyalty card and the promo
  code stay one each whatever their mode. Special offers on different collections all
  apply, but a unit is claimed by one offer at most (offers worth more go first; an offer
  claims its free units plus its qualifying units); an exclusive offer claims its units on
  its own.
* Special offers: "buy N get M" makes, for every N+M units of the collection, the M cheapest
  units free (ties: earlier cart line first). A unit priced 0 is no part of any offer: not
  counted, not freed, not claimed (it would only take a unit from another offer for
  nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from .allocation import spread
from .inputs import (
    HUNDRED,
    ZERO,
    CategoryDiscount,
    CumulativeDiscount,
    Discount,
    DiscountKind,
    Facts,
    LoyaltyCardDiscount,
    PromoCode,
    QuantityBasis,
    QuantityDiscount,
    Reason,
    SegmentAdvantage,
    SpecialOffer,
    StackingMode,
    ThresholdDiscount,
)


@dataclass(slots=True, eq=False)
class Candidate:
    """An eligible configuration, resolved against this cart."""

    config: Discount
    sort_key: tuple[int, str]
    exclusive: bool
    sequential: bool
    rate: Decimal | None = None  # fraction off, same on every line
    rates: tuple[Decimal | None, ...] | None = None  # fraction off per line
    amount: Decimal | None = None  # order-level amount
    shares: tuple[Decimal, ...] | None = None  # the amount spread on undiscounted line values
    free: tuple[int, ...] | None = None  # free units per line (special offers)
    alone: list[Decimal] | None = None  # what it takes off each line when applied alone
    # per line (what it takes off alone, the value it leaves after the floor, its free
    # units), None where it takes nothing: the same in every scenario, so stage 3 keeps it
    alone_lanes: list[tuple[Decimal, Decimal, int] | None] | None = None
    value: Decimal = ZERO  # worth on goods_total, to pick one of a kind
    percent: Decimal | None = None
    bonus_points: int = 0
    gifts: tuple[int | str, ...] = ()
    free_shipping: bool = False
    earns_points: bool = True
    cap: Decimal | None = None  # promo code: most the order may have off in total

    @property
    def benefit(self) -> bool:
        return bool(self.gifts or self.bonus_points or self.free_shipping)


def highest_reached(tiers, attribute: str, basis: Decimal):
    best = None
    for tier in tiers:
        threshold = getattr(tier, attribute)
        if threshold <= basis and (best is None or threshold > getattr(best, attribute)):
            best = tier
    return best


class _Evaluator:
    def __init__(self, facts: Facts):
        self.facts = facts
        self._collection_members: dict[int | str, list[int]] = {}
        self._quantity_cache: tuple[tuple[Decimal | None, ...], Decimal] | None = None

    def candidate(self, config: Discount, **kwargs) -> Candidate:
        mode = config.stacking
        return Candidate(
            config=config,
            sort_key=(config.position, str(config.id)),
            exclusive=mode is StackingMode.EXCLUSIVE_IF_HIGHER,
            sequential=mode is StackingMode.SEQUENTIAL,
            **kwargs,
        )

    def percent_candidate(self, config: Discount, percent: Decimal, **kwargs) -> Candidate:
        rate = percent / HUNDRED
        return self.candidate(
            config, rate=rate, percent=percent, value=rate * self.facts.goods_total, **kwargs
        )

    def threshold(self, config: ThresholdDiscount) -> Candidate | Reason:
        tier = highest_reached(config.tiers, "min_goods_value", self.facts.goods_total)
        if tier is None:
            return Reason.TIER_NOT_REACHED
        return self.percent_candidate(
            config, tier.percent, bonus_points=tier.bonus_points, gifts=tier.gift_product_ids
        )

    def cumulative(self, config: CumulativeDiscount) -> Candidate | Reason:
        spend = self.facts.customer.lifetime_spend
        tier = highest_reached(config.tiers, "min_lifetime_spend", spend)
        if tier is None:
            return Reason.TIER_NOT_REACHED
        return self.percent_candidate(config, tier.percent)

    def quantity_rates(self) -> tuple[tuple[Decimal | None, ...], Decimal]:
        """Each line's rate from its own profile, measured on the whole product; and the worth."""
        if self._quantity_cache is not None:
            return self._quantity_cache
        lines, base = self.facts.lines, self.facts.base
        units: dict[int | str, Decimal] = {}
        values: dict[int | str, Decimal] = {}
        for line, value in zip(lines, base, strict=True):
            units[line.product_id] = units.get(line.product_id, ZERO) + line.quantity
            values[line.product_id] = values.get(line.product_id, ZERO) + value
        rates: list[Decimal | None] = []
        worth = ZERO
        for line, value in zip(lines, base, strict=True):
            profile = line.quantity_profile
            tier = None
            if profile is not None:
                measure = units if profile.basis is QuantityBasis.QUANTITY else values
                tier = highest_reached(profile.tiers, "min_value", measure[line.product_id])
            rate = tier.percent / HUNDRED if tier is not None and tier.percent else None
            rates.append(rate)
            if rate is not None:
                worth += rate * value
        self._quantity_cache = (tuple(rates), worth)
        return self._quantity_cache

    def quantity(self, config: QuantityDiscount) -> Candidate | Reason:
        rates, value = self.quantity_rates()
        if not value:
            return Reason.TIER_NOT_REACHED
        return self.candidate(config, rates=rates, value=value)

    def offer_free_units(self, offer: SpecialOffer, claimed: list[int]) -> tuple[list[int], int]:
        """Free units per line, and how many groups of N+M units the offer finds."""
        lines = self.facts.lines
        members = self._collection_members.get(offer.collection)
        if members is None:
            # cheapest first; on equal prices the earlier cart line first. A unit that costs
            # nothing is no part of an offer: freeing it gives nothing, and claiming it
            # would only take it from another offer
            members = self._collection_members[offer.collection] = sorted(
                (
                    i
                    for i, line in enumerate(lines)
                    if offer.collection in line.collections and line.unit_price > 0
                ),
                key=lambda i: lines[i].unit_price,
            )
        available = 0
        for i in members:
            available += lines[i].quantity - claimed[i]
        group = offer.buy_quantity + offer.free_quantity
        groups = available // group
        free = [0] * len(lines)
        if not groups:
            return free, 0
        to_free = groups * offer.free_quantity
        to_claim = groups * group
        for i in members:  # each line once, so it is claimed as it is taken
            if not to_claim:
                break
            take = min(lines[i].quantity - claimed[i], to_claim)
            claimed[i] += take
            units = free[i] = min(take, to_free)
            to_free -= units
            to_claim -= take
        return free, groups

    def special_offer(self, config: SpecialOffer) -> Candidate | Reason:
        lines = self.facts.lines
        free, groups = self.offer_free_units(config, [0] * len(lines))
        if not groups:
            return Reason.NOT_ENOUGH_UNITS
        value = ZERO  # only compared and tested for zero: lines with no free unit add nothing
        for line, f in zip(lines, free, strict=True):
            if f:
                value += line.unit_price * f
        return self.candidate(config, free=tuple(free), value=value)

    def promo_code(self, config: PromoCode) -> Candidate | Reason:
        facts, customer = self.facts, self.facts.customer
        today = customer.today
        if config.valid_from is not None and today < config.valid_from:
            return Reason.CODE_NOT_YET_VALID
        if config.valid_until is not None and today > config.valid_until:
            return Reason.CODE_EXPIRED
        if config.usage_limit is not None and (
            customer.promo_code_uses_total >= config.usage_limit
        ):
            return Reason.CODE_LIMIT_REACHED
        if config.usage_limit_per_customer is not None and (
            customer.promo_code_uses_by_customer >= config.usage_limit_per_customer
        ):
            return Reason.CODE_CUSTOMER_LIMIT_REACHED
        if config.minimum_order_value is not None and (
            facts.goods_total < config.minimum_order_value
        ):
            return Reason.CODE_MINIMUM_NOT_REACHED
        cap = None
        if config.max_discount_percent is not None:
            cap = config.max_discount_percent / HUNDRED * facts.goods_total
        if config.max_discount_amount is not None:
            amount_cap = config.max_discount_amount
            cap = amount_cap if cap is None else min(cap, amount_cap)
        if cap is not None:
            cap = cap.quantize(facts.quantum, ROUND_DOWN)  # never above what was set
        if config.percent is not None:
            return self.percent_candidate(config, config.percent, cap=cap)
        amount = config.amount
        shares = None
        if config.stacking is not StackingMode.SEQUENTIAL:  # sequential: spread at its step
            shares = spread(amount, facts.base, facts.quantum)
        return self.candidate(
            config, amount=amount, shares=shares, value=min(amount, facts.goods_total), cap=cap
        )

    def category(self, config: CategoryDiscount) -> Candidate | Reason:
        percent = self.facts.customer.category_percent
        if not percent:
            return Reason.NO_CATEGORY_DISCOUNT
        return self.percent_candidate(config, percent)

    def loyalty_card(self, config: LoyaltyCardDiscount) -> Candidate | Reason:
        percent = self.facts.customer.loyalty_card_percent
        if not percent:
            return Reason.NO_LOYALTY_CARD
        return self.percent_candidate(config, percent)

    def segment(self, config: SegmentAdvantage) -> Candidate | Reason:
        facts = self.facts
        if config.segment_id not in facts.customer.segment_ids:
            return Reason.NOT_IN_SEGMENT
        tier = highest_reached(config.tiers, "min_cart_total", facts.goods_total)
        if tier is None:
            return Reason.TIER_NOT_REACHED
        percent_off = tier.percent_off if config.special_discount else ZERO
        rate = percent_off / HUNDRED if percent_off else None
        amount = (tier.amount_off or None) if config.special_discount else None
        value = (rate or ZERO) * facts.goods_total
        shares = None
        if amount is not None:
            if config.stacking is not StackingMode.SEQUENTIAL:
                shares = spread(amount, facts.base, facts.quantum)
            value += min(amount, facts.goods_total - value)
        return self.candidate(
            config,
            rate=rate,
            amount=amount,
            shares=shares,
            value=value,
            percent=percent_off or None,
            free_shipping=tier.free_shipping,
            earns_points=config.earns_points,
        )

    def evaluate(self, config: Discount) -> Candidate | Reason:
        if not config.enabled:
            return Reason.DISABLED
        if config.client_type is not self.facts.customer.client_type:
            return Reason.OTHER_CLIENT_TYPE
        return getattr(self, config.kind)(config)  # a StrEnum: the member is its value

    def one_per_kind(self, candidates: list[Candidate], rejected: dict[int, Reason]) -> None:
        best: dict[tuple[DiscountKind, bool], tuple[tuple, Candidate]] = {}
        grouped = []  # each group and rank computed once, not at every comparison
        offers = []
        for c in candidates:
            if c.config.kind is DiscountKind.SPECIAL_OFFER:
                if not c.exclusive:
                    offers.append(c)
                continue
            key = _group(c)
            rank = _rank(c)
            grouped.append((c, key))
            other = best.get(key)
            if other is None or rank < other[0]:
                best[key] = (rank, c)
        for c, key in grouped:
            if best[key][1] is not c:
                rejected[id(c)] = Reason.SAME_TYPE_HIGHER
        claimed = [0] * len(self.facts.lines)
        for c in sorted(offers, key=_rank):
            free, groups = self.offer_free_units(c.config, claimed)
            if groups:
                c.free = tuple(free)
            else:
                rejected[id(c)] = Reason.SAME_TYPE_HIGHER


# The card and the code are one each whatever their mode (stage 4 prices the order with and
# without them); of the other kinds the best exclusive one and the best adding one both stay.
_ONE_WHATEVER_THE_MODE = frozenset({DiscountKind.LOYALTY_CARD, DiscountKind.PROMO_CODE})


def _group(c: Candidate) -> tuple[DiscountKind, bool]:
    kind = c.config.kind
    return kind, c.exclusive and kind not in _ONE_WHATEVER_THE_MODE


def _rank(c: Candidate) -> tuple:
    return (-c.value, not c.free_shipping, c.sort_key)


def eligibility(
    facts: Facts, discounts: Sequence[Discount]
) -> tuple[list[tuple[Discount, Candidate | None]], dict[int, Reason], bool]:
    """Each configuration considered (with its candidate, None when not eligible), the
    rejections so far keyed by ``id(candidate)`` or ``id(config)``, and whether the code
    entered matched a configuration."""
    evaluator = _Evaluator(facts)
    entries: list[tuple[Discount, Candidate | None]] = []
    rejected: dict[int, Reason] = {}
    eligible: list[Candidate] = []
    code_found = False
    for config in discounts:
        if config.kind is DiscountKind.PROMO_CODE:
            if not facts.entered_code or config.code.strip().casefold() != facts.entered_code:
                continue
            code_found = True
        result = evaluator.evaluate(config)
        if isinstance(result, Reason):
            entries.append((config, None))
            rejected[id(config)] = result
        else:
            entries.append((config, result))
            eligible.append(result)
    evaluator.one_per_kind(eligible, rejected)
    return entries, rejected, code_found
