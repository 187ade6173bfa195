"""Two shops with one of everything the admin shows, and a staff user of the first."""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Permission, User
from djmoney.money import Money

from loyalty import points, segments
from loyalty import services as loyalty_services
from loyalty.models import PointsPolicy, SimulationRun, SimulationStatus
from notifications.models import BulkSend, ChannelSettings, Message, MessageTemplate
from pricing.services import cart_quote, order_confirm_discounts
from shops.models import Collection, Return, ShopStaff
from shops.tokens import api_token_create
from tests.factories import CategoryFactory, CustomerFactory, ProductFactory, ShopFactory, add_rule
from tests.factories import order as make_order
from tests.loyalty.points_builders import bonus_program, discount_program
from tests.pricing.factories import (
    CategoryDiscountFactory,
    LoyaltyCardDiscountFactory,
    LoyaltyCardFactory,
    PromoCodeFactory,
    QuantityDiscountFactory,
    SpecialOfferFactory,
    cumulative,
    quantity_profile,
    segment,
    threshold,
)


def build_shop(code: str, currency: str) -> dict:
    """One shop with a row in every shop-owned admin; names carry the shop code."""
    shop = ShopFactory(code=code, name=f"Shop {code}", currency=currency)
    member = CategoryFactory(shop=shop, rank=1, is_default=True, name=f"Member {code}")
    silver = CategoryFactory(shop=shop, rank=2, name=f"Silver {code}")
    add_rule(silver, {"kind": "window_spend", "days": 30, "amount": Decimal(1)},
             name=f"Rule {code}")
    collection = Collection.objects.create(shop=shop, code=f"tees-{code}", name=f"Tees {code}")
    product = ProductFactory(shop=shop, sku=f"SKU-{code}", name=f"Product {code}",
                             price=Money(Decimal("100.00"), currency))
    product.collections.add(collection)
    customer = CustomerFactory(shop=shop, external_id=f"C-{code}", name=f"Customer {code}")
    order = make_order(customer, "100.00", product=product, number=f"O-{code}")
    Return.objects.create(order=order, value=Money(Decimal("1.00"), currency),
                          reference=f"R-{code}")
    loyalty_services.categories_recalculate(shop=shop)
    threshold(shop, ("50", "5"), name=f"Threshold {code}")
    cumulative(shop, ("0", "1"), name=f"Cumulative {code}")
    segment(shop, ("50", "5", "0", False), name=f"Segment {code}")
    QuantityDiscountFactory(shop=shop, name=f"Quantity {code}")
    SpecialOfferFactory(shop=shop, name=f"Offer {code}", collection=collection)
    CategoryDiscountFactory(shop=shop, name=f"Category discount {code}")
    LoyaltyCardDiscountFactory(shop=shop, name=f"Card discount {code}")
    quantity_profile(shop, [product], ("2", "5"))
    LoyaltyCardFactory(customer=customer, number=f"CARD-{code}")
    PromoCodeFactory(shop=shop, code=f"CODE-{code}", name=f"Code {code}")
    quote = cart_quote(shop=shop, customer=customer, lines=[(product, 1)],
                       promo_code=f"CODE-{code}")
    order_confirm_discounts(order=make_order(customer, "100.00", product=product,
                                             number=f"P-{code}"), quote=quote)
    api_token_create(shop=shop, name=f"Token {code}")
    _points_segments_and_messages(shop, member, customer)
    return {"shop": shop, "member": member, "silver": silver, "product": product,
            "customer": customer, "order": order, "collection": collection}


def _points_segments_and_messages(shop, member, customer) -> None:
    gold = CategoryFactory(shop=shop, rank=3, name=f"Gold {shop.code}", program="bonus")
    bonus_program(gold, ("0", "2"), name=f"Bonus {shop.code}")
    vip = CategoryFactory(shop=shop, rank=4, name=f"VIP {shop.code}", program="discount",
                          discount_percent=Decimal(10))
    discount_program(vip, ("0", "10"), name=f"Discount {shop.code}")
    PointsPolicy.objects.create(shop=shop, point_value=Money(Decimal("0.10"), shop.currency))
    points.points_adjust(customer_ids=[customer.pk], points=10, reason="gift", staff_user=None)
    segments.segments_refresh(shop=shop)  # the built-in segments, their rules and members
    ChannelSettings.objects.create(shop=shop)
    MessageTemplate.objects.create(shop=shop, event="registered", channel="sms",
                                   body_en=f"Hi from {shop.code}")
    BulkSend.objects.create(shop=shop, category=member, channel="email",
                            subject_en="News", body_en=f"News {shop.code}")
    assert Message.objects.filter(shop=shop).exists()  # the welcome message
    today = shop.today()
    SimulationRun.objects.create(
        shop=shop, first_week_end=today - timedelta(days=84), last_week_end=today,
        status=SimulationStatus.FINISHED, weeks_total=13, weeks_done=13,
    )


def staff_of(*shops, username="ala", perms=None) -> User:
    """An active staff user bound to ``shops`` with every permission of our three apps
    (or only ``perms``), superuser-only things aside."""
    user = User.objects.create_user(username, password="pw", is_staff=True)
    for shop in shops:
        ShopStaff.objects.create(user=user, shop=shop)
    permissions = Permission.objects.filter(content_type__app_label__in=[
        "shops", "loyalty", "pricing", "notifications"])
    if perms is not None:
        permissions = permissions.filter(codename__in=perms)
    user.user_permissions.add(*permissions)
    return User.objects.get(pk=user.pk)
