"""Pricing engine: prices one cart with every discount that applies to one customer.

Pure Python (stdlib only, no Django, no ORM, no settings). Callers load plain data into the
frozen dataclasses below and call::

    quote(cart, customer, discounts) -> Quote

Contract
--------
* Money is ``decimal.Decimal`` everywhere (floats are rejected with ``PricingInputError``);
  percents are Decimals in 0..100. ``Cart.currency_exponent`` is the currency's minor-unit
  exponent (2 for PLN/EUR/UAH, 0 for JPY).
* **The one rounding point**: every price computation runs in full Decimal precision; each
  line's final total is fixed once, ``line_total = round_half_up(exact line amount)`` to the
  minor unit. Everything else is derived from rounded line totals: ``undiscounted_total`` is
  ``round_half_up(quantity * unit_price)``, order totals are sums of line totals, and
  ``final_unit_price`` is a display value, ``round_half_up(line_total / quantity)``, never fed
  back into any sum. Splitting an amount into whole minor units (an amount code over lines, a
  line's discount over the discounts that made it) is allocation, not pricing: shares are
  truncated to the minor unit and the remainder goes to the last line/discount, so shares are
  never negative and always add up exactly.
* Bases: threshold tiers, segment cart tiers and a promo code's minimum order value are
  compared with ``goods_total`` = goods value BEFORE any discount (sum of undiscounted line
  totals, shipping excluded), using ``>=``. Cumulative tiers compare the customer's lifetime
  counted spend net of returns. Quantity profiles compare the quantity (or undiscounted value)
  of that product summed over all cart lines.
* Eligibility (per configuration, order level): disabled, other client type, tier not reached,
  customer not in the segment, no category/card percent, code checks. Promo codes other than
  the one entered (matched after ``strip().casefold()``) are not considered and not listed.
* Same type never adds up: within a configuration only the highest reached tier applies, and
  of several eligible configurations of one kind only the one worth most on ``goods_total``
  applies (ties: free shipping first, then lower ``position``, then ``str(id)``). Special
  offers on different collections all apply, but a unit is claimed by one offer at most
  (offers worth more go first; an offer claims its free units plus its qualifying units).
* Special offers: "buy N get M" makes, for every N+M units of the collection in the cart, the M
  cheapest units free (ties: earlier cart line first). Free units are removed first;
  percentages and amounts apply to the remaining paid units. A free unit is a gift: it is the
  one unit allowed below the minimum price; every PAID unit keeps the floor.
* Stacking per line, in two stages (stage 2 holds promo codes only, so a code always applies on
  the already-reduced price: a 50% sale plus a 50% code leaves 25% to pay, never 0):

  1. stage 1, automatic discounts: free units of special offers; then the ``sum`` group (its
     percents and amount shares add up and are capped at 100% of the paid value); then
     ``sequential`` discounts one after another on the reduced price, by (``position``, id).
  2. stage 2, the promo code on the stage-1 result (``sum`` and ``sequential`` are the same).

  ``exclusive_if_higher`` discounts are decided per line: each one alone on the undiscounted
  line is compared with the combined result of all non-exclusive ones (both stages); the
  largest (ties: lower ``position``, then id) applies alone, nothing else on that line, only if
  it strictly beats that result, else it is rejected on that line (``exclusive_not_higher``;
  the losers to it get ``lost_to_exclusive``). Comparisons use exact pre-floor values.
* Amounts (amount codes, segment amounts) are spread over lines in proportion to each line's
  value as it enters the amount's stage (undiscounted value in stage 1, stage-1 result for a
  code), remainder on the last line with a positive value; an amount larger than the value is
  capped at it.
* Minimum price floor, applied last on every path: each paid unit costs at least
  ``min(minimum_price, unit_price)``. When the floor raises a line, every discount on it is
  cut in proportion and flagged; the breakdown reason is ``below_minimum_price``. No line or
  total is ever negative or above its undiscounted value.
* Loyalty card (kind ``loyalty_card``) never combines with threshold, cumulative, quantity,
  special offer or promo code discounts. When both sides are eligible the engine prices the
  order both ways and keeps the cheaper total (a tie keeps the other discounts, which may carry
  gifts and points); the loser is rejected with ``card_larger`` / ``card_not_better``. Category
  and segment discounts combine with either side by their stacking modes.
* Promo codes: valid from/until inclusive; limits compare uses so far ``>=`` limit (None =
  unlimited). A non-combinable code ("other discounts still apply" = False) is priced alone
  against the order without it; a segment advantage with ``applies_with_promo_code`` = False
  is dropped when a code is used, and the order is also priced without the code. The cheaper
  order wins; a tie keeps the order without the code (``code_not_better``). ``Quote.promo_code``
  names the code only when it took something off: count one use when the order is placed.
* Order-level benefits follow order-level eligibility in the chosen pricing, whatever happens
  per line: gifts and granted points of the threshold tier, free shipping of the segment tier.
  Points to earn = tier points + floor(total * bonus percent / 100), the percent part not
  earned when the applied segment advantage has ``earns_points`` = False. A segment advantage
  with ``special_discount`` = False gives its tier's free shipping (and its points setting)
  but none of the tier's amount or percent off.
* Breakdown: one entry per configuration considered (plus one for an unknown code), in input
  order: ``applied`` with the amount it took off (entries sum to ``discount_total``), or
  ``rejected`` with a ``Reason``. An applied entry may carry a reason too, saying why it took
  less than its nominal amount (``below_minimum_price``), or, when it is applied only for a
  gift, points or free shipping, why it took nothing. Each quote line lists the discounts on
  it (amounts add up to its ``discount_amount``) and its per-line rejections.
  ``REASON_MESSAGES`` holds one plain English message per reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from typing import ClassVar

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

ZERO = Decimal(0)
_HUNDRED = Decimal(100)


class ClientType(StrEnum):
    RETAIL = "retail"
    WHOLESALE = "wholesale"


class StackingMode(StrEnum):
    SUM = "sum"
    EXCLUSIVE_IF_HIGHER = "exclusive_if_higher"
    SEQUENTIAL = "sequential"


class DiscountKind(StrEnum):
    THRESHOLD = "threshold"
    CUMULATIVE = "cumulative"
    QUANTITY = "quantity"
    SPECIAL_OFFER = "special_offer"
    PROMO_CODE = "promo_code"
    CATEGORY = "category"
    LOYALTY_CARD = "loyalty_card"
    SEGMENT = "segment"


class QuantityBasis(StrEnum):
    QUANTITY = "quantity"
    LINE_VALUE = "line_value"


class DiscountStatus(StrEnum):
    APPLIED = "applied"
    REJECTED = "rejected"


class Reason(StrEnum):
    DISABLED = "disabled"
    OTHER_CLIENT_TYPE = "other_client_type"
    TIER_NOT_REACHED = "tier_not_reached"
    NOT_ENOUGH_UNITS = "not_enough_units"
    NO_CATEGORY_DISCOUNT = "no_category_discount"
    NO_LOYALTY_CARD = "no_loyalty_card"
    NOT_IN_SEGMENT = "not_in_segment"
    SAME_TYPE_HIGHER = "same_type_higher"
    CARD_LARGER = "card_larger"
    CARD_NOT_BETTER = "card_not_better"
    EXCLUSIVE_NOT_HIGHER = "exclusive_not_higher"
    LOST_TO_EXCLUSIVE = "lost_to_exclusive"
    BELOW_MINIMUM_PRICE = "below_minimum_price"
    NO_EFFECT = "no_effect"
    CODE_UNKNOWN = "code_unknown"
    CODE_NOT_YET_VALID = "code_not_yet_valid"
    CODE_EXPIRED = "code_expired"
    CODE_LIMIT_REACHED = "code_limit_reached"
    CODE_CUSTOMER_LIMIT_REACHED = "code_customer_limit_reached"
    CODE_MINIMUM_NOT_REACHED = "code_minimum_not_reached"
    CODE_NOT_COMBINABLE = "code_not_combinable"
    CODE_NOT_BETTER = "code_not_better"
    NOT_WITH_PROMO_CODE = "not_with_promo_code"


REASON_MESSAGES: dict[Reason, str] = {
    Reason.DISABLED: "This discount is disabled.",
    Reason.OTHER_CLIENT_TYPE: "This discount is for another client type.",
    Reason.TIER_NOT_REACHED: "No tier of this discount is reached.",
    Reason.NOT_ENOUGH_UNITS: "Not enough units of the collection in the cart.",
    Reason.NO_CATEGORY_DISCOUNT: "The customer's category gives no discount.",
    Reason.NO_LOYALTY_CARD: "The customer has no loyalty card discount.",
    Reason.NOT_IN_SEGMENT: "The customer is not in this segment.",
    Reason.SAME_TYPE_HIGHER: "Another discount of the same type gives at least as much.",
    Reason.CARD_LARGER: (
        "The loyalty card gives more; it never adds up with threshold, cumulative, quantity, "
        "special offer or promo code discounts."
    ),
    Reason.CARD_NOT_BETTER: "The other discounts give at least as much as the loyalty card.",
    Reason.EXCLUSIVE_NOT_HIGHER: "Applies alone only when it beats the other discounts; "
    "it does not.",
    Reason.LOST_TO_EXCLUSIVE: "A discount that applies alone gives more on this product.",
    Reason.BELOW_MINIMUM_PRICE: "Cut by the product's minimum price.",
    Reason.NO_EFFECT: "Nothing left to discount.",
    Reason.CODE_UNKNOWN: "This promo code does not exist.",
    Reason.CODE_NOT_YET_VALID: "This promo code is not valid yet.",
    Reason.CODE_EXPIRED: "This promo code has expired.",
    Reason.CODE_LIMIT_REACHED: "This promo code has been used the maximum number of times.",
    Reason.CODE_CUSTOMER_LIMIT_REACHED: "The customer has used this promo code the maximum "
    "number of times.",
    Reason.CODE_MINIMUM_NOT_REACHED: "The order does not reach this promo code's minimum value.",
    Reason.CODE_NOT_COMBINABLE: "The promo code used does not combine with other discounts.",
    Reason.CODE_NOT_BETTER: "The order costs no more without this promo code.",
    Reason.NOT_WITH_PROMO_CODE: "This advantage does not apply when a promo code is used.",
}


class PricingInputError(ValueError):
    """Invalid engine input (wrong type, negative money, percent out of 0..100, ...)."""


# --- input validation -------------------------------------------------------------------------


def _check_money(value: object, name: str) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise PricingInputError(f"{name} must be a non-negative Decimal, got {value!r}")


def _check_percent(value: object, name: str) -> None:
    _check_money(value, name)
    if value > _HUNDRED:  # type: ignore[operator]
        raise PricingInputError(f"{name} must be between 0 and 100, got {value!r}")


def _check_count(value: object, name: str, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise PricingInputError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _freeze(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


# --- inputs: cart and customer -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuantityTier:
    """From ``min_value`` (units, or line value in money) of the product: ``percent`` off."""

    min_value: Decimal
    percent: Decimal

    def __post_init__(self) -> None:
        _check_money(self.min_value, "QuantityTier.min_value")
        _check_percent(self.percent, "QuantityTier.percent")


@dataclass(frozen=True, slots=True)
class QuantityProfile:
    """A product's quantity/value discount profile (tiers, highest reached wins)."""

    basis: QuantityBasis
    tiers: tuple[QuantityTier, ...]

    def __post_init__(self) -> None:
        _freeze(self, "basis", QuantityBasis(self.basis))
        _freeze(self, "tiers", tuple(self.tiers))


@dataclass(frozen=True, slots=True, kw_only=True)
class CartLine:
    """One product in the cart, priced per unit."""

    product_id: int | str
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    minimum_price: Decimal = ZERO
    collections: frozenset[int | str] = frozenset()
    quantity_profile: QuantityProfile | None = None

    def __post_init__(self) -> None:
        _check_count(self.quantity, "CartLine.quantity", 1)
        _check_money(self.unit_price, "CartLine.unit_price")
        _check_money(self.minimum_price, "CartLine.minimum_price")
        _freeze(self, "collections", frozenset(self.collections))


@dataclass(frozen=True, slots=True, kw_only=True)
class Cart:
    lines: tuple[CartLine, ...]
    currency_exponent: int
    promo_code: str | None = None

    def __post_init__(self) -> None:
        _freeze(self, "lines", tuple(self.lines))
        _check_count(self.currency_exponent, "Cart.currency_exponent", 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerContext:
    """What the engine knows about the customer on ``today`` (the shop-local date)."""

    client_type: ClientType
    today: date
    lifetime_spend: Decimal = ZERO
    category_percent: Decimal | None = None
    loyalty_card_percent: Decimal | None = None
    segment_ids: frozenset[int | str] = frozenset()
    bonus_percent: Decimal | None = None
    promo_code_uses_by_customer: int = 0
    promo_code_uses_total: int = 0

    def __post_init__(self) -> None:
        _freeze(self, "client_type", ClientType(self.client_type))
        _freeze(self, "segment_ids", frozenset(self.segment_ids))
        _check_money(self.lifetime_spend, "CustomerContext.lifetime_spend")
        for name in ("category_percent", "loyalty_card_percent", "bonus_percent"):
            if getattr(self, name) is not None:
                _check_percent(getattr(self, name), f"CustomerContext.{name}")
        _check_count(self.promo_code_uses_by_customer, "promo_code_uses_by_customer", 0)
        _check_count(self.promo_code_uses_total, "promo_code_uses_total", 0)


# --- inputs: discount configurations -----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _DiscountBase:
    id: int | str
    name: str
    client_type: ClientType
    enabled: bool = True
    stacking: StackingMode = StackingMode.SUM
    position: int = 0  # order among `sequential` discounts (lower first)

    kind: ClassVar[DiscountKind]

    def __post_init__(self) -> None:
        _freeze(self, "client_type", ClientType(self.client_type))
        _freeze(self, "stacking", StackingMode(self.stacking))


@dataclass(frozen=True, slots=True)
class ThresholdTier:
    min_goods_value: Decimal
    percent: Decimal
    bonus_points: int = 0
    gift_product_ids: tuple[int | str, ...] = ()

    def __post_init__(self) -> None:
        _check_money(self.min_goods_value, "ThresholdTier.min_goods_value")
        _check_percent(self.percent, "ThresholdTier.percent")
        _check_count(self.bonus_points, "ThresholdTier.bonus_points", 0)
        _freeze(self, "gift_product_ids", tuple(self.gift_product_ids))


@dataclass(frozen=True, slots=True, kw_only=True)
class ThresholdDiscount(_DiscountBase):
    """1. Order goods value (before discounts) >= X -> percent, points, a gift to choose."""

    tiers: tuple[ThresholdTier, ...]
    kind: ClassVar[DiscountKind] = DiscountKind.THRESHOLD

    def __post_init__(self) -> None:
        super(ThresholdDiscount, self).__post_init__()
        _freeze(self, "tiers", tuple(self.tiers))


@dataclass(frozen=True, slots=True)
class CumulativeTier:
    min_lifetime_spend: Decimal
    percent: Decimal

    def __post_init__(self) -> None:
        _check_money(self.min_lifetime_spend, "CumulativeTier.min_lifetime_spend")
        _check_percent(self.percent, "CumulativeTier.percent")


@dataclass(frozen=True, slots=True, kw_only=True)
class CumulativeDiscount(_DiscountBase):
    """2. Lifetime counted spend (net of returns) >= X -> percent."""

    tiers: tuple[CumulativeTier, ...]
    kind: ClassVar[DiscountKind] = DiscountKind.CUMULATIVE

    def __post_init__(self) -> None:
        super(CumulativeDiscount, self).__post_init__()
        _freeze(self, "tiers", tuple(self.tiers))


@dataclass(frozen=True, slots=True, kw_only=True)
class QuantityDiscount(_DiscountBase):
    """3. Turns on the quantity/value profiles that cart lines carry."""

    kind: ClassVar[DiscountKind] = DiscountKind.QUANTITY


@dataclass(frozen=True, slots=True, kw_only=True)
class SpecialOffer(_DiscountBase):
    """4. Buy ``buy_quantity`` of ``collection``, get ``free_quantity`` (the cheapest) free."""

    collection: int | str
    buy_quantity: int
    free_quantity: int
    kind: ClassVar[DiscountKind] = DiscountKind.SPECIAL_OFFER

    def __post_init__(self) -> None:
        super(SpecialOffer, self).__post_init__()
        _check_count(self.buy_quantity, "SpecialOffer.buy_quantity", 1)
        _check_count(self.free_quantity, "SpecialOffer.free_quantity", 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class PromoCode(_DiscountBase):
    """5. A code giving ``percent`` OR ``amount`` off; dates inclusive; None = no limit."""

    code: str
    percent: Decimal | None = None
    amount: Decimal | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    usage_limit: int | None = None
    usage_limit_per_customer: int | None = None
    minimum_order_value: Decimal | None = None
    combinable: bool = True  # "other discounts still apply"
    kind: ClassVar[DiscountKind] = DiscountKind.PROMO_CODE

    def __post_init__(self) -> None:
        super(PromoCode, self).__post_init__()
        if (self.percent is None) == (self.amount is None):
            raise PricingInputError("PromoCode needs exactly one of percent and amount")
        if self.percent is not None:
            _check_percent(self.percent, "PromoCode.percent")
        if self.amount is not None:
            _check_money(self.amount, "PromoCode.amount")
        if self.minimum_order_value is not None:
            _check_money(self.minimum_order_value, "PromoCode.minimum_order_value")
        for name in ("usage_limit", "usage_limit_per_customer"):
            if getattr(self, name) is not None:
                _check_count(getattr(self, name), f"PromoCode.{name}", 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryDiscount(_DiscountBase):
    """6. The customer's category percent (``CustomerContext.category_percent``)."""

    kind: ClassVar[DiscountKind] = DiscountKind.CATEGORY


@dataclass(frozen=True, slots=True, kw_only=True)
class LoyaltyCardDiscount(_DiscountBase):
    """7. The customer's card percent (``CustomerContext.loyalty_card_percent``)."""

    kind: ClassVar[DiscountKind] = DiscountKind.LOYALTY_CARD


@dataclass(frozen=True, slots=True)
class SegmentTier:
    min_cart_total: Decimal
    amount_off: Decimal = ZERO
    percent_off: Decimal = ZERO
    free_shipping: bool = False

    def __post_init__(self) -> None:
        _check_money(self.min_cart_total, "SegmentTier.min_cart_total")
        _check_money(self.amount_off, "SegmentTier.amount_off")
        _check_percent(self.percent_off, "SegmentTier.percent_off")


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentAdvantage(_DiscountBase):
    """8. Cart-total tiers for the customers of one segment."""

    segment_id: int | str
    tiers: tuple[SegmentTier, ...]
    earns_points: bool = True
    applies_with_promo_code: bool = True
    #: False: the tiers' amount and percent off are not given (free shipping still is).
    special_discount: bool = True
    kind: ClassVar[DiscountKind] = DiscountKind.SEGMENT

    def __post_init__(self) -> None:
        super(SegmentAdvantage, self).__post_init__()
        _freeze(self, "tiers", tuple(self.tiers))


Discount = (
    ThresholdDiscount
    | CumulativeDiscount
    | QuantityDiscount
    | SpecialOffer
    | PromoCode
    | CategoryDiscount
    | LoyaltyCardDiscount
    | SegmentAdvantage
)

# Kinds the loyalty card never combines with (SPEC 3.7: types 1-5).
_NOT_WITH_CARD = frozenset(
    {
        DiscountKind.THRESHOLD,
        DiscountKind.CUMULATIVE,
        DiscountKind.QUANTITY,
        DiscountKind.SPECIAL_OFFER,
        DiscountKind.PROMO_CODE,
    }
)
# Stage 2 applies on the result of stage 1 (the promo code always comes last).
_SECOND_STAGE = frozenset({DiscountKind.PROMO_CODE})


# --- output ------------------------------------------------------------------------------------


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


# --- engine ------------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class _Candidate:
    """An eligible configuration, resolved against this cart."""

    config: Discount
    sort_key: tuple[int, str]
    exclusive: bool
    sequential: bool
    stage: int
    rate: Decimal | None = None  # fraction off, same on every line
    rates: tuple[Decimal | None, ...] | None = None  # fraction off per line
    amount: Decimal | None = None  # order-level amount
    shares: tuple[Decimal, ...] | None = None  # stage-1 amount per line
    free: tuple[int, ...] | None = None  # free units per line (special offers)
    alone: list[Decimal] | None = None  # what it takes off each line when applied alone
    value: Decimal = ZERO  # worth on goods_total, to pick one of a kind
    percent: Decimal | None = None
    bonus_points: int = 0
    gifts: tuple[int | str, ...] = ()
    free_shipping: bool = False
    earns_points: bool = True


@dataclass(slots=True)
class _LineResult:
    value: Decimal  # exact, after floor
    total: Decimal  # rounded
    free_quantity: int
    cut: bool
    contributions: list[tuple[_Candidate, Decimal]]
    rejections: list[tuple[_Candidate, Reason]]


@dataclass(slots=True)
class _Scenario:
    included: list[_Candidate]
    excluded: dict[int, Reason] = field(default_factory=dict)  # id(candidate) -> reason
    lines: list[_LineResult] = field(default_factory=list)
    total: Decimal = ZERO


def _by_position(c: _Candidate) -> tuple[int, str]:
    return c.sort_key


def _highest_reached(tiers, attribute: str, basis: Decimal):
    best = None
    for tier in tiers:
        threshold = getattr(tier, attribute)
        if threshold <= basis and (best is None or threshold > getattr(best, attribute)):
            best = tier
    return best


def _allocate(total: Decimal, weights: Sequence[Decimal], quantum: Decimal) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights``: truncated shares, remainder on the last."""
    if len(weights) == 1:
        return [total]
    weight_sum = sum(weights, ZERO)
    shares = [ZERO] * len(weights)
    if not total or weight_sum <= 0:
        return shares
    last = max(i for i, w in enumerate(weights) if w > 0)
    given = ZERO
    for i in range(last):
        if weights[i] > 0:
            share = (total * weights[i] / weight_sum).quantize(quantum, ROUND_DOWN)
            shares[i] = share
            given += share
    shares[last] = total - given
    return shares


def _spread(amount: Decimal, basis: Sequence[Decimal], quantum: Decimal) -> tuple[Decimal, ...]:
    if amount >= sum(basis, ZERO):
        return tuple(basis)
    return tuple(_allocate(amount, basis, quantum))


class _Quoter:
    def __init__(self, cart: Cart, customer: CustomerContext, discounts: Sequence[Discount]):
        self.cart = cart
        self.customer = customer
        self.discounts = discounts
        self.lines = cart.lines
        self.quantum = Decimal(1).scaleb(-cart.currency_exponent)
        self.base = [line.unit_price * line.quantity for line in self.lines]
        self.undiscounted = [v.quantize(self.quantum, ROUND_HALF_UP) for v in self.base]
        self.goods_total = sum(self.undiscounted, ZERO)
        self.unit_floor = [min(line.minimum_price, line.unit_price) for line in self.lines]
        self.entered_code = (cart.promo_code or "").strip().casefold()
        self._collection_members: dict[int | str, list[int]] = {}
        self._quantity_cache: tuple[tuple[Decimal | None, ...], Decimal] | None = None

    # --- eligibility, one configuration at a time ---

    def _candidate(self, config: Discount, **kwargs) -> _Candidate:
        mode = config.stacking
        return _Candidate(
            config=config,
            sort_key=(config.position, str(config.id)),
            exclusive=mode is StackingMode.EXCLUSIVE_IF_HIGHER,
            sequential=mode is StackingMode.SEQUENTIAL,
            stage=2 if config.kind in _SECOND_STAGE else 1,
            **kwargs,
        )

    def _percent_candidate(self, config: Discount, percent: Decimal, **kwargs) -> _Candidate:
        rate = percent / _HUNDRED
        return self._candidate(
            config, rate=rate, percent=percent, value=rate * self.goods_total, **kwargs
        )

    def _threshold(self, config: ThresholdDiscount) -> _Candidate | Reason:
        tier = _highest_reached(config.tiers, "min_goods_value", self.goods_total)
        if tier is None:
            return Reason.TIER_NOT_REACHED
        return self._percent_candidate(
            config, tier.percent, bonus_points=tier.bonus_points, gifts=tier.gift_product_ids
        )

    def _cumulative(self, config: CumulativeDiscount) -> _Candidate | Reason:
        spend = self.customer.lifetime_spend
        tier = _highest_reached(config.tiers, "min_lifetime_spend", spend)
        if tier is None:
            return Reason.TIER_NOT_REACHED
        return self._percent_candidate(config, tier.percent)

    def _quantity_rates(self) -> tuple[tuple[Decimal | None, ...], Decimal]:
        """Each line's rate from its own profile, measured on the whole product; and the worth."""
        if self._quantity_cache is not None:
            return self._quantity_cache
        units: dict[int | str, Decimal] = {}
        values: dict[int | str, Decimal] = {}
        for line, base in zip(self.lines, self.base, strict=True):
            units[line.product_id] = units.get(line.product_id, ZERO) + line.quantity
            values[line.product_id] = values.get(line.product_id, ZERO) + base
        rates: list[Decimal | None] = []
        value = ZERO
        for line, base in zip(self.lines, self.base, strict=True):
            profile = line.quantity_profile
            tier = None
            if profile is not None:
                measure = units if profile.basis is QuantityBasis.QUANTITY else values
                tier = _highest_reached(profile.tiers, "min_value", measure[line.product_id])
            rate = tier.percent / _HUNDRED if tier is not None and tier.percent else None
            rates.append(rate)
            if rate is not None:
                value += rate * base
        self._quantity_cache = (tuple(rates), value)
        return self._quantity_cache

    def _quantity(self, config: QuantityDiscount) -> _Candidate | Reason:
        rates, value = self._quantity_rates()
        if not value:
            return Reason.TIER_NOT_REACHED
        return self._candidate(config, rates=rates, value=value)

    def _offer_free_units(self, offer: SpecialOffer, claimed: list[int]) -> tuple[list[int], int]:
        """Free units per line, and how many units the offer claims (free + qualifying)."""
        members = self._collection_members.get(offer.collection)
        if members is None:
            # cheapest first; on equal prices the earlier cart line first
            members = self._collection_members[offer.collection] = sorted(
                (i for i, line in enumerate(self.lines) if offer.collection in line.collections),
                key=lambda i: self.lines[i].unit_price,
            )
        available = sum(self.lines[i].quantity - claimed[i] for i in members)
        groups = available // (offer.buy_quantity + offer.free_quantity)
        free = [0] * len(self.lines)
        if not groups:
            return free, 0
        to_free = groups * offer.free_quantity
        to_claim = groups * (offer.buy_quantity + offer.free_quantity)
        claim = [0] * len(self.lines)
        for i in members:
            if not to_claim:
                break
            take = min(self.lines[i].quantity - claimed[i], to_claim)
            claim[i] = take
            free[i] = min(take, to_free)
            to_free -= free[i]
            to_claim -= take
        for i, units in enumerate(claim):
            claimed[i] += units
        return free, groups

    def _special_offer(self, config: SpecialOffer) -> _Candidate | Reason:
        free, groups = self._offer_free_units(config, [0] * len(self.lines))
        if not groups:
            return Reason.NOT_ENOUGH_UNITS
        value = sum((line.unit_price * f for line, f in zip(self.lines, free, strict=True)), ZERO)
        return self._candidate(config, free=tuple(free), value=value)

    def _promo_code(self, config: PromoCode) -> _Candidate | Reason:
        today = self.customer.today
        if config.valid_from is not None and today < config.valid_from:
            return Reason.CODE_NOT_YET_VALID
        if config.valid_until is not None and today > config.valid_until:
            return Reason.CODE_EXPIRED
        if config.usage_limit is not None and (
            self.customer.promo_code_uses_total >= config.usage_limit
        ):
            return Reason.CODE_LIMIT_REACHED
        if config.usage_limit_per_customer is not None and (
            self.customer.promo_code_uses_by_customer >= config.usage_limit_per_customer
        ):
            return Reason.CODE_CUSTOMER_LIMIT_REACHED
        if config.minimum_order_value is not None and (
            self.goods_total < config.minimum_order_value
        ):
            return Reason.CODE_MINIMUM_NOT_REACHED
        if config.percent is not None:
            return self._percent_candidate(config, config.percent)
        amount = config.amount
        return self._candidate(config, amount=amount, value=min(amount, self.goods_total))

    def _category(self, config: CategoryDiscount) -> _Candidate | Reason:
        percent = self.customer.category_percent
        if not percent:
            return Reason.NO_CATEGORY_DISCOUNT
        return self._percent_candidate(config, percent)

    def _loyalty_card(self, config: LoyaltyCardDiscount) -> _Candidate | Reason:
        percent = self.customer.loyalty_card_percent
        if not percent:
            return Reason.NO_LOYALTY_CARD
        return self._percent_candidate(config, percent)

    def _segment(self, config: SegmentAdvantage) -> _Candidate | Reason:
        if config.segment_id not in self.customer.segment_ids:
            return Reason.NOT_IN_SEGMENT
        tier = _highest_reached(config.tiers, "min_cart_total", self.goods_total)
        if tier is None:
            return Reason.TIER_NOT_REACHED
        percent_off = tier.percent_off if config.special_discount else ZERO
        rate = percent_off / _HUNDRED if percent_off else None
        amount = (tier.amount_off or None) if config.special_discount else None
        value = (rate or ZERO) * self.goods_total
        shares = None
        if amount is not None:
            shares = _spread(amount, self.base, self.quantum)
            value += min(amount, self.goods_total - value)
        return self._candidate(
            config,
            rate=rate,
            amount=amount,
            shares=shares,
            value=value,
            percent=percent_off or None,
            free_shipping=tier.free_shipping,
            earns_points=config.earns_points,
        )

    _EVALUATORS = {
        DiscountKind.THRESHOLD: _threshold,
        DiscountKind.CUMULATIVE: _cumulative,
        DiscountKind.QUANTITY: _quantity,
        DiscountKind.SPECIAL_OFFER: _special_offer,
        DiscountKind.PROMO_CODE: _promo_code,
        DiscountKind.CATEGORY: _category,
        DiscountKind.LOYALTY_CARD: _loyalty_card,
        DiscountKind.SEGMENT: _segment,
    }

    def _eligibility(self, config: Discount) -> _Candidate | Reason:
        if not config.enabled:
            return Reason.DISABLED
        if config.client_type is not self.customer.client_type:
            return Reason.OTHER_CLIENT_TYPE
        return self._EVALUATORS[config.kind](self, config)

    # --- one kind never adds up ---

    def _one_per_kind(self, candidates: list[_Candidate], rejected: dict[int, Reason]) -> None:
        best: dict[DiscountKind, _Candidate] = {}
        offers = []
        for c in candidates:
            kind = c.config.kind
            if kind is DiscountKind.SPECIAL_OFFER:
                offers.append(c)
                continue
            other = best.get(kind)
            if other is None or self._rank(c) < self._rank(other):
                best[kind] = c
        for c in candidates:
            if c.config.kind is not DiscountKind.SPECIAL_OFFER and best[c.config.kind] is not c:
                rejected[id(c)] = Reason.SAME_TYPE_HIGHER
        claimed = [0] * len(self.lines)
        for c in sorted(offers, key=self._rank):
            free, groups = self._offer_free_units(c.config, claimed)
            if groups:
                c.free = tuple(free)
            else:
                rejected[id(c)] = Reason.SAME_TYPE_HIGHER

    @staticmethod
    def _rank(c: _Candidate) -> tuple:
        return (-c.value, not c.free_shipping, c.sort_key)

    # --- pricing one set of discounts ---

    def _price(self, scenario: _Scenario) -> None:
        n = len(self.lines)
        offers, sums, sequence, second, exclusive = [], [], [], [], []
        for c in scenario.included:
            if c.exclusive:
                exclusive.append(c)
            elif c.free is not None:
                offers.append(c)
            elif c.stage == 2:
                second.append(c)
            elif c.sequential:
                sequence.append(c)
            else:
                sums.append(c)
        for group in (offers, sums, sequence, exclusive):  # listing order never matters
            group.sort(key=_by_position)

        first = [self._first_stage(i, offers, sums, sequence) for i in range(n)]
        shares: dict[int, tuple[Decimal, ...]] = {}
        for c in second + exclusive:
            if c.stage == 2 and c.amount is not None:
                shares[id(c)] = _spread(c.amount, [r[0] for r in first], self.quantum)

        alone = [(c, self._alone(c, shares)) for c in exclusive]
        total = ZERO
        for i, (value, contributions, free_quantity) in enumerate(first):
            for c in second:
                value = self._step(c, i, value, contributions, shares.get(id(c)))
            rejections: list[tuple[_Candidate, Reason]] = []
            if exclusive:
                value, free_quantity, contributions = self._exclusive(
                    i, value, free_quantity, contributions, alone, rejections
                )
            floor = self.unit_floor[i] * (self.lines[i].quantity - free_quantity)
            cut = value < floor
            if cut:
                value = floor
            line_total = value.quantize(self.quantum, ROUND_HALF_UP)
            total += line_total
            scenario.lines.append(
                _LineResult(value, line_total, free_quantity, cut, contributions, rejections)
            )
        scenario.total = total

    def _first_stage(self, i: int, offers, sums, sequence):
        value = self.base[i]
        contributions: list[tuple[_Candidate, Decimal]] = []
        free_quantity = 0
        for c in offers:
            units = c.free[i]
            if units:
                free_quantity += units
                off = self.lines[i].unit_price * units
                contributions.append((c, off))
                value -= off
        if sums:
            parts = []
            total = ZERO
            for c in sums:
                rate = c.rate if c.rates is None else c.rates[i]
                off = value * rate if rate else ZERO
                if c.shares is not None:
                    off += c.shares[i]
                if off:
                    parts.append((c, off))
                    total += off
            if total > value:  # the sum never goes beyond 100%
                scale = value / total
                parts = [(c, off * scale) for c, off in parts]
                total = value
            contributions.extend(parts)
            value -= total
        for c in sequence:
            value = self._step(c, i, value, contributions, c.shares)
        return value, contributions, free_quantity

    @staticmethod
    def _step(c: _Candidate, i: int, value: Decimal, contributions, shares) -> Decimal:
        rate = c.rate if c.rates is None else c.rates[i]
        off = value * rate if rate else ZERO
        if shares is not None:
            off += min(shares[i], value - off)
        if off:
            contributions.append((c, off))
        return value - off

    def _alone(self, c: _Candidate, shares: dict[int, tuple[Decimal, ...]]) -> list[Decimal]:
        """What ``c`` alone takes off each line (exact, before the floor)."""
        if c.alone is not None:
            return c.alone
        if c.free is not None:
            offs = [line.unit_price * f for line, f in zip(self.lines, c.free, strict=True)]
        else:
            rates = c.rates or [c.rate] * len(self.base)
            offs = [
                base * rate if rate else ZERO for base, rate in zip(self.base, rates, strict=True)
            ]
            amount_shares = shares.get(id(c), c.shares)
            if amount_shares is not None:
                offs = [
                    min(off + share, base)
                    for off, share, base in zip(offs, amount_shares, self.base, strict=True)
                ]
        if id(c) not in shares:  # a code's amount shares depend on the rest of the pricing
            c.alone = offs
        return offs

    def _exclusive(self, i, value, free_quantity, contributions, alone, rejections):
        others_off = self.base[i] - value
        best, best_off = None, ZERO
        for c, offs in alone:
            if offs[i] > best_off:
                best, best_off = c, offs[i]
        if best is None or best_off <= others_off:
            rejections.extend((c, Reason.EXCLUSIVE_NOT_HIGHER) for c, offs in alone if offs[i])
            return value, free_quantity, contributions
        rejections.extend((c, Reason.LOST_TO_EXCLUSIVE) for c, _ in contributions)
        rejections.extend(
            (c, Reason.LOST_TO_EXCLUSIVE) for c, offs in alone if offs[i] and c is not best
        )
        free = best.free[i] if best.free is not None else 0
        return self.base[i] - best_off, free, [(best, best_off)]

    # --- choosing between the card, the code and the rest ---

    def _scenarios(self, candidates: list[_Candidate]) -> list[_Scenario]:
        """The ways to price the order; the cheapest wins, the first one on a tie.

        ``plain``: without the code (only needed when the code may lose: not combinable, or a
        segment advantage does not apply with codes); ``coded``: with the code; ``carded``: the
        loyalty card instead of the kinds it never combines with (a combinable code included).
        """
        card = next((c for c in candidates if c.config.kind is DiscountKind.LOYALTY_CARD), None)
        code = next((c for c in candidates if c.config.kind is DiscountKind.PROMO_CODE), None)
        automatic = [c for c in candidates if c is not code]
        not_with_card = [c for c in automatic if c.config.kind in _NOT_WITH_CARD]
        not_with_code = [
            c
            for c in automatic
            if c.config.kind is DiscountKind.SEGMENT and not c.config.applies_with_promo_code
        ]
        combinable_code = code is not None and code.config.combinable
        card_conflict = card is not None and (bool(not_with_card) or combinable_code)
        others = [c for c in automatic if not (card_conflict and c is card)]

        scenarios = []
        if not combinable_code or not_with_code:
            plain = _Scenario(others)
            if card_conflict:
                plain.excluded[id(card)] = Reason.CARD_NOT_BETTER
            if code is not None:
                plain.excluded[id(code)] = Reason.CODE_NOT_BETTER
            scenarios.append(plain)
        if combinable_code:
            coded = _Scenario([c for c in others if c not in not_with_code] + [code])
            coded.excluded.update((id(c), Reason.NOT_WITH_PROMO_CODE) for c in not_with_code)
            if card is not None:
                coded.excluded[id(card)] = Reason.CARD_NOT_BETTER
            scenarios.append(coded)
        elif code is not None:
            alone = _Scenario([code])
            alone.excluded.update((id(c), Reason.CODE_NOT_COMBINABLE) for c in automatic)
            scenarios.append(alone)
        if card_conflict:
            carded = _Scenario([c for c in automatic if c not in not_with_card])
            carded.excluded.update((id(c), Reason.CARD_LARGER) for c in not_with_card)
            if code is not None:
                carded.excluded[id(code)] = Reason.CARD_LARGER
            scenarios.append(carded)
        return scenarios

    # --- the quote ---

    def run(self) -> Quote:
        rejected: dict[int, Reason] = {}
        entries: list[tuple[Discount | None, _Candidate | None]] = []
        candidates: list[_Candidate] = []
        code_found = False
        for config in self.discounts:
            if config.kind is DiscountKind.PROMO_CODE:
                if not self.entered_code or config.code.strip().casefold() != self.entered_code:
                    continue
                code_found = True
            result = self._eligibility(config)
            if isinstance(result, Reason):
                entries.append((config, None))
                rejected[id(config)] = result
            else:
                entries.append((config, result))
                candidates.append(result)

        self._one_per_kind(candidates, rejected)
        candidates = [c for c in candidates if id(c) not in rejected]
        chosen = None
        for scenario in self._scenarios(candidates):
            self._price(scenario)
            if chosen is None or scenario.total < chosen.total:
                chosen = scenario
        rejected.update(chosen.excluded)
        return self._build(chosen, entries, rejected, code_found)

    def _build(self, chosen: _Scenario, entries, rejected, code_found: bool) -> Quote:
        amounts: dict[int, Decimal] = {}
        cut: set[int] = set()
        line_reasons: dict[int, Reason] = {}
        quote_lines = []
        for line, undiscounted, result in zip(
            self.lines, self.undiscounted, chosen.lines, strict=True
        ):
            discount = undiscounted - result.total
            weights = [off for _, off in result.contributions]
            shares = _allocate(discount, weights, self.quantum)
            applied = []
            for (c, _), share in zip(result.contributions, shares, strict=True):
                key = id(c)
                amounts[key] = amounts.get(key, ZERO) + share
                if result.cut:
                    cut.add(key)
                applied.append(
                    AppliedDiscount(c.config.id, c.config.kind, c.config.name, share, result.cut)
                )
            for c, reason in result.rejections:
                line_reasons.setdefault(id(c), reason)
            quote_lines.append(
                QuoteLine(
                    product_id=line.product_id,
                    sku=line.sku,
                    quantity=line.quantity,
                    free_quantity=result.free_quantity,
                    unit_price=line.unit_price,
                    undiscounted_total=undiscounted,
                    discount_amount=discount,
                    line_total=result.total,
                    final_unit_price=(result.total / line.quantity).quantize(
                        self.quantum, ROUND_HALF_UP
                    ),
                    minimum_price_applied=result.cut,
                    discounts=tuple(applied),
                    rejected=tuple(LineRejection(c.config.id, r) for c, r in result.rejections),
                )
            )

        total = chosen.total
        no_amount = ZERO.quantize(self.quantum)
        gifts: tuple[int | str, ...] = ()
        tier_points = 0
        free_shipping = False
        earns_percent_points = True
        breakdown = []
        for config, candidate in entries:
            key = id(candidate) if candidate is not None else id(config)
            reason = rejected.get(key)
            amount = amounts.get(key, no_amount)
            benefit = False
            if reason is None and candidate is not None:
                gifts += candidate.gifts
                tier_points += candidate.bonus_points
                free_shipping = free_shipping or candidate.free_shipping
                earns_percent_points = earns_percent_points and candidate.earns_points
                benefit = bool(candidate.gifts or candidate.bonus_points or candidate.free_shipping)
                if key in cut:
                    reason = Reason.BELOW_MINIMUM_PRICE
                elif not amount and (candidate.value or not benefit):
                    reason = line_reasons.get(key, Reason.NO_EFFECT)
            status = (
                DiscountStatus.APPLIED
                if candidate is not None and key not in rejected and (amount or benefit)
                else DiscountStatus.REJECTED
            )
            breakdown.append(
                BreakdownEntry(
                    discount_id=config.id,
                    kind=config.kind,
                    name=config.name,
                    status=status,
                    amount=amount,
                    reason=reason,
                    percent=candidate.percent if candidate is not None else None,
                )
            )
        if self.entered_code and not code_found:
            breakdown.append(
                BreakdownEntry(
                    discount_id=None,
                    kind=DiscountKind.PROMO_CODE,
                    name=self.cart.promo_code or "",
                    status=DiscountStatus.REJECTED,
                    amount=no_amount,
                    reason=Reason.CODE_UNKNOWN,
                )
            )

        points = tier_points
        bonus_percent = self.customer.bonus_percent
        if bonus_percent and earns_percent_points:
            points += int((total * bonus_percent / _HUNDRED).to_integral_value(ROUND_DOWN))
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
            goods_total=self.goods_total,
            discount_total=self.goods_total - total,
            total=total,
            free_shipping=free_shipping,
            gift_product_ids=gifts,
            points_to_earn=points,
            promo_code=applied_code,
            breakdown=tuple(breakdown),
            points_granted=tier_points,
            earns_percent_points=earns_percent_points,
        )


def quote(cart: Cart, customer: CustomerContext, discounts: Sequence[Discount]) -> Quote:
    """Price ``cart`` for ``customer`` with the shop's ``discounts`` (see the module docstring)."""
    with localcontext() as context:
        context.prec = 34
        return _Quoter(cart, customer, discounts).run()
