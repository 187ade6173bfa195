"""Promo codes: validity, limits, minimum order, amount spreading, their own stacking mode, cap."""

from datetime import date
from decimal import Decimal as D

import pytest

from pricing.engine import (
    AppliedDiscount,
    Cart,
    CategoryDiscount,
    CumulativeDiscount,
    CumulativeTier,
    CustomerContext,
    DiscountKind,
    LoyaltyCardDiscount,
    PromoCode,
    QuantityBasis,
    QuantityDiscount,
    QuantityProfile,
    QuantityTier,
    SegmentAdvantage,
    SegmentTier,
    ThresholdDiscount,
    ThresholdTier,
    quote,
)
from tests.pricing.builders import line

TODAY = date(2025, 6, 1)


def cart(*lines, code="SPRING"):
    return Cart(lines=lines, currency_exponent=2, promo_code=code)


def customer(**fields):
    return CustomerContext(client_type="retail", today=fields.pop("today", TODAY), **fields)


def common(id, stacking="sum", **fields):
    return {"id": id, "name": id, "client_type": "retail", "stacking": stacking, **fields}


def promo(percent=None, amount=None, code="SPRING", stacking="sum", **fields):
    return PromoCode(
        **common(code.lower(), stacking),
        code=code,
        percent=None if percent is None else D(percent),
        amount=None if amount is None else D(amount),
        **fields,
    )


def category(stacking="sum"):
    return CategoryDiscount(**common("category", stacking))


def cumulative(percent):
    return CumulativeDiscount(**common("cumulative"), tiers=(CumulativeTier(D("0"), D(percent)),))


def summary(result):
    return [
        (e.discount_id, e.status.value, e.amount, e.reason.value if e.reason else None)
        for e in result.breakdown
    ]


# --- checks on the code itself ---


@pytest.mark.parametrize(
    ("today", "reason"),
    [
        (date(2025, 5, 31), "code_not_yet_valid"),
        (date(2025, 6, 1), None),  # first valid day
        (date(2025, 6, 30), None),  # last valid day
        (date(2025, 7, 1), "code_expired"),
    ],
)
def test_code_validity_dates_are_inclusive(today, reason):
    code = promo("10", valid_from=date(2025, 6, 1), valid_until=date(2025, 6, 30))

    result = quote(cart(line(1, "100")), customer(today=today), [code])

    expected_total = D("100.00") if reason else D("90.00")
    assert result.total == expected_total
    assert summary(result)[0][3] == reason


@pytest.mark.parametrize(
    ("limits", "uses", "reason"),
    [
        ({"usage_limit": 100}, {"promo_code_uses_total": 99}, None),
        ({"usage_limit": 100}, {"promo_code_uses_total": 100}, "code_limit_reached"),
        ({"usage_limit_per_customer": 1}, {"promo_code_uses_by_customer": 0}, None),
        (
            {"usage_limit_per_customer": 1},
            {"promo_code_uses_by_customer": 1},
            "code_customer_limit_reached",
        ),
        ({}, {"promo_code_uses_total": 10**6, "promo_code_uses_by_customer": 10**3}, None),
    ],
)
def test_code_usage_limits(limits, uses, reason):
    result = quote(cart(line(1, "100")), customer(**uses), [promo("10", **limits)])

    assert summary(result)[0][3] == reason
    assert result.promo_code == (None if reason else "SPRING")


@pytest.mark.parametrize(
    ("price", "reason"), [("100.00", None), ("99.99", "code_minimum_not_reached")]
)
def test_code_minimum_order_value_at_the_boundary(price, reason):
    result = quote(cart(line(1, price)), customer(), [promo("10", minimum_order_value=D("100"))])

    assert summary(result)[0][3] == reason


def test_code_minimum_is_checked_on_goods_before_discounts():
    result = quote(
        cart(line(1, "100")),
        customer(category_percent=D("20")),
        [category(), promo("10", minimum_order_value=D("100"))],
    )

    assert result.total == D("70.00")  # reached on 100 although 80 after the category
    assert result.promo_code == "SPRING"


def test_unknown_code_is_reported_and_other_codes_are_not_listed():
    codes = [promo("10"), promo("20", code="SUMMER")]

    unknown = quote(cart(line(1, "100"), code="WINTER"), customer(), codes)
    entered = quote(cart(line(1, "100"), code="  spring "), customer(), codes)

    assert summary(unknown) == [(None, "rejected", D("0"), "code_unknown")]
    assert unknown.breakdown[0].name == "WINTER"
    assert summary(entered) == [("spring", "applied", D("10.00"), None)]
    assert entered.promo_code == "SPRING"


# --- amount codes ---


def test_amount_code_is_spread_with_the_remainder_on_the_last_line():
    result = quote(
        cart(line(1, "20"), line(2, "20"), line(3, "20")), customer(), [promo(amount="10")]
    )

    assert [ln.discounts for ln in result.lines] == [
        (AppliedDiscount("spring", DiscountKind.PROMO_CODE, "spring", D("3.33")),),
        (AppliedDiscount("spring", DiscountKind.PROMO_CODE, "spring", D("3.33")),),
        (AppliedDiscount("spring", DiscountKind.PROMO_CODE, "spring", D("3.34")),),
    ]
    assert [ln.line_total for ln in result.lines] == [D("16.67"), D("16.67"), D("16.66")]
    assert result.total == D("50.00")


@pytest.mark.parametrize(
    ("code_stacking", "to_pay"),
    [("sequential", [D("40.00"), D("80.00")]), ("sum", [D("35.00"), D("85.00")])],
)
def test_amount_code_is_spread_on_the_values_it_applies_to(code_stacking, to_pay):
    half = QuantityProfile(QuantityBasis.QUANTITY, (QuantityTier(D("1"), D("50")),))
    result = quote(
        cart(line(1, "100", quantity_profile=half), line(2, "100")),
        customer(),
        [QuantityDiscount(**common("quantity")), promo(amount="30", stacking=code_stacking)],
    )

    # sequential: on the reduced values 50 and 100; sum: on the undiscounted 100 and 100
    assert [ln.line_total for ln in result.lines] == to_pay


@pytest.mark.parametrize(("minimum", "to_pay"), [("0", "0.00"), ("30", "30.00")])
def test_amount_code_larger_than_the_order_stops_at_zero_or_the_floor(minimum, to_pay):
    result = quote(cart(line(1, "100", minimum=minimum)), customer(), [promo(amount="500")])

    assert result.total == D(to_pay)
    assert result.discount_total == D("100.00") - D(to_pay)


# --- stacking with the other discounts ---


def sale(percent="50", stacking="sum"):
    return ThresholdDiscount(
        **common("sale", stacking), tiers=(ThresholdTier(D("0"), D(percent)),)
    )


def test_half_price_sale_plus_sequential_half_price_code_pays_a_quarter():
    discounts = [sale(stacking="sequential"), promo("50", stacking="sequential")]

    result = quote(cart(line(1, "100")), customer(), discounts)

    assert result.total == D("25.00")
    assert summary(result) == [
        ("sale", "applied", D("50.00"), None),
        ("spring", "applied", D("25.00"), None),
    ]


@pytest.mark.parametrize(
    ("minimum", "cap", "to_pay", "code_entry"),
    [
        ("0", {}, "0.00", ("spring", "applied", D("50.00"), None)),  # what was configured
        ("30", {}, "30.00", ("spring", "applied", D("35.00"), "below_minimum_price")),
        (
            "0",
            {"max_discount_percent": D("60")},
            "40.00",
            ("spring", "applied", D("10.00"), "code_maximum_discount"),
        ),
        (
            "0",
            {"max_discount_amount": D("50")},
            "50.00",
            ("spring", "rejected", D("0"), "code_not_better"),
        ),
    ],
)
def test_half_price_sale_plus_half_price_code_in_sum_is_held_by_minimum_price_and_cap(
    minimum, cap, to_pay, code_entry
):
    result = quote(
        cart(line(1, "100", minimum=minimum)), customer(), [sale(), promo("50", **cap)]
    )

    assert result.total == D(to_pay)
    assert summary(result)[1] == code_entry


def test_code_cap_limits_the_code_alone():
    result = quote(
        cart(line(1, "300"), line(2, "100")),
        customer(),
        [promo("10", max_discount_amount=D("25"))],
    )

    assert result.total == D("375.00")  # 10% would be 40: "10% up to 25"
    assert [ln.discount_amount for ln in result.lines] == [D("18.75"), D("6.25")]
    assert summary(result) == [("spring", "applied", D("25.00"), "code_maximum_discount")]
    assert result.promo_code == "SPRING"


def test_code_cap_in_percent_counts_every_discount_on_the_order():
    result = quote(
        cart(line(1, "200")),
        customer(category_percent=D("20")),
        [category(), promo("20", max_discount_percent=D("30"))],
    )

    assert result.total == D("140.00")  # 40% asked, 30% of 200 = 60 allowed: the code gives 20
    assert summary(result) == [
        ("category", "applied", D("40.00"), None),
        ("spring", "applied", D("20.00"), "code_maximum_discount"),
    ]


def test_code_cap_already_used_up_by_the_other_discounts_gives_nothing():
    result = quote(
        cart(line(1, "100")),
        customer(category_percent=D("30")),
        [category(), promo("10", max_discount_percent=D("25"))],
    )

    assert (result.total, result.promo_code) == (D("70.00"), None)
    assert summary(result)[1] == ("spring", "rejected", D("0"), "code_not_better")


def test_exclusive_code_is_compared_with_the_automatic_discounts():
    discounts = [category(), promo("50", stacking="exclusive_if_higher")]

    tie = quote(cart(line(1, "100")), customer(category_percent=D("50")), discounts)
    wins = quote(cart(line(1, "100")), customer(category_percent=D("40")), discounts)

    assert (tie.total, tie.promo_code) == (D("50.00"), None)
    assert summary(tie)[1] == ("spring", "rejected", D("0"), "exclusive_not_higher")
    assert (wins.total, wins.promo_code) == (D("50.00"), "SPRING")
    assert summary(wins)[0] == ("category", "rejected", D("0"), "lost_to_exclusive")


def test_not_combinable_code_applies_alone_when_it_gives_more():
    discounts = [category(), cumulative("5"), promo("20", combinable=False)]

    result = quote(cart(line(1, "100")), customer(category_percent=D("10")), discounts)

    assert (result.total, result.promo_code) == (D("80.00"), "SPRING")
    assert summary(result) == [
        ("category", "rejected", D("0"), "code_not_combinable"),
        ("cumulative", "rejected", D("0"), "code_not_combinable"),
        ("spring", "applied", D("20.00"), None),
    ]


def test_not_combinable_code_giving_less_is_left_out():
    discounts = [category(), cumulative("5"), promo("15", combinable=False)]

    result = quote(cart(line(1, "100")), customer(category_percent=D("10")), discounts)

    assert (result.total, result.promo_code) == (D("85.00"), None)
    assert summary(result)[2] == ("spring", "rejected", D("0"), "code_not_better")
    assert result.breakdown[2].message == "The order costs no more without this promo code."


@pytest.mark.parametrize(
    ("code_percent", "to_pay", "segment_reason", "code_reason"),
    [("15", "85.00", "not_with_promo_code", None), ("5", "90.00", None, "code_not_better")],
)
def test_segment_advantage_not_with_promo_code(code_percent, to_pay, segment_reason, code_reason):
    advantage = SegmentAdvantage(
        **common("segment"),
        segment_id=7,
        tiers=(SegmentTier(D("0"), percent_off=D("10"), free_shipping=True),),
        applies_with_promo_code=False,
    )

    member = customer(segment_ids={7})

    result = quote(cart(line(1, "100")), member, [advantage, promo(code_percent)])

    assert result.total == D(to_pay)
    assert [entry[3] for entry in summary(result)] == [segment_reason, code_reason]
    assert result.free_shipping is (segment_reason is None)


@pytest.mark.parametrize(
    ("card_percent", "to_pay", "reasons"),
    [("20", "80.00", [None, "card_larger"]), ("5", "90.00", ["card_not_better", None])],
)
def test_loyalty_card_never_combines_with_a_code(card_percent, to_pay, reasons):
    card = LoyaltyCardDiscount(**common("card"))

    result = quote(
        cart(line(1, "100")), customer(loyalty_card_percent=D(card_percent)), [card, promo("10")]
    )

    assert result.total == D(to_pay)
    assert [entry[3] for entry in summary(result)] == reasons
