"""Stacking modes, the loyalty card rule, one discount per kind, offers, segments, points."""

from datetime import date
from decimal import Decimal as D

import pytest

from pricing.engine import (
    REASON_MESSAGES,
    AppliedDiscount,
    Cart,
    CategoryDiscount,
    CumulativeDiscount,
    CumulativeTier,
    CustomerContext,
    DiscountKind,
    LineRejection,
    LoyaltyCardDiscount,
    QuantityBasis,
    QuantityDiscount,
    QuantityProfile,
    QuantityTier,
    Reason,
    SegmentAdvantage,
    SegmentTier,
    SpecialOffer,
    ThresholdDiscount,
    ThresholdTier,
    quote,
)
from tests.pricing.builders import line


def cart(*lines):
    return Cart(lines=lines, currency_exponent=2)


def customer(**fields):
    return CustomerContext(client_type="retail", today=date(2025, 6, 1), **fields)


def common(id, stacking, position, **fields):
    return {
        "id": id,
        "name": id,
        "client_type": "retail",
        "stacking": stacking,
        "position": position,
        **fields,
    }


def category(stacking="sum", position=0, **fields):
    return CategoryDiscount(**common("category", stacking, position, **fields))


def card(stacking="sum", position=0):
    return LoyaltyCardDiscount(**common("card", stacking, position))


def cumulative(percent, stacking="sum", position=0, minimum="0", id="cumulative"):
    tiers = (CumulativeTier(D(minimum), D(percent)),)
    return CumulativeDiscount(**common(id, stacking, position), tiers=tiers)


def threshold(percent, minimum="0", stacking="sum", position=0, id="threshold", **tier):
    tiers = (ThresholdTier(D(minimum), D(percent), **tier),)
    return ThresholdDiscount(**common(id, stacking, position), tiers=tiers)


def offer(buy, free, collection="T", stacking="sum", id="offer", position=0):
    return SpecialOffer(
        **common(id, stacking, position), collection=collection, buy_quantity=buy,
        free_quantity=free,
    )


def segment(*tiers, stacking="sum", position=0, **fields):
    return SegmentAdvantage(
        **common("segment", stacking, position, segment_id=7, **fields), tiers=tiers
    )


def summary(result):
    return [
        (e.discount_id, e.status.value, e.amount, e.reason.value if e.reason else None)
        for e in result.breakdown
    ]


# --- sum, sequential and their mixture ---


def test_sum_percents_add_up_on_every_line():
    result = quote(
        cart(line(1, "100"), line(2, "40.00", 3)),
        customer(category_percent=D("10")),
        [cumulative("5"), category()],
    )

    assert [ln.line_total for ln in result.lines] == [D("85.00"), D("102.00")]
    assert summary(result) == [
        ("cumulative", "applied", D("11.00"), None),
        ("category", "applied", D("22.00"), None),
    ]


def test_sum_group_applies_first_then_sequential_in_position_order():
    result = quote(
        cart(line(1, "1000")),
        customer(category_percent=D("10")),
        [threshold("10", stacking="sequential"), cumulative("10"), category()],
    )

    assert result.total == D("720.00")  # 1000 x (1 - 0.1 - 0.1) x (1 - 0.1)
    assert summary(result) == [
        ("threshold", "applied", D("80.00"), None),
        ("cumulative", "applied", D("100.00"), None),
        ("category", "applied", D("100.00"), None),
    ]


def test_sequential_order_is_position_not_listing_order():
    amount_off = SegmentTier(D("0"), amount_off=D("10"))
    shopper = customer(category_percent=D("10"), segment_ids={7})
    amount_first = [category("sequential", 2), segment(amount_off, stacking="sequential")]
    percent_first = [
        segment(amount_off, stacking="sequential", position=3),
        category("sequential", 2),
    ]

    assert quote(cart(line(1, "100")), shopper, amount_first).total == D("81.00")
    assert quote(cart(line(1, "100")), shopper, amount_first[::-1]).total == D("81.00")
    assert quote(cart(line(1, "100")), shopper, percent_first).total == D("80.00")


def test_sum_never_goes_beyond_one_hundred_percent():
    result = quote(
        cart(line(1, "100")), customer(category_percent=D("60")), [cumulative("60"), category()]
    )

    assert (result.total, result.discount_total) == (D("0.00"), D("100.00"))
    assert [e.amount for e in result.breakdown] == [D("50.00"), D("50.00")]


def test_a_discount_taking_less_than_a_cent_exactly_is_applied():
    # The minimal cart for what the property test found: 2% of 0.48 is 0.0096, under a
    # cent, but with the threshold's 0.24 it brings 0.48 to 0.2304, i.e. 0.23 instead of
    # 0.24. Its truncated share of the line's 0.25 is 0.00 (the remainder goes to the last
    # discount), so it used to be listed as rejected (no_effect) while removing it raised
    # the total. A discount that took something off exactly is applied, even at 0.00.
    discounts = [cumulative("2"), threshold("50")]

    result = quote(cart(line(1, "0.48")), customer(), discounts)
    without = quote(cart(line(1, "0.48")), customer(), discounts[1:])

    assert (result.total, without.total) == (D("0.23"), D("0.24"))
    assert summary(result) == [
        ("cumulative", "applied", D("0.00"), None),
        ("threshold", "applied", D("0.25"), None),
    ]
    assert [(d.discount_id, d.amount) for d in result.lines[0].discounts] == [
        ("cumulative", D("0.00")),
        ("threshold", D("0.25")),
    ]


def test_a_discount_taking_less_than_a_cent_that_changes_no_price_has_no_effect():
    # 0.1% of 1.00 leaves 0.499 with the threshold: 0.50 with or without it
    discounts = [cumulative("0.1"), threshold("50")]

    result = quote(cart(line(1, "1")), customer(), discounts)

    assert result.total == quote(cart(line(1, "1")), customer(), discounts[1:]).total
    assert summary(result) == [
        ("cumulative", "rejected", D("0.00"), "no_effect"),
        ("threshold", "applied", D("0.50"), None),
    ]


@pytest.mark.xfail(
    strict=True,
    reason="known: a sub-cent discount moves a later sequential amount's spread to other lines",
)
def test_a_discount_moving_a_sequential_amount_between_lines_is_not_rejected():
    # Found by test_removing_a_rejected_discount_never_changes_the_quote (before and after
    # the sub-cent fix). 1% of 0.10 is 0.001 and the floor takes it back (0.09), so the
    # quantity discount is rejected (below_minimum_price); but the sequential 0.85 is
    # spread over the values as they enter its step, so the 0.001 moved a cent of it to
    # the 2.08 line: 7.57 with it, 7.58 without. The per-line check cannot see it.
    profile = QuantityProfile(QuantityBasis.QUANTITY, (QuantityTier(D("0"), D("1")),))
    lines = (line(1, "2.08", 4), line(2, "0.10", minimum="0.09", quantity_profile=profile))
    member = customer(segment_ids={7})
    amount = segment(SegmentTier(D("0"), amount_off=D("0.85")), stacking="sequential")

    result = quote(cart(*lines), member, [QuantityDiscount(**common("quantity", "sum", 0)), amount])
    without = quote(cart(*lines), member, [amount])

    # either it is applied, or the order costs the same without it
    assert summary(result)[0][1] == "applied" or result.total == without.total


# --- exclusive_if_higher, per product line ---


def test_exclusive_wins_on_one_line_and_loses_on_another():
    profile = QuantityProfile(QuantityBasis.QUANTITY, (QuantityTier(D("1"), D("20")),))
    result = quote(
        cart(line(1, "100", quantity_profile=profile), line(2, "100")),
        customer(category_percent=D("10")),
        [QuantityDiscount(**common("quantity", "sum", 0)), category("exclusive_if_higher")],
    )

    first, second = result.lines
    assert (first.line_total, second.line_total) == (D("80.00"), D("90.00"))
    assert first.discounts == (
        AppliedDiscount("quantity", DiscountKind.QUANTITY, "quantity", D("20.00")),
    )
    assert first.rejected == (LineRejection("category", Reason.EXCLUSIVE_NOT_HIGHER),)
    assert second.discounts == (
        AppliedDiscount("category", DiscountKind.CATEGORY, "category", D("10.00")),
    )
    assert second.rejected == ()
    assert summary(result) == [
        ("quantity", "applied", D("20.00"), None),
        ("category", "applied", D("10.00"), None),
    ]


def test_exclusive_that_beats_the_others_applies_alone():
    result = quote(
        cart(line(1, "100")),
        customer(category_percent=D("15")),
        [cumulative("5"), threshold("5", stacking="sequential"), category("exclusive_if_higher")],
    )

    assert result.total == D("85.00")
    assert summary(result) == [
        ("cumulative", "rejected", D("0"), "lost_to_exclusive"),
        ("threshold", "rejected", D("0"), "lost_to_exclusive"),
        ("category", "applied", D("15.00"), None),
    ]


def test_largest_of_several_exclusives_applies_alone():
    result = quote(
        cart(line(1, "100")),
        customer(category_percent=D("15")),
        [
            category("exclusive_if_higher"),
            cumulative("20", "exclusive_if_higher"),
            threshold("5"),
        ],
    )

    assert result.total == D("80.00")
    assert summary(result) == [
        ("category", "rejected", D("0"), "lost_to_exclusive"),
        ("cumulative", "applied", D("20.00"), None),
        ("threshold", "rejected", D("0"), "lost_to_exclusive"),
    ]


def test_exclusive_equal_to_the_others_does_not_apply():
    result = quote(
        cart(line(1, "100")),
        customer(category_percent=D("10")),
        [category("exclusive_if_higher"), cumulative("10")],
    )

    assert result.total == D("90.00")
    assert summary(result)[0] == ("category", "rejected", D("0"), "exclusive_not_higher")


def test_exclusive_taking_less_than_a_cent_off_does_not_push_out_free_shipping():
    # The minimal cart the property test found: 1% of 0.01 leaves 0.0099, lower than the
    # segment's 0.01 but the same price once rounded. Winning the line there took nothing
    # off and rejected the segment, so the customer lost free shipping to a rejected discount.
    result = quote(
        cart(line(1, "0.01")),
        customer(category_percent=D("1"), segment_ids={7}),
        [segment(SegmentTier(D("0"), free_shipping=True)), category("exclusive_if_higher")],
    )

    assert (result.total, result.free_shipping) == (D("0.01"), True)
    assert summary(result) == [
        ("segment", "applied", D("0"), None),
        ("category", "rejected", D("0"), "exclusive_not_higher"),
    ]
    assert result.lines[0].rejected == (LineRejection("category", Reason.EXCLUSIVE_NOT_HIGHER),)


def test_exclusive_equal_to_the_others_once_rounded_keeps_the_others_and_their_gift():
    # 10.4% alone leaves 0.896, the threshold's 10% leaves 0.90: the same price to the cent,
    # so the tie keeps the threshold, its gift and its points.
    result = quote(
        cart(line(1, "1")),
        customer(category_percent=D("10.4")),
        [threshold("10", gift_product_ids=(5,), bonus_points=10), category("exclusive_if_higher")],
    )

    assert result.total == D("0.90")
    assert (result.gift_product_ids, result.points_granted) == ((5,), 10)
    assert summary(result) == [
        ("threshold", "applied", D("0.10"), None),
        ("category", "rejected", D("0"), "exclusive_not_higher"),
    ]


def test_lone_exclusive_applies():
    result = quote(
        cart(line(1, "100")), customer(category_percent=D("10")), [category("exclusive_if_higher")]
    )

    assert result.total == D("90.00")


# --- loyalty card: never with types 1-5, the larger side wins ---


def card_vs_others(card_percent):
    return quote(
        cart(line(1, "1000")),
        customer(category_percent=D("5"), loyalty_card_percent=D(card_percent)),
        [
            threshold("5", bonus_points=50, gift_product_ids=(7,)),
            cumulative("5"),
            category(),
            card(),
        ],
    )


def test_card_larger_than_types_one_to_five_wins():
    result = card_vs_others("12")  # card 12% + category 5% beats 5% + 5% + category 5%

    assert result.total == D("830.00")
    assert summary(result) == [
        ("threshold", "rejected", D("0"), "card_larger"),
        ("cumulative", "rejected", D("0"), "card_larger"),
        ("category", "applied", D("50.00"), None),
        ("card", "applied", D("120.00"), None),
    ]
    assert (result.gift_product_ids, result.points_to_earn) == ((), 0)


def test_other_discounts_larger_than_card_win():
    result = card_vs_others("8")

    assert result.total == D("850.00")
    assert summary(result) == [
        ("threshold", "applied", D("50.00"), None),
        ("cumulative", "applied", D("50.00"), None),
        ("category", "applied", D("50.00"), None),
        ("card", "rejected", D("0"), "card_not_better"),
    ]
    assert (result.gift_product_ids, result.points_to_earn) == ((7,), 50)


def test_card_equal_to_the_others_keeps_the_others():
    result = card_vs_others("10")

    assert result.total == D("850.00")
    assert summary(result)[3] == ("card", "rejected", D("0"), "card_not_better")


def test_card_combines_with_category_when_nothing_conflicts():
    result = quote(
        cart(line(1, "1000")),
        customer(category_percent=D("5"), loyalty_card_percent=D("10")),
        [category(), card(), threshold("5", minimum="5000")],
    )

    assert result.total == D("850.00")
    assert summary(result) == [
        ("category", "applied", D("50.00"), None),
        ("card", "applied", D("100.00"), None),
        ("threshold", "rejected", D("0"), "tier_not_reached"),
    ]


# --- eligibility and one discount per kind ---


def test_same_kind_never_adds_up_highest_reached_wins():
    discounts = [threshold("5", id="small"), threshold("8", minimum="500", id="big")]

    reached = quote(cart(line(1, "600")), customer(), discounts)
    not_reached = quote(cart(line(1, "400")), customer(), discounts)

    assert reached.total == D("552.00")
    assert summary(reached) == [
        ("small", "rejected", D("0"), "same_type_higher"),
        ("big", "applied", D("48.00"), None),
    ]
    assert not_reached.total == D("380.00")
    assert summary(not_reached) == [
        ("small", "applied", D("20.00"), None),
        ("big", "rejected", D("0"), "tier_not_reached"),
    ]


def test_ineligible_configurations_are_listed_with_reasons():
    result = quote(
        cart(line(1, "100")),
        customer(lifetime_spend=D("1999.99")),
        [
            ThresholdDiscount(
                **common("off", "sum", 0, enabled=False), tiers=(ThresholdTier(D("0"), D("5")),)
            ),
            CumulativeDiscount(
                **common("wholesale", "sum", 0, client_type="wholesale"),
                tiers=(CumulativeTier(D("0"), D("5")),),
            ),
            cumulative("3", minimum="2000"),
            category(),
            card(),
            segment(SegmentTier(D("0"), percent_off=D("5"))),
            offer(3, 1),
        ],
    )

    assert result.total == D("100.00")
    assert summary(result) == [
        ("off", "rejected", D("0"), "disabled"),
        ("wholesale", "rejected", D("0"), "other_client_type"),
        ("cumulative", "rejected", D("0"), "tier_not_reached"),
        ("category", "rejected", D("0"), "no_category_discount"),
        ("card", "rejected", D("0"), "no_loyalty_card"),
        ("segment", "rejected", D("0"), "not_in_segment"),
        ("offer", "rejected", D("0"), "not_enough_units"),
    ]
    assert result.breakdown[1].message == "This discount is for another client type."


def test_every_reason_has_a_message():
    assert set(REASON_MESSAGES) == set(Reason)
    assert all(message.endswith(".") for message in REASON_MESSAGES.values())


def test_threshold_basis_is_goods_value_before_discounts():
    result = quote(
        cart(line(1, "520")),
        customer(category_percent=D("10")),
        [category(), threshold("5", minimum="500")],
    )

    assert result.total == D("442.00")  # reached on 520 although 468 after the category


def test_quantity_profile_counts_the_product_over_all_its_lines():
    profile = QuantityProfile(
        QuantityBasis.QUANTITY, (QuantityTier(D("2"), D("5")), QuantityTier(D("5"), D("10")))
    )
    result = quote(
        cart(
            line(1, "10", 2, quantity_profile=profile),
            line(1, "10", 3, quantity_profile=profile),
            line(2, "10", 4),
        ),
        customer(),
        [QuantityDiscount(**common("quantity", "sum", 0))],
    )

    assert [ln.line_total for ln in result.lines] == [D("18.00"), D("27.00"), D("40.00")]


def test_quantity_profile_by_line_value_at_the_boundary():
    profile = QuantityProfile(QuantityBasis.LINE_VALUE, (QuantityTier(D("100"), D("5")),))
    discounts = [QuantityDiscount(**common("quantity", "sum", 0))]

    at = quote(cart(line(1, "25", 4, quantity_profile=profile)), customer(), discounts)
    below = quote(cart(line(1, "24.99", 4, quantity_profile=profile)), customer(), discounts)

    assert at.total == D("95.00")
    assert below.total == D("99.96")
    assert summary(below) == [("quantity", "rejected", D("0"), "tier_not_reached")]


# --- special offers ---


def test_offer_makes_the_cheapest_units_of_the_collection_free():
    result = quote(
        cart(line(1, "30", 2, collections={"T"}), line(2, "20", 2, collections={"T"})),
        customer(),
        [offer(3, 1)],
    )

    assert [(ln.free_quantity, ln.line_total) for ln in result.lines] == [
        (0, D("60.00")),
        (1, D("20.00")),
    ]


def test_percentages_apply_to_the_paid_units_after_free_ones():
    result = quote(
        cart(line(1, "50", 4, collections={"T"})),
        customer(category_percent=D("10")),
        [offer(3, 1), category()],
    )

    assert result.total == D("135.00")
    assert summary(result) == [
        ("offer", "applied", D("50.00"), None),
        ("category", "applied", D("15.00"), None),
    ]


def test_a_unit_is_free_under_one_offer_only():
    result = quote(
        cart(line(1, "50", 4, collections={"T"})),
        customer(),
        [offer(3, 1, id="three_plus_one"), offer(1, 1, id="one_plus_one")],
    )

    assert result.total == D("100.00")
    assert summary(result) == [
        ("three_plus_one", "rejected", D("0"), "same_type_higher"),
        ("one_plus_one", "applied", D("100.00"), None),
    ]


def test_a_unit_that_costs_nothing_is_no_part_of_an_offer():
    # The minimal cart the property test found. offer_a used to make the 0.00 unit free,
    # take nothing (rejected, no_effect), and by claiming that unit make offer_b free a 0.01
    # one; without offer_a, offer_b took the 0.00 unit and the order cost a cent more.
    # Units at 0.00 are now neither counted, freed nor claimed by any offer.
    shared, only_a = line(1, "0", collections={"A", "B"}), line(2, "0", collections={"A"})
    paid = line(3, "0.01", 2, collections={"B"})
    offer_a, offer_b = offer(1, 1, collection="A", id="offer_a"), offer(1, 1, "B", id="offer_b")

    result = quote(cart(shared, only_a, paid), customer(), [offer_b, offer_a])
    without_a = quote(cart(shared, only_a, paid), customer(), [offer_b])

    assert (result.total, without_a.total) == (D("0.01"), D("0.01"))
    assert [ln.free_quantity for ln in result.lines] == [0, 0, 1]
    assert summary(result) == [
        ("offer_b", "applied", D("0.01"), None),
        ("offer_a", "rejected", D("0"), "not_enough_units"),
    ]


def test_an_offer_losing_its_lines_to_an_exclusive_releases_its_units():
    # Found by test_removing_a_rejected_discount_never_changes_the_quote once the 0.00-unit
    # case was fixed. offer_a (buy 2 get 1 on A) claims 3 units of the 0.11 line, which the
    # exclusive 21% then wins (0.43 against 0.44), so offer_a is rejected (lost_to_exclusive);
    # but its claim used to leave offer_b (buy 1 get 1 on B) 3 free 0.01 units instead of 4:
    # 0.44, against 0.43 without offer_a. The order is now priced again without offer_a.
    cheap = line(1, "0.01", 4, collections={"B"})
    both = line(2, "0.11", 5, collections={"A", "B"})
    member = customer(category_percent=D("21"))
    offer_a, offer_b = offer(2, 1, collection="A", id="offer_a"), offer(1, 1, "B", id="offer_b")
    discounts = [offer_b, category("exclusive_if_higher")]

    result = quote(cart(cheap, both), member, [*discounts, offer_a])
    without_a = quote(cart(cheap, both), member, discounts)

    assert summary(result)[2] == ("offer_a", "rejected", D("0.00"), "lost_to_exclusive")
    assert without_a.total == D("0.43")
    assert result.total == without_a.total
    assert [ln.free_quantity for ln in result.lines] == [4, 0]


def test_idle_offers_release_their_units_one_at_a_time():
    # offer_a claims the 64.67 line that the exclusive 61% wins; its claim leaves offer_b
    # only half the 0.15 units, too few to beat the exclusive there, so both are idle. Once
    # offer_a's units are released offer_b frees all six and keeps that line: dropping
    # both at once would have cost 0.42 more than the order without offer_a.
    small = line(1, "0.15", 6, minimum="0.07", collections={"B"})
    large = line(2, "64.67", 6, minimum="0.32", collections={"A", "B"})
    member = customer(category_percent=D("61"))
    offer_a, offer_b = offer(1, 1, collection="A", id="offer_a"), offer(1, 1, "B", id="offer_b")
    discounts = [offer_b, category("exclusive_if_higher")]

    result = quote(cart(small, large), member, [*discounts, offer_a])

    assert result.total == quote(cart(small, large), member, discounts).total == D("151.33")
    assert [ln.free_quantity for ln in result.lines] == [6, 0]
    assert summary(result)[2] == ("offer_a", "rejected", D("0.00"), "lost_to_exclusive")


@pytest.mark.xfail(strict=True, reason=(
    "known: offers competing for units claim worth-more-first (position on a tie), and each "
    "line is rounded on its own, so another offer can move the same exact discount onto "
    "lines that round up; see docs/decisions.md, known problems"))
def test_a_second_offer_competing_for_units_never_raises_the_total():
    # Found by test_adding_a_discount_never_raises_the_total. Both offers are worth 0.02;
    # offer_b (position 0) claims first: it frees one unit of the shared 0.02 line and
    # leaves offer_a (buy 2 get 2) three units, too few. 65% off then leaves 0.007 on two
    # lines, each rounded up: 0.03, against 0.02 with offer_a alone.
    shared = line(1, "0.02", 2, collections={"A", "B"})
    zero = line(2, "0", collections={"B"})
    only_a = line(3, "0.01", 2, collections={"A"})
    last = line(4, "0.03", collections={"A", "B"})
    offer_a = offer(2, 2, collection="A", id="offer_a", position=1)
    offer_b = offer(1, 1, collection="B", id="offer_b", position=0)
    discounts = [cumulative("65"), offer_a]

    without_b = quote(cart(shared, zero, only_a, last), customer(), discounts)
    result = quote(cart(shared, zero, only_a, last), customer(), [*discounts, offer_b])

    assert without_b.total == D("0.02")
    assert result.total <= without_b.total


def test_offers_on_different_collections_both_apply():
    result = quote(
        cart(line(1, "50", 4, collections={"T"}), line(2, "10", 2, collections={"S"})),
        customer(),
        [offer(3, 1), offer(1, 1, collection="S", id="socks")],
    )

    assert result.total == D("160.00")


def test_exclusive_offer_against_a_percentage():
    shirts = cart(line(1, "50", 4, collections={"T"}))
    discounts = [offer(3, 1, stacking="exclusive_if_higher"), category()]

    loses = quote(shirts, customer(category_percent=D("30")), discounts)
    wins = quote(shirts, customer(category_percent=D("20")), discounts)

    assert (loses.total, loses.lines[0].free_quantity) == (D("140.00"), 0)
    assert summary(loses)[0] == ("offer", "rejected", D("0"), "exclusive_not_higher")
    assert (wins.total, wins.lines[0].free_quantity) == (D("150.00"), 1)
    assert summary(wins)[1] == ("category", "rejected", D("0"), "lost_to_exclusive")


# --- segment advantages, gifts and points ---

EUR_TIERS = (
    SegmentTier(D("50"), amount_off=D("5")),
    SegmentTier(D("150"), percent_off=D("10"), free_shipping=True),
)


def test_segment_cart_tiers():
    member = customer(segment_ids={7})

    small = quote(cart(line(1, "60")), member, [segment(*EUR_TIERS)])
    large = quote(cart(line(1, "200")), member, [segment(*EUR_TIERS)])
    below = quote(cart(line(1, "40")), member, [segment(*EUR_TIERS)])

    assert (small.total, small.free_shipping) == (D("55.00"), False)
    assert (large.total, large.free_shipping) == (D("180.00"), True)
    assert (below.total, below.free_shipping) == (D("40.00"), False)
    assert summary(below) == [("segment", "rejected", D("0"), "tier_not_reached")]


def test_segment_amount_is_spread_in_proportion_to_line_value():
    result = quote(
        cart(line(1, "40"), line(2, "20")), customer(segment_ids={7}), [segment(*EUR_TIERS)]
    )

    assert [ln.line_total for ln in result.lines] == [D("36.67"), D("18.33")]
    assert result.total == D("55.00")


def test_points_from_threshold_tier_and_bonus_percent_rounded_down():
    result = quote(
        cart(line(1, "1000")),
        customer(bonus_percent=D("3")),
        [threshold("5", minimum="500", bonus_points=20, gift_product_ids=(7, 8))],
    )

    assert result.total == D("950.00")
    assert result.points_to_earn == 48  # 20 + floor(28.5)
    assert result.gift_product_ids == (7, 8)


def test_segment_that_earns_no_points_stops_percent_points_only():
    shopper = customer(bonus_percent=D("3"), segment_ids={7})
    tier = SegmentTier(D("0"), amount_off=D("50"))
    discounts = [threshold("0", bonus_points=20)]

    silent = quote(cart(line(1, "1000")), shopper, [*discounts, segment(tier, earns_points=False)])
    earning = quote(cart(line(1, "1000")), shopper, [*discounts, segment(tier)])

    assert (silent.total, silent.points_to_earn) == (D("950.00"), 20)
    assert (earning.total, earning.points_to_earn) == (D("950.00"), 48)
    assert summary(silent)[0] == ("threshold", "applied", D("0"), None)


def test_order_level_benefits_are_granted_even_with_zero_percent():
    result = quote(cart(line(1, "10")), customer(), [threshold("0", gift_product_ids=(99,))])

    assert result.gift_product_ids == (99,)
    assert summary(result) == [("threshold", "applied", D("0"), None)]


def test_exclusive_is_compared_after_the_minimum_price_so_it_never_raises_the_price():
    # 4 shirts at 50, minimum 50: the free shirt is a gift (150); 30% alone would take 60 off
    # the list price, but the minimum price brings it back to 200 for 4 paid shirts.
    shirts = cart(line(1, "50", 4, minimum="50", collections={"T"}))
    discounts = [offer(3, 1), category("exclusive_if_higher")]

    result = quote(shirts, customer(category_percent=D("30")), discounts)

    assert (result.total, result.lines[0].free_quantity) == (D("150.00"), 1)
    assert summary(result) == [
        ("offer", "applied", D("50.00"), None),
        ("category", "rejected", D("0"), "exclusive_not_higher"),
    ]


def test_exclusive_that_wins_no_line_grants_no_gift_nor_points():
    result = quote(
        cart(line(1, "100")),
        customer(category_percent=D("20")),
        [category(), threshold("10", stacking="exclusive_if_higher", bonus_points=30,
                               gift_product_ids=(5,))],
    )

    assert result.total == D("80.00")
    assert (result.gift_product_ids, result.points_granted) == ((), 0)
    assert summary(result)[1] == ("threshold", "rejected", D("0"), "exclusive_not_higher")


def test_gift_stays_when_the_exclusive_wins_only_some_lines():
    profile = QuantityProfile(QuantityBasis.QUANTITY, (QuantityTier(D("1"), D("40")),))
    result = quote(
        cart(line(1, "100", quantity_profile=profile), line(2, "100")),
        customer(),
        [
            threshold("5", gift_product_ids=(5,), bonus_points=10),
            QuantityDiscount(**common("quantity", "exclusive_if_higher", 0)),
        ],
    )

    assert [ln.line_total for ln in result.lines] == [D("60.00"), D("95.00")]
    assert (result.gift_product_ids, result.points_granted) == ((5,), 10)
    assert summary(result)[0] == ("threshold", "applied", D("5.00"), None)
