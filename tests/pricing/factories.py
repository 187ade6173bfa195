"""factory_boy factories and builders for pricing configurations."""

from decimal import Decimal

import factory
from djmoney.money import Money

from pricing import models
from shops.models import Collection
from tests.factories import ShopFactory


def money(shop, amount) -> Money:
    return Money(Decimal(str(amount)), shop.currency)


class _Configuration(factory.django.DjangoModelFactory):
    shop = factory.SubFactory(ShopFactory)
    client_type = "retail"
    name = factory.Sequence(lambda n: f"Discount {n}")
    enabled = True
    stacking = "sum"
    position = 0


class ThresholdDiscountFactory(_Configuration):
    class Meta:
        model = models.ThresholdDiscount


class CumulativeDiscountFactory(_Configuration):
    class Meta:
        model = models.CumulativeDiscount


class QuantityDiscountFactory(_Configuration):
    class Meta:
        model = models.QuantityDiscount


class CategoryDiscountFactory(_Configuration):
    class Meta:
        model = models.CategoryDiscount


class LoyaltyCardDiscountFactory(_Configuration):
    class Meta:
        model = models.LoyaltyCardDiscount


class CollectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collection

    shop = factory.SubFactory(ShopFactory)
    code = factory.Sequence(lambda n: f"collection-{n}")
    name = factory.Sequence(lambda n: f"Collection {n}")


class SpecialOfferFactory(_Configuration):
    class Meta:
        model = models.SpecialOffer

    collection = factory.SubFactory(CollectionFactory, shop=factory.SelfAttribute("..shop"))
    buy_quantity = 3
    free_quantity = 1


class PromoCodeFactory(_Configuration):
    class Meta:
        model = models.PromoCode

    code = factory.Sequence(lambda n: f"CODE{n}")
    name = factory.LazyAttribute(lambda o: f"Code {o.code}")
    percent = Decimal("10")


class SegmentAdvantageFactory(_Configuration):
    class Meta:
        model = models.SegmentAdvantage


class LoyaltyCardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.LoyaltyCard

    percent = Decimal("10")


class QuantityProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.QuantityProfile

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"Profile {n}")
    basis = "quantity"


def threshold(shop, *tiers, **fields) -> models.ThresholdDiscount:
    """``threshold(shop, ("500", "5"), ...)``: tiers of (from goods value, percent)."""
    discount = ThresholdDiscountFactory(shop=shop, **fields)
    for minimum, percent, *points in tiers:
        models.ThresholdTier.objects.create(
            discount=discount, min_goods_value=money(shop, minimum), percent=Decimal(percent),
            bonus_points=points[0] if points else 0,
        )
    return discount


def cumulative(shop, *tiers, **fields) -> models.CumulativeDiscount:
    discount = CumulativeDiscountFactory(shop=shop, **fields)
    for minimum, percent in tiers:
        models.CumulativeTier.objects.create(
            discount=discount, min_lifetime_spend=money(shop, minimum), percent=Decimal(percent)
        )
    return discount


def segment(shop, *tiers, **fields) -> models.SegmentAdvantage:
    """Tiers of (from cart total, amount off, percent off, free shipping)."""
    advantage = SegmentAdvantageFactory(shop=shop, **fields)
    for minimum, amount, percent, free in tiers:
        models.SegmentTier.objects.create(
            advantage=advantage, min_cart_total=money(shop, minimum),
            amount_off=money(shop, amount), percent_off=Decimal(percent), free_shipping=free,
        )
    return advantage


def quantity_profile(shop, products, *tiers, basis="quantity") -> models.QuantityProfile:
    profile = QuantityProfileFactory(shop=shop, basis=basis)
    for product in products:
        models.QuantityProfileProduct.objects.create(profile=profile, product=product)
    for minimum, percent in tiers:
        models.QuantityTier.objects.create(
            profile=profile, min_value=Decimal(minimum), percent=Decimal(percent)
        )
    return profile
