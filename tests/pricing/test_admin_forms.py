"""The pricing admin driven like a merchant would: every error next to its field, nothing saved."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from pricing.models import (
    PromoCode,
    QuantityProfile,
    SegmentAdvantage,
    SpecialOffer,
    ThresholdDiscount,
    ThresholdTier,
)
from tests.factories import ProductFactory, ShopFactory
from tests.pricing.factories import CollectionFactory, money, threshold

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return ShopFactory(code="pl", currency="PLN")


def configuration(shop, **extra):
    data = {"shop": shop.pk, "client_type": "retail", "name": "Big orders", "enabled": "on",
            "stacking": "sum", "position": "0"}
    data.update(extra)
    return data


def inline(prefix, rows, initial=0):
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data


def threshold_tier(value, percent, currency="PLN", **extra):
    return {"min_goods_value_0": value, "min_goods_value_1": currency, "percent": percent,
            "bonus_points": "0", **extra}


def post_threshold(client, shop, *tiers):
    data = {**configuration(shop), **inline("tiers", tiers)}
    return client.post(reverse("admin:pricing_thresholddiscount_add"), data)


def form_errors(response):
    return response.context["adminform"].form.errors


def tier_errors(response, index=0):
    formset = response.context["inline_admin_formsets"][index].formset
    return [form.errors for form in formset.forms]


def test_valid_threshold_with_tiers_is_saved(admin_client, shop):
    gift = ProductFactory(shop=shop)
    response = post_threshold(
        admin_client, shop, threshold_tier("100", "5"), threshold_tier("500", "10", gifts=gift.pk)
    )

    assert response.status_code == 302
    discount = ThresholdDiscount.objects.get()
    assert [(t.min_goods_value.amount, t.percent) for t in discount.tiers.all()] == [
        (D("100.00"), D("5.00")), (D("500.00"), D("10.00"))]
    assert list(discount.tiers.get(percent=10).gifts.all()) == [gift]


def test_percent_above_100_is_shown_next_to_the_tier_percent(admin_client, shop):
    response = post_threshold(admin_client, shop, threshold_tier("100", "120"))

    assert response.status_code == 200
    assert tier_errors(response)[0]["percent"] == [
        "Ensure this value is less than or equal to 100."]
    assert not ThresholdDiscount.objects.exists()


def test_negative_tier_value_is_shown_next_to_the_field(admin_client, shop):
    response = post_threshold(admin_client, shop, threshold_tier("-1", "5"))

    assert tier_errors(response)[0]["min_goods_value"] == [
        "Ensure this value is greater than or equal to 0."]
    assert not ThresholdDiscount.objects.exists()


def test_duplicate_tiers_are_refused_on_the_second_one(admin_client, shop):
    response = post_threshold(
        admin_client, shop, threshold_tier("500", "5"), threshold_tier("500", "10")
    )

    errors = tier_errors(response)
    assert not errors[0]
    assert errors[1]["min_goods_value"] == ["Another tier already starts at this value."]
    assert "Another tier already starts at this value." in response.content.decode()
    assert not ThresholdDiscount.objects.exists()


def test_decreasing_tiers_are_refused(admin_client, shop):
    response = post_threshold(
        admin_client, shop, threshold_tier("500", "5"), threshold_tier("100", "10")
    )

    assert tier_errors(response)[1]["min_goods_value"] == [
        "Tiers must go up: this one starts below the tier listed above it."]
    assert not ThresholdDiscount.objects.exists()


def test_existing_tiers_edited_into_a_duplicate_are_refused(admin_client, shop):
    discount = threshold(shop, ("100", "5"), ("500", "10"))
    low, high = discount.tiers.all()
    data = {**configuration(shop, name=discount.name), **inline("tiers", [
        {"id": low.pk, "discount": discount.pk, **threshold_tier("100", "5")},
        {"id": high.pk, "discount": discount.pk, **threshold_tier("100", "10")},
    ], initial=2)}

    response = admin_client.post(
        reverse("admin:pricing_thresholddiscount_change", args=[discount.pk]), data)

    assert tier_errors(response)[1]["min_goods_value"] == [
        "Another tier already starts at this value."]
    assert ThresholdTier.objects.get(pk=high.pk).min_goods_value.amount == D("500.00")


def test_tier_in_another_currency_than_the_shops_is_refused(admin_client):
    shop = ShopFactory(code="fr", currency="EUR")

    response = post_threshold(admin_client, shop, threshold_tier("100", "5", currency="PLN"))

    assert tier_errors(response)[0]["min_goods_value"] == [
        "Currency PLN does not match the shop's currency EUR."]
    assert not ThresholdDiscount.objects.exists()


def test_gifts_from_another_shop_are_refused(admin_client, shop):
    stranger = ProductFactory(shop=ShopFactory(code="ua", currency="UAH"), sku="FOREIGN")

    response = post_threshold(admin_client, shop, threshold_tier("100", "5", gifts=stranger.pk))

    assert tier_errors(response)[0]["gifts"] == [f"Not in this shop: {stranger}."]
    assert not ThresholdDiscount.objects.exists()


# --- promo codes ---------------------------------------------------------------------------


def promo(shop, **extra):
    data = configuration(shop, name="Spring", code="SPRING", percent="", amount_0="",
                         amount_1="PLN", valid_from="", valid_until="", usage_limit="",
                         usage_limit_per_customer="", minimum_order_value_0="",
                         minimum_order_value_1="PLN", combinable="on",
                         max_discount_percent="", max_discount_amount_0="",
                         max_discount_amount_1="PLN")
    data.update(extra)
    return data


def post_promo(client, shop, **extra):
    return client.post(reverse("admin:pricing_promocode_add"), promo(shop, **extra))


def test_valid_promo_code_is_saved(admin_client, shop):
    response = post_promo(admin_client, shop, amount_0="20", valid_from="2025-06-01",
                          valid_until="2025-06-01", usage_limit="100")

    assert response.status_code == 302
    code = PromoCode.objects.get()
    assert (code.amount, code.percent, code.times_used) == (money(shop, "20"), None, 0)


def test_negative_promo_amount_is_shown_next_to_the_amount(admin_client, shop):
    response = post_promo(admin_client, shop, amount_0="-5")

    assert form_errors(response)["amount"] == ["Must not be negative."]
    assert not PromoCode.objects.exists()


def test_promo_percent_of_120_is_shown_next_to_the_percent(admin_client, shop):
    response = post_promo(admin_client, shop, percent="120")

    assert form_errors(response)["percent"] == ["Ensure this value is less than or equal to 100."]
    assert not PromoCode.objects.exists()


def test_reversed_dates_are_shown_next_to_the_end_date(admin_client, shop):
    response = post_promo(admin_client, shop, percent="10", valid_from="2025-06-30",
                          valid_until="2025-06-01")

    assert form_errors(response)["valid_until"] == ["The code cannot end before it starts."]
    assert "The code cannot end before it starts." in response.content.decode()
    assert not PromoCode.objects.exists()


def test_promo_amount_in_another_currency_is_refused(admin_client, shop):
    response = post_promo(admin_client, shop, amount_0="5", amount_1="EUR",
                          minimum_order_value_0="50", minimum_order_value_1="UAH")

    errors = form_errors(response)
    assert errors["amount"] == ["Currency EUR does not match the shop's currency PLN."]
    assert errors["minimum_order_value"] == ["Currency UAH does not match the shop's currency PLN."]
    assert not PromoCode.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [({}, "percent", "Give a percent or an amount off."),
     ({"percent": "5", "amount_0": "5"}, "amount", "Give a percent or an amount off, not both.")],
)
def test_promo_code_needs_a_percent_or_an_amount(admin_client, shop, extra, field, message):
    response = post_promo(admin_client, shop, **extra)

    assert form_errors(response)[field] == [message]
    assert not PromoCode.objects.exists()


def test_promo_code_is_unique_per_shop_and_client_type_in_any_case(admin_client, shop):
    assert post_promo(admin_client, shop, percent="5").status_code == 302

    response = post_promo(admin_client, shop, name="Other", code="spring", percent="5")

    assert form_errors(response)["code"] == [
        "This shop already has this code for this client type."]
    assert PromoCode.objects.count() == 1


def test_promo_code_maximum_discount_is_saved_as_a_percent(admin_client, shop):
    response = post_promo(admin_client, shop, percent="50", max_discount_percent="60")

    assert response.status_code == 302
    code = PromoCode.objects.get()
    assert (code.max_discount_percent, code.max_discount_amount) == (D("60"), None)


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        (
            {"max_discount_percent": "20", "max_discount_amount_0": "30"},
            "max_discount_amount",
            "Give the maximum discount as a percent or as an amount, not both.",
        ),
        ({"max_discount_percent": "120"}, "max_discount_percent",
         "Ensure this value is less than or equal to 100."),
        ({"max_discount_amount_0": "-1"}, "max_discount_amount", "Must not be negative."),
    ],
)
def test_promo_code_maximum_discount_is_validated(admin_client, shop, extra, field, message):
    response = post_promo(admin_client, shop, percent="10", **extra)

    assert form_errors(response)[field] == [message]
    assert not PromoCode.objects.exists()


# --- other configurations -------------------------------------------------------------------


def test_special_offer_collection_of_another_shop_is_refused(admin_client, shop):
    foreign = CollectionFactory(shop=ShopFactory(code="ua", currency="UAH"))
    data = configuration(shop, collection=foreign.pk, buy_quantity="3", free_quantity="1")

    response = admin_client.post(reverse("admin:pricing_specialoffer_add"), data)

    assert form_errors(response)["collection"] == [f"Not in this shop: {foreign}."]
    assert not SpecialOffer.objects.exists()


def segment_tier(value, amount="0", percent="0", free=False):
    row = {"min_cart_total_0": value, "min_cart_total_1": "EUR", "amount_off_0": amount,
           "amount_off_1": "EUR", "percent_off": percent}
    if free:
        row["free_shipping"] = "on"
    return row


def test_segment_advantage_tiers_are_saved_and_checked(admin_client):
    shop = ShopFactory(code="fr", currency="EUR")
    url = reverse("admin:pricing_segmentadvantage_add")
    base = configuration(shop, segment="", special_discount="on", earns_points="on",
                         applies_with_promo_code="on")

    bad = admin_client.post(url, {**base, **inline("tiers", [
        segment_tier("50", amount="5"), segment_tier("150", percent="120"),
        segment_tier("200")])})
    good = admin_client.post(url, {**base, **inline("tiers", [
        segment_tier("50", amount="5"), segment_tier("150", percent="10", free=True)])})

    errors = tier_errors(bad)
    assert errors[1]["percent_off"] == ["Ensure this value is less than or equal to 100."]
    assert errors[2]["amount_off"] == [
        "A tier gives an amount off, a percent off or free shipping."]
    assert good.status_code == 302
    advantage = SegmentAdvantage.objects.get()
    assert [(t.min_cart_total, t.amount_off, t.percent_off, t.free_shipping)
            for t in advantage.tiers.all()] == [
        (money(shop, "50"), money(shop, "5"), D("0.00"), False),
        (money(shop, "150"), money(shop, "0"), D("10.00"), True)]


def test_quantity_profile_products_of_the_shop_only(admin_client, shop):
    mine = ProductFactory(shop=shop)
    foreign = ProductFactory(shop=ShopFactory(code="ua", currency="UAH"))
    url = reverse("admin:pricing_quantityprofile_add")
    base = {"shop": shop.pk, "name": "Volume", "basis": "quantity",
            **inline("tiers", [{"min_value": "5", "percent": "3"},
                               {"min_value": "10", "percent": "6"}])}

    bad = admin_client.post(url, {**base, **inline("product_links", [{"product": foreign.pk}])})
    good = admin_client.post(url, {**base, **inline("product_links", [{"product": mine.pk}])})

    assert tier_errors(bad, index=1)[0]["product"] == [f"Not in this shop: {foreign}."]
    assert good.status_code == 302
    profile = QuantityProfile.objects.get()
    assert list(profile.products.all()) == [mine]
    assert [t.min_value for t in profile.tiers.all()] == [D("5.00"), D("10.00")]
