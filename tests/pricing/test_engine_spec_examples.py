"""SPEC section 3 worked examples E5, E6, E8, E9, E10, E13 and E14, priced by the pure engine."""

from datetime import date
from decimal import Decimal as D

import pytest

from pricing.engine import (
    Cart,
    CartLine,
    CumulativeDiscount,
    CumulativeTier,
    CustomerContext,
    DiscountStatus,
    PromoCode,
    Reason,
    SpecialOffer,
    ThresholdDiscount,
    ThresholdTier,
    quote,
)

RETAIL = CustomerContext(client_type="retail", today=date(2025, 6, 1))


def cart_of(price: str, quantity: int = 1, minimum: str = "0", **line) -> Cart:
    return Cart(
        lines=(
            CartLine(
                product_id=1,
                sku="SKU-1",
                name="Product",
                quantity=quantity,
                unit_price=D(price),
                minimum_price=D(minimum),
                **line,
            ),
        ),
        currency_exponent=2,
    )


def threshold(*tiers: tuple[str, str], stacking: str = "sum") -> ThresholdDiscount:
    return ThresholdDiscount(
        id="threshold",
        name="Order value",
        client_type="retail",
        stacking=stacking,
        position=2,
        tiers=tuple(ThresholdTier(D(minimum), D(percent)) for minimum, percent in tiers),
    )


def cumulative(percent: str, stacking: str = "sum") -> CumulativeDiscount:
    return CumulativeDiscount(
        id="cumulative",
        name="Lifetime spend",
        client_type="retail",
        stacking=stacking,
        position=1,
        tiers=(CumulativeTier(D("0"), D(percent)),),
    )


@pytest.mark.parametrize(("order", "to_pay"), [("600", "570.00"), ("400", "400.00")])
def test_e5_threshold_discount(order, to_pay):
    result = quote(cart_of(order), RETAIL, [threshold(("500", "5"))])

    assert result.total == D(to_pay)
    entry = result.breakdown[0]
    if order == "600":
        assert (entry.status, entry.amount, entry.reason) == (
            DiscountStatus.APPLIED,
            D("30.00"),
            None,
        )
    else:
        assert (entry.status, entry.reason) == (DiscountStatus.REJECTED, Reason.TIER_NOT_REACHED)


def test_e6_highest_threshold_tier_only():
    result = quote(cart_of("250"), RETAIL, [threshold(("100", "5"), ("200", "10"))])

    assert result.total == D("225.00")  # 10%, not 15%
    assert result.discount_total == D("25.00")
    assert result.breakdown[0].percent == D("10")


@pytest.mark.parametrize(("shirts", "to_pay"), [(4, "150.00"), (3, "150.00"), (8, "300.00")])
def test_e8_buy_three_get_one_free(shirts, to_pay):
    offer = SpecialOffer(
        id="tshirts",
        name="Buy 3 T-shirts, get 1 free",
        client_type="retail",
        collection="t-shirts",
        buy_quantity=3,
        free_quantity=1,
    )
    cart = cart_of("50", shirts, collections=frozenset({"t-shirts"}))

    result = quote(cart, RETAIL, [offer])

    assert result.total == D(to_pay)
    assert result.lines[0].free_quantity == shirts // 4


@pytest.mark.parametrize(
    ("cumulative_mode", "threshold_mode", "to_pay"),
    [
        ("sum", "sum", "850.00"),
        ("sequential", "sequential", "855.00"),
        ("sum", "exclusive_if_higher", "900.00"),
    ],
)
def test_e9_sum_sequential_exclusive(cumulative_mode, threshold_mode, to_pay):
    discounts = [cumulative("10", cumulative_mode), threshold(("0", "5"), stacking=threshold_mode)]

    result = quote(cart_of("1000"), RETAIL, discounts)

    assert result.total == D(to_pay)


def test_e9_exclusive_threshold_is_rejected_with_reason():
    discounts = [cumulative("10", "sum"), threshold(("0", "5"), stacking="exclusive_if_higher")]

    result = quote(cart_of("1000"), RETAIL, discounts)

    cumulative_entry, threshold_entry = result.breakdown
    assert (cumulative_entry.status, cumulative_entry.amount) == (DiscountStatus.APPLIED, D("100"))
    assert (threshold_entry.status, threshold_entry.reason) == (
        DiscountStatus.REJECTED,
        Reason.EXCLUSIVE_NOT_HIGHER,
    )


def test_e10_minimum_price_floor():
    discounts = [cumulative("10"), threshold(("0", "10"))]  # totalling 20%

    result = quote(cart_of("100", minimum="90"), RETAIL, discounts)

    line = result.lines[0]
    assert (line.line_total, line.final_unit_price, line.minimum_price_applied) == (
        D("90.00"),
        D("90.00"),
        True,
    )
    assert [(e.status, e.amount, e.reason) for e in result.breakdown] == [
        (DiscountStatus.APPLIED, D("5.00"), Reason.BELOW_MINIMUM_PRICE),
        (DiscountStatus.APPLIED, D("5.00"), Reason.BELOW_MINIMUM_PRICE),
    ]
    assert result.breakdown[0].message == "Cut by the product's minimum price."


def test_e13_exclusive_compares_with_the_sum_of_all_others_its_own_type_included():
    t1 = ThresholdDiscount(
        id="t1", name="T1", client_type="retail", tiers=(ThresholdTier(D("0"), D("10")),)
    )
    t2 = ThresholdDiscount(
        id="t2",
        name="T2",
        client_type="retail",
        stacking="exclusive_if_higher",
        tiers=(ThresholdTier(D("0"), D("12")),),
    )

    with_t2 = quote(cart_of("100"), RETAIL, [t1, t2, cumulative("5")])
    without_t2 = quote(cart_of("100"), RETAIL, [t1, cumulative("5")])

    assert with_t2.total == D("85.00")  # 12 < 10 + 5
    assert without_t2.total == D("85.00")  # adding T2 never makes the customer pay more
    assert [(e.discount_id, e.status, e.amount, e.reason) for e in with_t2.breakdown] == [
        ("t1", DiscountStatus.APPLIED, D("10.00"), None),
        ("t2", DiscountStatus.REJECTED, D("0.00"), Reason.EXCLUSIVE_NOT_HIGHER),
        ("cumulative", DiscountStatus.APPLIED, D("5.00"), None),
    ]


def test_e13_a_discount_that_applies_nowhere_grants_no_gift_and_no_points():
    threshold_with_gift = ThresholdDiscount(
        id="threshold",
        name="Order value",
        client_type="retail",
        tiers=(ThresholdTier(D("0"), D("5"), bonus_points=50, gift_product_ids=(77,)),),
    )

    result = quote(
        cart_of("100"), RETAIL, [threshold_with_gift, cumulative("30", "exclusive_if_higher")]
    )

    assert result.total == D("70.00")
    assert (result.gift_product_ids, result.points_granted, result.points_to_earn) == ((), 0, 0)
    threshold_entry, cumulative_entry = result.breakdown
    assert (threshold_entry.status, threshold_entry.reason) == (
        DiscountStatus.REJECTED,
        Reason.LOST_TO_EXCLUSIVE,
    )
    assert threshold_entry.message == "A discount that applies alone gives more on this product."
    assert (cumulative_entry.status, cumulative_entry.amount) == (DiscountStatus.APPLIED, D("30"))


@pytest.mark.parametrize(("mode", "to_pay"), [("sum", "80.00"), ("sequential", "81.00")])
def test_e14_promo_code_follows_its_own_stacking_mode(mode, to_pay):
    code = PromoCode(
        id="code",
        name="TEN",
        client_type="retail",
        stacking=mode,
        position=3,  # after the threshold (position 2) in the sequential chain
        code="TEN",
        percent=D("10"),
    )
    cart = Cart(lines=cart_of("100").lines, currency_exponent=2, promo_code="TEN")

    result = quote(cart, RETAIL, [threshold(("0", "10"), stacking=mode), code])

    assert result.total == D(to_pay)
    assert [(e.discount_id, e.amount) for e in result.breakdown] == [
        ("threshold", D("10.00")),
        ("code", D("10.00" if mode == "sum" else "9.00")),
    ]
    assert result.promo_code == "TEN"
