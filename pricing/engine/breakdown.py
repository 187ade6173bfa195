"""Stage 5, breakdown: the quote the caller gets, built from the chosen scenario.

Contract: ``build(facts, entries, rejected, code_found, chosen)`` returns the ``Quote``.

* Each line's discount (undiscounted total minus line total) is split over the discounts
  that made it in proportion to their exact amounts (allocation: truncated, remainder on the
  last), so a line's ``discounts`` add up to its ``discount_amount``; when the floor raised
  the line every share is flagged ``cut_by_minimum_price``.
* Breakdown: one entry per configuration considered (plus one for an unknown code), in
  input order: ``applied`` with the amount it took off (entries sum to ``discount_total``),
  or ``rejected`` with a ``Reason``. An applied entry may carry a reason saying why it took
  less than its nominal amount (``below_minimum_price``, ``code_maximum_discount``) or, when
  it is applied only for a gift, points or free shipping, why it took nothing. A discount
  that took under a cent off a line (rounded share 0.00) is applied when giving that exact
  amount back would raise the line's rounded total (it pulled the line down a cent); a
  share of 0.00 that changes no line's price stays ``no_effect``.
* A discount that applies nowhere grants nothing: an ``exclusive_if_higher`` one that won no
  line, or any other one when an exclusive discount won every line, is rejected with its
  per-line reason and gives no gift, no points and no free shipping. Otherwise the
  order-level benefits of the applied discounts are granted: gifts and points of the
  threshold tier, free shipping of the segment tier.
* Points to earn = tier points + floor(total x bonus percent / 100); the percent part is not
  earned when an applied segment advantage has ``earns_points`` = False. ``Quote.promo_code``
  names the code only when it took something off: count one use when the order is placed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from .eligibility import Candidate
from .inputs import (
    HUNDRED,
    REASON_MESSAGES,
    ZERO,
    Discount,
    DiscountKind,
    DiscountStatus,
    Facts,
    Reason,
)
from .scenarios import Scenario
from .stacking import LineResult, line_shares


@dataclass(frozen=True, slots=True)
class AppliedDiscount:
    discount_id: int | str
    kind: DiscountKind
    name: str
    amount: Decimal
    cut_by_minimum_price: bool = False


@dataclass(frozen=True, slots=True)
class LineRejection:
    discount_id: int | str
    reason: Reason


@dataclass(frozen=True, slots=True)
class QuoteLine:
    product_id: int | str
    sku: str
    quantity: int
    free_quantity: int
    unit_price: Decimal
    undiscounted_total: Decimal
    discount_amount: Decimal
    line_total: Decimal
    final_unit_price: Decimal  # display only: line_total / quantity, half up
    minimum_price_applied: bool
    discounts: tuple[AppliedDiscount, ...]
    rejected: tuple[LineRejection, ...]


@dataclass(frozen=True, slots=True)
class BreakdownEntry:
    discount_id: int | str | None  # None for an unknown promo code
    kind: DiscountKind
    name: str
    status: DiscountStatus
    amount: Decimal
    reason: Reason | None = None
    percent: Decimal | None = None

    @property
    def message(self) -> str:
        return REASON_MESSAGES[self.reason] if self.reason else ""


@dataclass(frozen=True, slots=True)
class Quote:
    lines: tuple[QuoteLine, ...]
    goods_total: Decimal  # before any discount
    discount_total: Decimal
    total: Decimal  # to pay for goods
    free_shipping: bool
    gift_product_ids: tuple[int | str, ...]  # the customer may pick one
    points_to_earn: int
    promo_code: str | None  # the code applied (count one use when the order is placed)
    breakdown: tuple[BreakdownEntry, ...]
    # The parts of points_to_earn the order keeps for when it counts (loyalty.points): the
    # points granted by tiers, and whether the bonus percent part is earned.
    points_granted: int = 0
    earns_percent_points: bool = True


def _applies(c: Candidate, chosen: Scenario, lines: int) -> bool:
    """False when ``c`` applies nowhere: it must then grant nothing."""
    priced = chosen.priced
    if c.exclusive and any(c.alone or ()):
        return id(c) in priced.won
    return not (lines and priced.exclusive_lines == lines)


def _pulls_down(facts: Facts, i: int, result: LineResult, c: Candidate, off: Decimal) -> bool:
    """Whether line ``i`` would be priced higher with ``c``'s exact ``off`` given back: the
    case of a discount whose rounded share is 0.00 but which pulled the line down a cent.

    Giving ``off`` back is an upper bound of the line's value without ``c`` (later
    sequential steps took a part of what it left, not more), and the value with it a lower
    bound, so where even the upper bound rounds to the same total removing ``c`` changes
    nothing on this line."""
    line = facts.lines[i]
    free = result.free_quantity - (c.free[i] if c.free is not None else 0)
    floor_value = facts.unit_floor[i] * (line.quantity - free)
    without = max(result.unfloored + off, floor_value)
    return without.quantize(facts.quantum, ROUND_HALF_UP) > result.total - result.give_back


def build(
    facts: Facts,
    entries: list[tuple[Discount, Candidate | None]],
    rejected: dict[int, Reason],
    code_found: bool,
    chosen: Scenario,
) -> Quote:
    priced = chosen.priced
    rejected = {**rejected, **chosen.excluded}
    quantum = facts.quantum
    amounts: dict[int, Decimal] = {}
    cut: set[int] = set()
    # took under a cent off a line (a 0.00 share) that it would cost more without
    contributed: set[int] = set()
    line_reasons: dict[int, Reason] = {}
    quote_lines = []
    # A line rejection is frozen and the same (discount, reason) recurs on many lines: one
    # object per pair instead of one per line
    line_rejections: dict[tuple[int, Reason], LineRejection] = {}
    for i, (line, undiscounted, result) in enumerate(
        zip(facts.lines, facts.undiscounted, priced.lines, strict=True)
    ):
        discount = undiscounted - result.total
        applied = []
        result_cut = result.cut
        for (c, off), share in zip(result.contributions, line_shares(facts, i, result),
                                   strict=True):
            key = id(c)
            amounts[key] = amounts.get(key, ZERO) + share
            if off > 0 and not share and _pulls_down(facts, i, result, c, off):
                contributed.add(key)
            if result_cut:
                cut.add(key)
            config = c.config
            applied.append(AppliedDiscount(config.id, config.kind, config.name, share, result_cut))
        rejections = priced.rejections(i) if priced.alone else ()
        line_rejected = []
        for c, reason in rejections:
            key = id(c)
            line_reasons.setdefault(key, reason)
            rejection = line_rejections.get((key, reason))
            if rejection is None:
                rejection = line_rejections[key, reason] = LineRejection(c.config.id, reason)
            line_rejected.append(rejection)
        quantity = line.quantity
        # positional (in field order): keywords cost a third more per object, built per line
        quote_lines.append(
            QuoteLine(
                line.product_id,
                line.sku,
                quantity,
                result.free_quantity,
                line.unit_price,
                undiscounted,  # undiscounted_total
                discount,  # discount_amount
                result.total,  # line_total
                (result.total / quantity).quantize(quantum, ROUND_HALF_UP),  # final_unit_price
                result_cut,  # minimum_price_applied
                tuple(applied),  # discounts
                tuple(line_rejected),  # rejected
            )
        )

    total = priced.total
    no_amount = ZERO.quantize(quantum)
    gifts: tuple[int | str, ...] = ()
    tier_points = 0
    free_shipping = False
    earns_percent_points = True
    breakdown = []
    line_count = len(facts.lines)
    for config, candidate in entries:
        key = id(candidate) if candidate is not None else id(config)
        reason = rejected.get(key)
        amount = amounts.get(key, no_amount)
        status = DiscountStatus.REJECTED
        if reason is None and candidate is not None:
            if not _applies(candidate, chosen, line_count):
                reason = line_reasons.get(key) or (
                    Reason.EXCLUSIVE_NOT_HIGHER if candidate.exclusive
                    else Reason.LOST_TO_EXCLUSIVE
                )
            else:
                benefit = candidate.benefit
                if key in priced.capped:
                    reason = Reason.CODE_MAXIMUM_DISCOUNT
                elif key in cut:
                    reason = Reason.BELOW_MINIMUM_PRICE
                elif not amount and key not in contributed and (candidate.value or not benefit):
                    reason = line_reasons.get(key, Reason.NO_EFFECT)
                # what took nothing and gives nothing is not applied; what took something
                # exactly is, even when its rounded share is 0.00 (it may be the part that
                # pulled a line down by a cent)
                if amount or benefit or key in contributed:
                    status = DiscountStatus.APPLIED
                    gifts += candidate.gifts
                    tier_points += candidate.bonus_points
                    free_shipping = free_shipping or candidate.free_shipping
                    earns_percent_points = earns_percent_points and candidate.earns_points
        breakdown.append(  # positional, in field order, as for the lines
            BreakdownEntry(
                config.id,
                config.kind,
                config.name,
                status,
                amount,
                reason,
                candidate.percent if candidate is not None else None,  # percent
            )
        )
    if facts.entered_code and not code_found:
        breakdown.append(
            BreakdownEntry(
                discount_id=None,
                kind=DiscountKind.PROMO_CODE,
                name=facts.cart.promo_code or "",
                status=DiscountStatus.REJECTED,
                amount=no_amount,
                reason=Reason.CODE_UNKNOWN,
            )
        )

    points = tier_points
    bonus_percent = facts.customer.bonus_percent
    if bonus_percent and earns_percent_points:
        points += int((total * bonus_percent / HUNDRED).to_integral_value(ROUND_DOWN))
    applied_code = next(
        (
            c.config.code
            for c in chosen.included
            if c.config.kind is DiscountKind.PROMO_CODE and amounts.get(id(c))
        ),
        None,
    )
    return Quote(
        lines=tuple(quote_lines),
        goods_total=facts.goods_total,
        discount_total=facts.goods_total - total,
        total=total,
        free_shipping=free_shipping,
        gift_product_ids=gifts,
        points_to_earn=points,
        promo_code=applied_code,
        breakdown=tuple(breakdown),
        points_granted=tier_points,
        earns_percent_points=earns_percent_points,
    )
