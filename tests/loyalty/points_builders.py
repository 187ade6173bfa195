"""Builders for the points tests: a shop with a bonus program, the E11 tiers."""

from decimal import Decimal as D

from djmoney.money import Money

from loyalty.models import (
    BonusProgram,
    BonusTier,
    DiscountProgram,
    DiscountTier,
    PointsEntry,
    PointsPolicy,
)
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory

E11_TIERS = (("0", "2"), ("1000", "3"), ("3000", "5"))


def bonus_program(category, *tiers, name="Bonus", boundary="inclusive"):
    program = BonusProgram.objects.create(category=category, name=name, boundary=boundary)
    for start, percent in tiers:
        BonusTier.objects.create(program=program, min_lifetime_spend=Money(D(start),
                                 category.shop.currency), percent=D(percent))
    return program


def discount_program(category, *tiers, name="Discount", boundary="inclusive"):
    program = DiscountProgram.objects.create(category=category, name=name, boundary=boundary)
    for start, percent in tiers:
        DiscountTier.objects.create(program=program, min_lifetime_spend=Money(D(start),
                                    category.shop.currency), percent=D(percent))
    return program


def bonus_shop(code="ua", currency="UAH", tiers=E11_TIERS, point_value=None, expiry=None,
               boundary="inclusive"):
    """A shop whose default category runs a bonus program with `tiers`."""
    shop = ShopFactory(code=code, currency=currency, timezone="Europe/Kyiv")
    member = CategoryFactory(shop=shop, name="Member", rank=1, is_default=True, program="bonus")
    bonus_program(member, *tiers, boundary=boundary)
    if point_value is not None or expiry is not None:
        PointsPolicy.objects.create(
            shop=shop, point_value=Money(D(point_value or "0"), currency), expiry_months=expiry
        )
    return shop


def customer_of(shop, **fields):
    return CustomerFactory(shop=shop, **fields)


def entries(customer):
    return list(
        PointsEntry.objects.filter(customer=customer).order_by("id").values_list("kind", "points")
    )
