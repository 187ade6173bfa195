"""pricing.demo: configurations for every demo shop and client type, idempotent."""

from decimal import Decimal as D
from io import StringIO

import pytest
from djmoney.money import Money

from pricing import demo, models
from pricing.services import cart_quote
from shops import demo as shops_demo
from shops.models import Product, Shop
from tests.conftest import shared_world

pytestmark = pytest.mark.django_db

PRICING_MODELS = (
    models.ThresholdDiscount, models.ThresholdTier, models.CumulativeDiscount,
    models.CumulativeTier, models.QuantityDiscount, models.QuantityProfile,
    models.QuantityProfileProduct, models.QuantityTier, models.SpecialOffer, models.PromoCode,
    models.CategoryDiscount, models.LoyaltyCardDiscount, models.LoyaltyCard,
    models.SegmentAdvantage, models.SegmentTier,
)


def counts():
    return {m._meta.label: m.objects.count() for m in PRICING_MODELS}


# The shops' demo data, built once for the module's tests (each adds the pricing demo).
demo_shops = shared_world(lambda: shops_demo.build(stdout=StringIO(), scale=0.01, seed=42))


def test_demo_configures_every_shop_and_client_type_and_is_idempotent(demo_shops):
    out = StringIO()
    demo.build(stdout=out, scale=0.01, seed=42)
    first = counts()
    demo.build(stdout=StringIO(), scale=0.01, seed=42)

    assert counts() == first
    assert first["pricing.ThresholdDiscount"] == 6  # 3 shops x 2 client types
    assert first["pricing.SpecialOffer"] == 6
    assert first["pricing.PromoCode"] == 6
    assert first["pricing.SegmentAdvantage"] == 2  # fr only
    assert first["pricing.QuantityProfileProduct"] == 15
    assert "shop fr:" in out.getvalue()
    for shop in Shop.objects.all():
        tiers = models.ThresholdTier.objects.filter(discount__shop=shop)
        assert not tiers.exclude(min_goods_value_currency=shop.currency).exists()


def test_demo_threshold_and_segment_tiers_price_as_announced(demo_shops):
    demo.build(stdout=StringIO(), scale=0.01, seed=42)
    pl, fr = Shop.objects.get(code="pl"), Shop.objects.get(code="fr")
    boots = Product.objects.get(shop=pl, sku="BOOTS-BLACK")  # 499.00 PLN
    scarf = Product.objects.get(shop=fr, sku="SCARF")  # 21.90 EUR

    pl_quote = cart_quote(shop=pl, client_type="retail", lines=[(boots, 1)])
    fr_small = cart_quote(shop=fr, client_type="retail", lines=[(scarf, 3)])
    fr_large = cart_quote(shop=fr, client_type="retail", lines=[(scarf, 7)])

    assert pl_quote.quote.total == D("499.00")  # below 500 PLN: no threshold
    assert cart_quote(shop=pl, client_type="retail",
                      lines=[(boots, 2)]).total == Money("948.10", "PLN")  # 5% from 500
    assert scarf.price == Money("21.90", "EUR")
    assert fr_small.total == Money("60.70", "EUR")  # 65.70 - 5 EUR
    assert fr_large.quote.free_shipping
    # 153.30 from 150 EUR: 10% (segment) + 5% (threshold from 125 EUR), both `sum`
    assert fr_large.total == Money("130.31", "EUR")
