"""The database refuses invalid pricing configurations, whatever writes them."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from pricing import models
from tests.factories import CustomerFactory, ProductFactory, ShopFactory
from tests.pricing.factories import (
    CumulativeDiscountFactory,
    PromoCodeFactory,
    QuantityProfileFactory,
    SegmentAdvantageFactory,
    SpecialOfferFactory,
    ThresholdDiscountFactory,
    money,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return ShopFactory(code="pl", currency="PLN")


def refused(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


@pytest.mark.parametrize("percent", ["-0.01", "100.01", "120"])
def test_tier_percent_outside_0_to_100_is_refused(shop, percent):
    discount = ThresholdDiscountFactory(shop=shop)
    refused(lambda: models.ThresholdTier.objects.create(
        discount=discount, min_goods_value=money(shop, "10"), percent=D(percent)))


@pytest.mark.parametrize("percent", ["0", "100"])
def test_tier_percent_bounds_are_allowed(shop, percent):
    discount = CumulativeDiscountFactory(shop=shop)
    models.CumulativeTier.objects.create(
        discount=discount, min_lifetime_spend=money(shop, "0"), percent=D(percent))


def test_two_tiers_at_the_same_threshold_are_refused(shop):
    discount = ThresholdDiscountFactory(shop=shop)
    models.ThresholdTier.objects.create(
        discount=discount, min_goods_value=money(shop, "500"), percent=D(5))
    refused(lambda: models.ThresholdTier.objects.create(
        discount=discount, min_goods_value=money(shop, "500"), percent=D(10)))


def test_negative_tier_threshold_is_refused(shop):
    discount = CumulativeDiscountFactory(shop=shop)
    refused(lambda: models.CumulativeTier.objects.create(
        discount=discount, min_lifetime_spend=money(shop, "-1"), percent=D(3)))


def test_configuration_names_are_unique_per_shop_and_client_type(shop):
    ThresholdDiscountFactory(shop=shop, name="Big", client_type="retail")
    ThresholdDiscountFactory(shop=shop, name="Big", client_type="wholesale")
    refused(lambda: ThresholdDiscountFactory(shop=shop, name="Big", client_type="retail"))


@pytest.mark.parametrize(("field", "value"), [("client_type", "vip"), ("stacking", "max")])
def test_unknown_client_type_or_stacking_mode_is_refused(shop, field, value):
    refused(lambda: ThresholdDiscountFactory(shop=shop, **{field: value}))


@pytest.mark.parametrize(
    "fields",
    [{"percent": None, "amount": None}, {"percent": D(5), "amount": "both"}],
)
def test_promo_code_has_a_percent_or_an_amount(shop, fields):
    if fields.get("amount") == "both":
        fields["amount"] = money(shop, "5")
    refused(lambda: PromoCodeFactory(shop=shop, **fields))


def test_promo_codes_are_unique_per_shop_in_any_case(shop):
    PromoCodeFactory(shop=shop, code="SPRING")
    PromoCodeFactory(shop=shop, code="SPRING", client_type="wholesale", name="B2B")
    PromoCodeFactory(shop=ShopFactory(code="fr", currency="EUR"), code="SPRING")
    refused(lambda: PromoCodeFactory(shop=shop, code="spring", name="Again"))


def test_promo_code_dates_must_be_in_order(shop):
    PromoCodeFactory(shop=shop, valid_from=date(2025, 6, 1), valid_until=date(2025, 6, 1))
    refused(lambda: PromoCodeFactory(
        shop=shop, valid_from=date(2025, 6, 2), valid_until=date(2025, 6, 1)))


@pytest.mark.parametrize(("field", "value"), [("amount", "-1"), ("minimum_order_value", "-1")])
def test_promo_code_amounts_are_not_negative(shop, field, value):
    extra = {"percent": None, "amount": money(shop, "5")}
    extra[field] = money(shop, value)
    refused(lambda: PromoCodeFactory(shop=shop, **extra))


def test_special_offer_needs_units_to_buy(shop):
    refused(lambda: SpecialOfferFactory(shop=shop, buy_quantity=0))


def test_segment_tier_amounts_in_one_currency_and_not_negative(shop):
    advantage = SegmentAdvantageFactory(shop=shop)
    refused(lambda: models.SegmentTier.objects.create(
        advantage=advantage, min_cart_total=money(shop, "50"), amount_off=money(shop, "-5")))
    refused(lambda: models.SegmentTier.objects.create(
        advantage=advantage, min_cart_total=money(shop, "50"),
        amount_off=money(ShopFactory(code="fr", currency="EUR"), "5")))


def test_a_product_has_at_most_one_quantity_profile(shop):
    item = ProductFactory(shop=shop)
    first, second = QuantityProfileFactory(shop=shop), QuantityProfileFactory(shop=shop)
    models.QuantityProfileProduct.objects.create(profile=first, product=item)
    refused(lambda: models.QuantityProfileProduct.objects.create(profile=second, product=item))


def test_loyalty_card_percent_in_range_and_one_per_customer(shop):
    customer = CustomerFactory(shop=shop)
    refused(lambda: models.LoyaltyCard.objects.create(customer=customer, percent=D("101")))
    models.LoyaltyCard.objects.create(customer=customer, percent=D("10"))
    refused(lambda: models.LoyaltyCard.objects.create(customer=customer, percent=D("5")))
