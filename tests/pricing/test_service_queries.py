"""cart_quote runs a fixed number of queries, whatever the number of lines and configurations."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loyalty.models import Segment
from pricing import selectors
from pricing.engine import DiscountKind, SegmentTier
from pricing.services import cart_quote
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

MODES = ("sum", "sequential", "exclusive_if_higher")


def add_configurations(shop, count, collections, gifts, start=0):
    """``count`` enabled configurations of every kind, tiered ones with three tiers."""
    for i in range(start, start + count):
        mode = MODES[i % 3]
        common = {"name": f"rule {i}", "stacking": mode, "position": i}
        kind = i % 7
        if kind == 0:
            discount = threshold(shop, ("100", "2"), ("300", "4"), ("900", "6"), **common)
            for tier in discount.tiers.all():
                tier.gifts.set(gifts)
        elif kind == 1:
            cumulative(shop, ("0", "1"), ("500", "3"), ("5000", "5"), **common)
        elif kind == 2:
            QuantityDiscountFactory(shop=shop, **common)
        elif kind == 3:
            SpecialOfferFactory(shop=shop, collection=collections[i % len(collections)],
                                buy_quantity=2 + i % 3, **common)
        elif kind == 4:
            CategoryDiscountFactory(shop=shop, **common)
        elif kind == 5:
            LoyaltyCardDiscountFactory(shop=shop, **common)
        else:
            segment(shop, ("50", "5", "0", False), ("150", "0", "10", True),
                    ("500", "0", "12", True), **common)


@pytest.fixture
def world():
    shop = ShopFactory(code="pl", currency="PLN")
    customer = CustomerFactory(shop=shop)
    group = CategoryFactory(shop=shop, program="discount", discount_percent=D("7"))
    customer.category = group
    customer.save(update_fields=["category"])
    LoyaltyCardFactory(customer=customer, percent=D("9"))
    order(customer, "800.00")
    collections = [CollectionFactory(shop=shop) for _ in range(4)]
    products = []
    for i in range(20):
        item = ProductFactory(shop=shop, price=money(shop, 20 + 3 * i),
                              min_price=money(shop, 10 + i))
        item.collections.set(collections[i % 4:i % 4 + 2])
        products.append(item)
    quantity_profile(shop, products[::3], ("2", "3"), ("5", "6"))
    PromoCodeFactory(shop=shop, code="SPRING", percent=D("10"))
    return shop, customer, collections, products


def queries(shop, customer, products, n_lines):
    lines = [(p, 1 + i % 4) for i, p in enumerate(products[:n_lines])]
    with CaptureQueriesContext(connection) as ctx:
        result = cart_quote(shop=shop, customer=customer, lines=lines, promo_code="spring")
    assert len(result.quote.lines) == n_lines
    return len(ctx), result


def test_queries_do_not_grow_with_lines_or_configurations(world):
    shop, customer, collections, products = world
    add_configurations(shop, 10, collections, products[:2])
    few_lines, _ = queries(shop, customer, products, 5)
    many_lines, small = queries(shop, customer, products, 20)
    add_configurations(shop, 40, collections, products[:2], start=10)
    many_rules, large = queries(shop, customer, products, 20)

    assert few_lines == many_lines == many_rules
    assert len(small.quote.breakdown) == 11  # 10 configurations and the code
    assert len(large.quote.breakdown) == 51


def test_query_count_is_documented(world):
    shop, customer, collections, products = world
    add_configurations(shop, 10, collections, products[:2])
    count, _ = queries(shop, customer, products, 5)
    # One read, and no transaction of its own (one statement reads one snapshot).
    assert count == 1


def test_loaded_configurations_carry_their_tiers_and_gifts(world):
    shop, customer, collections, products = world
    add_configurations(shop, 7, collections, products[:2])

    data = selectors.pricing_data(shop=shop, client_type="retail",
                                  product_ids=[products[0].pk, products[1].pk])
    loaded = {d.kind: d for d in data.discounts}

    tiers = loaded[DiscountKind.THRESHOLD].tiers
    assert [(t.min_goods_value, t.percent) for t in tiers] == [
        (D("100.00"), D("2.00")), (D("300.00"), D("4.00")), (D("900.00"), D("6.00"))]
    assert {t.gift_product_ids for t in tiers} == {(products[0].pk, products[1].pk)}
    assert len(loaded[DiscountKind.SEGMENT].tiers) == 3
    assert loaded[DiscountKind.SPECIAL_OFFER].collection == collections[3].pk
    assert set(loaded) == set(DiscountKind) - {DiscountKind.PROMO_CODE}
    profiles = data.profiles
    assert list(profiles) == [products[0].pk]
    assert [t.min_value for t in profiles[products[0].pk].tiers] == [D("2.00"), D("5.00")]


@pytest.mark.parametrize("flag", [True, False])
def test_segment_and_promo_code_flags_and_dates_are_loaded(world, flag):
    shop, customer, collections, products = world
    pros = None if flag else Segment.objects.create(shop=shop, code="pros", name="Pros")
    segment(shop, ("50", "5", "0", flag), name="Flags", earns_points=flag,
            applies_with_promo_code=flag, segment=pros, special_discount=flag)
    PromoCodeFactory(shop=shop, code="DATED", percent=None, amount=money(shop, "7.50"),
                     valid_from=date(2025, 1, 2), valid_until=date(2025, 3, 4),
                     usage_limit=9, usage_limit_per_customer=2, combinable=flag,
                     minimum_order_value=money(shop, "12.34"), times_used=4)

    data = selectors.pricing_data(shop=shop, client_type="retail", promo_code=" dated ",
                                  customer_id=customer.pk, product_ids=[products[0].pk])

    (advantage,) = data.discounts
    assert (advantage.earns_points, advantage.applies_with_promo_code,
            advantage.special_discount) == (flag, flag, flag)
    assert advantage.segment_id == ("*" if flag else pros.pk)
    assert advantage.tiers == (SegmentTier(D("50.00"), D("5.00"), D("0.00"), flag),)
    code = data.promo_code
    assert (code.code, code.percent, code.amount, code.minimum_order_value) == (
        "DATED", None, D("7.50"), D("12.34"))
    assert (code.valid_from, code.valid_until, code.usage_limit,
            code.usage_limit_per_customer, code.combinable) == (
        date(2025, 1, 2), date(2025, 3, 4), 9, 2, flag)
    assert (data.promo_code_uses_total, data.promo_code_uses_by_customer) == (4, 0)
    assert data.collections == {products[0].pk: frozenset({collections[0].pk,
                                                           collections[1].pk})}
