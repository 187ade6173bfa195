"""Stage 1, inputs and validation: the frozen dataclasses callers fill, and the cart's facts.

Contract: every input is checked when it is built (``PricingInputError`` for a float, a
negative amount, a percent outside 0..100, a count below its minimum), so the later stages
never check types. Money is ``decimal.Decimal``, percents Decimals in 0..100.
``Cart.currency_exponent`` is the currency's minor-unit exponent (2 for PLN/EUR/UAH, 0 for
JPY). ``Facts`` holds what every stage reads of one cart: exact line values, the rounded
undiscounted line totals, ``goods_total`` (their sum, before any discount, shipping
excluded) and each paid unit's floor ``min(minimum_price, unit_price)``. Stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import ClassVar

ZERO = Decimal(0)
HUNDRED = Decimal(100)


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
    CODE_MAXIMUM_DISCOUNT = "code_maximum_discount"
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
    Reason.CODE_MAXIMUM_DISCOUNT: "Cut by this promo code's maximum discount on the order.",
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
    if value > HUNDRED:  # type: ignore[operator]
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
    #: The most an order using the code may have off in total (every discount, the code
    #: included): a percent of the goods value and/or an amount; only the code gives less.
    max_discount_percent: Decimal | None = None
    max_discount_amount: Decimal | None = None
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
        if self.max_discount_percent is not None:
            _check_percent(self.max_discount_percent, "PromoCode.max_discount_percent")
        if self.max_discount_amount is not None:
            _check_money(self.max_discount_amount, "PromoCode.max_discount_amount")
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
NOT_WITH_CARD = frozenset(
    {
        DiscountKind.THRESHOLD,
        DiscountKind.CUMULATIVE,
        DiscountKind.QUANTITY,
        DiscountKind.SPECIAL_OFFER,
        DiscountKind.PROMO_CODE,
    }
)


@dataclass(frozen=True, slots=True, eq=False)
class Facts:
    """What every stage reads of one cart (exact values, rounded undiscounted totals)."""

    cart: Cart
    customer: CustomerContext
    lines: tuple[CartLine, ...]
    quantum: Decimal
    base: tuple[Decimal, ...]  # exact quantity x unit price
    undiscounted: tuple[Decimal, ...]  # base rounded half up: the one rounding point
    goods_total: Decimal
    unit_floor: tuple[Decimal, ...]  # min(minimum price, unit price) per paid unit
    entered_code: str  # strip().casefold(), "" for none

    @classmethod
    def of(cls, cart: Cart, customer: CustomerContext) -> Facts:
        quantum = Decimal(1).scaleb(-cart.currency_exponent)
        base = tuple(line.unit_price * line.quantity for line in cart.lines)
        undiscounted = tuple(v.quantize(quantum, ROUND_HALF_UP) for v in base)
        return cls(
            cart=cart,
            customer=customer,
            lines=cart.lines,
            quantum=quantum,
            base=base,
            undiscounted=undiscounted,
            goods_total=sum(undiscounted, ZERO),
            unit_floor=tuple(min(ln.minimum_price, ln.unit_price) for ln in cart.lines),
            entered_code=(cart.promo_code or "").strip().casefold(),
        )
