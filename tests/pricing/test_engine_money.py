"""Rounding at the one documented point, the minimum price floor on every path, bad input."""

from datetime import date
from decimal import Decimal as D

import pytest

from pricing.engine import (
    Cart,
    CartLine,
    CategoryDiscount,
    CumulativeDiscount,
    CumulativeTier,
    CustomerContext,
    LoyaltyCardDiscount,
    PricingInputError,
    PromoCode,
    QuantityBasis,
    QuantityDiscount,
    QuantityProfile,
    QuantityTier,
    SegmentAdvantage,
    SegmentTier,
    SpecialOffer,
    ThresholdTier,
    quote,
)
from tests.pricing.builders import line


def customer(**fields):
    return CustomerContext(
        client_type="retail",
        today=date(2025, 6, 1),
        category_percent=D("50"),
        loyalty_card_percent=D("50"),
        segment_ids={7},
        **fields,
    )


def common(id, stacking="sum"):
    return {"id": id, "name": id, "client_type": "retail", "stacking": stacking}


def cumulative(percent, stacking="sum"):
    return CumulativeDiscount(
        **common("cumulative", stacking), tiers=(CumulativeTier(D("0"), D(percent)),)
    )


# --- rounding: once, half up, on each line total ---


def test_line_total_is_rounded_half_up_once():
    result = quote(Cart(lines=(line(1, "33.335", 3),), currency_exponent=2), customer(), [])

    only = result.lines[0]
    # 100.005 -> 100.01: not 100.02 (rounding each unit first), not 100.00 (half even)
    assert (only.undiscounted_total, only.line_total, only.final_unit_price) == (
        D("100.01"),
        D("100.01"),
        D("33.34"),
    )


def test_discounted_line_is_rounded_half_up():
    result = quote(
        Cart(lines=(line(1, "0.25"),), currency_exponent=2), customer(), [cumulative("10")]
    )

    assert result.total == D("0.23")  # 0.225, half up (half even would give 0.22)
    assert result.breakdown[0].amount == D("0.02")


def test_currency_without_minor_unit():
    lines = (line(1, "999"), line(2, "1000"), line(3, "1000"), line(4, "1000"))
    code = PromoCode(**common("code"), code="YEN", amount=D("100"))

    result = quote(
        Cart(lines=lines, currency_exponent=0, promo_code="YEN"),
        customer(),
        [cumulative("5"), code],
    )

    # 999 x 0.95 = 949.05 -> 949; the 100 yen are spread 24 / 25 / 25 / 26
    assert [ln.line_total for ln in result.lines] == [D("925"), D("925"), D("925"), D("924")]
    assert result.total == D("3699")


# --- the minimum price floor on every path ---

HALF_OFF = SegmentTier(D("0"), percent_off=D("50"))
PROFILE = QuantityProfile(QuantityBasis.QUANTITY, (QuantityTier(D("1"), D("50")),))


@pytest.mark.parametrize(
    "discounts",
    [
        pytest.param([cumulative("30"), CategoryDiscount(**common("category"))], id="sum"),
        pytest.param(
            [cumulative("30", "sequential"), CategoryDiscount(**common("category", "sequential"))],
            id="sequential",
        ),
        pytest.param([CategoryDiscount(**common("category", "exclusive_if_higher"))], id="excl"),
        pytest.param([LoyaltyCardDiscount(**common("card"))], id="card"),
        pytest.param([QuantityDiscount(**common("quantity"))], id="quantity"),
        pytest.param([PromoCode(**common("code"), code="C", percent=D("50"))], id="code_percent"),
        pytest.param([PromoCode(**common("code"), code="C", amount=D("60"))], id="code_amount"),
        pytest.param(
            [SegmentAdvantage(**common("segment"), segment_id=7, tiers=(HALF_OFF,))],
            id="segment_percent",
        ),
        pytest.param(
            [
                SegmentAdvantage(
                    **common("segment"),
                    segment_id=7,
                    tiers=(SegmentTier(D("0"), amount_off=D("60")),),
                )
            ],
            id="segment_amount",
        ),
    ],
)
def test_minimum_price_holds_on_every_path(discounts):
    cart = Cart(
        lines=(line(1, "100", 2, minimum="90", quantity_profile=PROFILE),),
        currency_exponent=2,
        promo_code="C" if isinstance(discounts[0], PromoCode) else None,
    )

    result = quote(cart, customer(), discounts)

    assert result.total == D("180.00")
    assert result.lines[0].minimum_price_applied is True
    assert sum(entry.amount for entry in result.breakdown) == D("20.00")
    assert {entry.reason.value for entry in result.breakdown} == {"below_minimum_price"}


def test_offer_units_are_free_but_paid_units_keep_the_floor():
    shirts = line(1, "100", 4, minimum="90", collections={"T"})
    offer = SpecialOffer(**common("offer"), collection="T", buy_quantity=3, free_quantity=1)

    result = quote(
        Cart(lines=(shirts,), currency_exponent=2),
        customer(),
        [offer, CategoryDiscount(**common("category"))],
    )

    assert (result.lines[0].free_quantity, result.total) == (1, D("270.00"))


def test_minimum_price_above_the_unit_price_never_raises_it():
    result = quote(
        Cart(lines=(line(1, "50", minimum="60"),), currency_exponent=2),
        customer(),
        [CategoryDiscount(**common("category"))],
    )

    assert result.total == D("50.00")
    assert (result.breakdown[0].status.value, result.breakdown[0].reason.value) == (
        "rejected",
        "below_minimum_price",
    )


# --- invalid input is refused, never priced ---


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(
            lambda: CartLine(product_id=1, sku="S", name="N", quantity=1, unit_price=9.99),
            id="float",
        ),
        pytest.param(lambda: line(1, "10", 0), id="zero_quantity"),
        pytest.param(lambda: line(1, "10", True), id="bool_quantity"),
        pytest.param(lambda: line(1, "10", minimum="-1"), id="negative_minimum"),
        pytest.param(lambda: line(1, "NaN"), id="nan_price"),
        pytest.param(lambda: cumulative("100.01"), id="percent_over_100"),
        pytest.param(lambda: ThresholdTier(D("1"), D("-5")), id="negative_percent"),
        pytest.param(
            lambda: PromoCode(**common("c"), code="C", percent=D("5"), amount=D("5")),
            id="percent_and_amount",
        ),
        pytest.param(lambda: PromoCode(**common("c"), code="C"), id="neither"),
        pytest.param(lambda: Cart(lines=(), currency_exponent=-1), id="exponent"),
        pytest.param(lambda: CategoryDiscount(**common("c", "both")), id="stacking_mode"),
    ],
)
def test_invalid_input_is_refused(build):
    with pytest.raises(ValueError):  # PricingInputError is a ValueError, so are bad enum values
        build()


def test_pricing_input_error_names_the_field():
    with pytest.raises(PricingInputError, match="CartLine.unit_price"):
        line(1, "-0.01")


def test_empty_cart_costs_nothing():
    result = quote(Cart(lines=(), currency_exponent=2), customer(), [cumulative("10")])

    assert (result.goods_total, result.total, result.discount_total) == (D("0"), D("0"), D("0"))
