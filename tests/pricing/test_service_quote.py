"""pricing.services.cart_quote: configurations from the database, priced end to end."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from djmoney.money import Money

from loyalty.models import Category, Segment
from pricing.engine import DiscountKind, DiscountStatus, Reason
from pricing.models import PromoCodeUse
from pricing.services import cart_quote
from shops import services as shop_services
from shops.models import Customer
from tests.factories import CategoryFactory, CustomerFactory, ProductFactory, ShopFactory, order
from tests.pricing.factories import (
    CategoryDiscountFactory,
    CollectionFactory,
    LoyaltyCardDiscountFactory,
    LoyaltyCardFactory,
    PromoCodeFactory,
    QuantityDiscountFactory,
    SpecialOfferFactory,
    cumulative,
    money,
    quantity_profile,
    segment,
    threshold,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return ShopFactory(code="pl", currency="PLN")


@pytest.fixture
def customer(shop):
    return CustomerFactory(shop=shop, client_type="retail")


def product(shop, price, minimum="0", **fields):
    return ProductFactory(shop=shop, price=money(shop, price), min_price=money(shop, minimum),
                          **fields)


def entry(result, name):
    return next(e for e in result.quote.breakdown if e.name == name)


@pytest.mark.parametrize(("value", "to_pay"), [("600", "570.00"), ("400", "400.00")])
def test_e5_threshold_discount_through_service(shop, customer, value, to_pay):
    threshold(shop, ("500", "5"), name="5% from 500")

    result = cart_quote(shop=shop, customer=customer, lines=[(product(shop, value), 1)])

    assert result.total == Money(D(to_pay), "PLN")
    assert result.quote.total == D(to_pay)
    assert result.goods_total == Money(D(value), "PLN")
    status = DiscountStatus.APPLIED if value == "600" else DiscountStatus.REJECTED
    assert entry(result, "5% from 500").status is status


def test_e6_highest_threshold_tier_only_through_service(shop, customer):
    threshold(shop, ("100", "5"), ("200", "10"), name="Tiers")

    result = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "250"), 1)])

    assert result.quote.total == D("225.00")
    assert entry(result, "Tiers").percent == D("10")


@pytest.mark.parametrize(
    ("cumulative_mode", "threshold_mode", "to_pay"),
    [
        ("sum", "sum", "850.00"),
        ("sequential", "sequential", "855.00"),
        ("sum", "exclusive_if_higher", "900.00"),
    ],
)
def test_e9_stacking_modes_through_service(
    shop, customer, cumulative_mode, threshold_mode, to_pay
):
    order(customer, "2000.00", days_ago=10)  # lifetime spend reaches the cumulative tier
    cumulative(shop, ("1000", "10"), name="Lifetime", stacking=cumulative_mode, position=1)
    threshold(shop, ("500", "5"), name="Order value", stacking=threshold_mode, position=2)

    result = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "1000"), 1)])

    assert result.total == Money(D(to_pay), "PLN")


def test_e7_cumulative_uses_counted_spend_net_of_returns_through_service(shop, customer):
    cumulative(shop, ("2000", "3"), name="3% from 2000")
    first = order(customer, "1500.00", days_ago=30)
    order(customer, "700.00", days_ago=20)
    shop_services.return_record(order=first, value=D("300.00"))
    unpaid = order(customer, "100.00", days_ago=5, paid=False)
    line = [(product(shop, "100"), 1)]

    before = cart_quote(shop=shop, customer=customer, lines=line)
    shop_services.order_update(order=unpaid, paid_in_full=True)
    after = cart_quote(shop=shop, customer=customer, lines=line)

    assert entry(before, "3% from 2000").reason is Reason.TIER_NOT_REACHED
    assert before.quote.total == D("100.00")
    assert after.quote.total == D("97.00")


def test_e8_buy_three_get_one_free_through_service(shop, customer):
    tshirts = CollectionFactory(shop=shop, code="t-shirts")
    offer = SpecialOfferFactory(shop=shop, collection=tshirts, buy_quantity=3, free_quantity=1)
    tee = product(shop, "50")
    tee.collections.add(tshirts)

    totals = [
        cart_quote(shop=shop, customer=customer, lines=[(tee, n)]).quote.total for n in (4, 3, 8)
    ]

    assert totals == [D("150.00"), D("150.00"), D("300.00")]
    assert offer.pk


def test_e10_minimum_price_through_service(shop, customer):
    threshold(shop, ("0", "20"), name="20%")

    result = cart_quote(shop=shop, customer=customer,
                        lines=[(product(shop, "100", minimum="90"), 1)])

    assert result.quote.total == D("90.00")
    assert entry(result, "20%").reason is Reason.BELOW_MINIMUM_PRICE


def test_category_discount_comes_from_the_customers_category(shop, customer):
    CategoryDiscountFactory(shop=shop, name="Category")
    group = CategoryFactory(shop=shop, name="-20%", program="discount",
                            discount_percent=D("20"))
    Customer.objects.filter(pk=customer.pk).update(category=group)

    result = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "200"), 1)])

    assert result.quote.total == D("160.00")
    assert entry(result, "Category").percent == D("20")


def test_category_with_a_bonus_program_gives_no_discount(shop, customer):
    CategoryDiscountFactory(shop=shop, name="Category")
    gold = CategoryFactory(shop=shop, program="bonus")
    Customer.objects.filter(pk=customer.pk).update(category=gold)

    result = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "200"), 1)])

    assert result.quote.total == D("200.00")
    assert entry(result, "Category").reason is Reason.NO_CATEGORY_DISCOUNT
    assert Category.objects.get(pk=gold.pk).discount_percent is None


def test_loyalty_card_wins_when_larger_than_the_other_discounts(shop, customer):
    threshold(shop, ("0", "5"), name="5%")
    LoyaltyCardDiscountFactory(shop=shop, name="Card")
    LoyaltyCardFactory(customer=customer, percent=D("12"))

    result = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "100"), 1)])

    assert result.quote.total == D("88.00")
    assert entry(result, "5%").reason is Reason.CARD_LARGER


def test_loyalty_card_needs_its_configuration(shop, customer):
    LoyaltyCardFactory(customer=customer, percent=D("12"))

    result = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "100"), 1)])

    assert result.quote.total == D("100.00")


def test_customer_without_a_card_is_told_so(shop, customer):
    LoyaltyCardDiscountFactory(shop=shop, name="Card")

    result = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "100"), 1)])

    assert entry(result, "Card").reason is Reason.NO_LOYALTY_CARD


def test_quantity_profile_attached_to_the_product(shop, customer):
    QuantityDiscountFactory(shop=shop, name="Volume")
    item = product(shop, "10")
    quantity_profile(shop, [item], ("5", "10"), ("10", "20"))

    six = cart_quote(shop=shop, customer=customer, lines=[(item, 6)])
    twelve = cart_quote(shop=shop, customer=customer, lines=[(item, 2), (item, 10)])

    assert six.quote.total == D("54.00")
    assert twelve.quote.total == D("96.00")


def test_segment_advantage_tiers_for_every_customer():
    shop = ShopFactory(code="fr", currency="EUR")
    buyer = CustomerFactory(shop=shop)
    segment(shop, ("50", "5", "0", False), ("150", "0", "10", True), name="Cart tiers")

    small = cart_quote(shop=shop, customer=buyer, lines=[(product(shop, "60"), 1)])
    large = cart_quote(shop=shop, customer=buyer, lines=[(product(shop, "200"), 1)])

    assert (small.total, small.quote.free_shipping) == (Money("55.00", "EUR"), False)
    assert (large.total, large.quote.free_shipping) == (Money("180.00", "EUR"), True)


def test_segment_advantage_for_a_segment_the_customer_is_not_in(shop, customer):
    pros = Segment.objects.create(shop=shop, code="paris-pros", name="Paris pros")
    segment(shop, ("0", "5", "0", False), name="Paris", segment=pros)

    result = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "60"), 1)])

    assert entry(result, "Paris").reason is Reason.NOT_IN_SEGMENT


def test_quote_for_a_client_type_without_customer(shop):
    threshold(shop, ("0", "5"), name="Retail", client_type="retail")
    threshold(shop, ("0", "8"), name="Wholesale", client_type="wholesale")

    result = cart_quote(shop=shop, client_type="wholesale", lines=[(product(shop, "100"), 2)])

    assert result.quote.total == D("184.00")
    assert [e.name for e in result.quote.breakdown] == ["Wholesale"]
    assert result.customer is None


def test_disabled_configurations_are_not_considered(shop, customer):
    threshold(shop, ("0", "5"), name="Off", enabled=False)

    result = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "100"), 1)])

    assert result.quote.breakdown == ()


# --- promo codes ---------------------------------------------------------------------------


def test_promo_code_matches_in_any_case_and_applies_on_the_reduced_price(shop, customer):
    threshold(shop, ("0", "50"), name="Sale")
    PromoCodeFactory(shop=shop, code="HALF", percent=D("50"), stacking="sequential")

    result = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "100"), 1)],
                        promo_code="  half ")

    assert result.quote.total == D("25.00")  # sequential: 50% then 50%
    assert result.quote.promo_code == "HALF"


@pytest.mark.parametrize(
    ("cap", "to_pay", "code_took"),
    [
        ({"max_discount_percent": D("60")}, "40.00", "10.00"),
        ({"max_discount_amount": Money("70", "PLN")}, "30.00", "20.00"),
    ],
)
def test_promo_code_in_sum_is_held_by_its_maximum_discount(shop, customer, cap, to_pay,
                                                           code_took):
    threshold(shop, ("0", "50"), name="Sale")
    PromoCodeFactory(shop=shop, code="HALF", percent=D("50"), **cap)

    result = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "100"), 1)],
                        promo_code="HALF")

    assert result.quote.total == D(to_pay)  # 50% + 50% in sum would be free
    code_entry = result.quote.breakdown[1]
    assert (code_entry.amount, code_entry.reason) == (D(code_took), Reason.CODE_MAXIMUM_DISCOUNT)


def test_unknown_promo_code_is_listed(shop, customer):
    result = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "100"), 1)],
                        promo_code="NOPE")

    (only,) = result.quote.breakdown
    assert (only.kind, only.reason) == (DiscountKind.PROMO_CODE, Reason.CODE_UNKNOWN)


def test_promo_code_of_another_client_type_says_so(shop, customer):
    PromoCodeFactory(shop=shop, code="PRO", client_type="wholesale")

    result = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "100"), 1)],
                        promo_code="pro")

    assert result.quote.breakdown[0].reason is Reason.OTHER_CLIENT_TYPE


def test_promo_code_total_limit(shop, customer):
    code = PromoCodeFactory(shop=shop, code="TEN", usage_limit=2)
    line = [(product(shop, "100"), 1)]
    code.times_used = 1
    code.save()
    assert cart_quote(shop=shop, customer=customer, lines=line,
                      promo_code="TEN").quote.total == D("90.00")

    code.times_used = 2
    code.save()
    result = cart_quote(shop=shop, customer=customer, lines=line, promo_code="TEN")

    assert result.quote.total == D("100.00")
    assert result.quote.breakdown[0].reason is Reason.CODE_LIMIT_REACHED


def test_promo_code_per_customer_limit_counts_this_customers_uses(shop, customer):
    code = PromoCodeFactory(shop=shop, code="ONCE", usage_limit_per_customer=1)
    other = CustomerFactory(shop=shop)
    PromoCodeUse.objects.create(code=code, customer=other, order=order(other, "10"))
    line = [(product(shop, "100"), 1)]
    assert cart_quote(shop=shop, customer=customer, lines=line,
                      promo_code="ONCE").quote.total == D("90.00")

    PromoCodeUse.objects.create(code=code, customer=customer, order=order(customer, "10"))
    result = cart_quote(shop=shop, customer=customer, lines=line, promo_code="ONCE")

    assert result.quote.breakdown[0].reason is Reason.CODE_CUSTOMER_LIMIT_REACHED


@pytest.mark.parametrize(
    ("today", "reason"),
    [(date(2025, 5, 31), Reason.CODE_NOT_YET_VALID), (date(2025, 7, 1), Reason.CODE_EXPIRED),
     (date(2025, 6, 1), None), (date(2025, 6, 30), None)],
)
def test_promo_code_dates_are_inclusive(shop, customer, today, reason):
    PromoCodeFactory(shop=shop, code="JUNE", valid_from=date(2025, 6, 1),
                     valid_until=date(2025, 6, 30))

    result = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "100"), 1)],
                        promo_code="JUNE", today=today)

    assert result.quote.breakdown[0].reason is reason


def test_amount_promo_code_with_minimum_order_value(shop, customer):
    PromoCodeFactory(shop=shop, code="MINUS20", percent=None, amount=money(shop, "20"),
                     minimum_order_value=money(shop, "100"))
    item = product(shop, "50")

    one = cart_quote(shop=shop, customer=customer, lines=[(item, 1)], promo_code="MINUS20")
    two = cart_quote(shop=shop, customer=customer, lines=[(item, 2)], promo_code="MINUS20")

    assert one.quote.breakdown[0].reason is Reason.CODE_MINIMUM_NOT_REACHED
    assert two.quote.total == D("80.00")


# --- invalid input -------------------------------------------------------------------------


def test_products_of_another_shop_are_refused(shop, customer):
    elsewhere = ProductFactory(shop=ShopFactory(code="other", currency="PLN"))

    with pytest.raises(ValidationError, match="belongs to another shop"):
        cart_quote(shop=shop, customer=customer, lines=[(elsewhere, 1)])


def test_a_customer_or_a_client_type_is_needed(shop):
    with pytest.raises(ValidationError, match="customer or a client type"):
        cart_quote(shop=shop, lines=[(product(shop, "10"), 1)])


@pytest.mark.parametrize("lines", [[], "zero"])
def test_empty_carts_and_zero_quantities_are_refused(shop, customer, lines):
    if lines == "zero":
        lines = [(product(shop, "10"), 0)]
    with pytest.raises(ValidationError):
        cart_quote(shop=shop, customer=customer, lines=lines)
