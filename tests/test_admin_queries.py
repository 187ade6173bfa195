"""Every changelist runs a constant number of queries whatever the number of rows, for a
superuser and for a staff user who sees only their shops."""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from loyalty import segments, services
from shops.models import Collection, Shop, ShopStaff
from shops.tokens import api_token_create
from tests.conftest import shared_world
from tests.factories import (
    CategoryFactory,
    CustomerFactory,
    ProductFactory,
    ShopFactory,
    add_rule,
    order,
)
from tests.scoping_world import staff_of

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "shops_shop", "shops_collection", "shops_customer", "shops_product", "shops_order",
    "loyalty_category", "loyalty_rule", "loyalty_categorychange", "loyalty_recalculationrun",
    "loyalty_bonusprogram", "loyalty_discountprogram", "loyalty_pointsentry",
    "loyalty_pointspolicy",
    "loyalty_segment", "loyalty_segmentrule", "loyalty_segmentmember",
    "notifications_messagetemplate", "notifications_message", "notifications_channelsettings",
    "notifications_bulksend",
    "shops_apitoken",
]


def make_rows(n):
    shop = ShopFactory()
    default = CategoryFactory(shop=shop, rank=1, is_default=True)
    silver = CategoryFactory(shop=shop, rank=2)
    add_rule(silver, {"kind": "window_spend", "days": 30, "amount": Decimal(1)})
    for i in range(n):
        order(CustomerFactory(shop=shop), "10.00", shipping_method=("dpd", "inpost")[i % 2])
    services.categories_recalculate(shop=shop)  # writes category messages, too
    segments.segments_refresh(shop=shop)
    notification_rows(shop, silver, n)
    for i in range(n):
        api_token_create(shop=shop, name=f"token {i}")
    assert default.pk
    return shop


def notification_rows(shop, category, n):
    from loyalty.models import Segment
    from notifications.models import BulkSend, ChannelSettings, MessageTemplate

    ChannelSettings.objects.create(shop=shop, sms_enabled=True)
    segment = Segment.objects.filter(shop=shop).first()  # bulk sends to segments list too
    for i in range(n):
        BulkSend.objects.create(shop=shop, category=category, channel="sms", body_en=f"b{i}")
        BulkSend.objects.create(shop=shop, segment=segment, channel="sms", body_en=f"s{i}")
    MessageTemplate.objects.create(shop=shop, event="registered", channel="sms", body_en="Hi")


#: Searches, filters and date drill-downs of the huge lists (changelist, query string).
PATHS = [
    ("shops_customer", "q=example"),
    ("shops_customer", "q=C1 someone"),
    ("shops_customer", "registered_at__year=2026"),
    ("shops_order", "q=O1"),
    ("shops_order", "q=example"),
    ("shops_order", "shipping_method=dpd"),
    ("shops_order", "placed_at__year=2026"),
    ("shops_order", "placed_at__year=2026&placed_at__month=3"),
    ("loyalty_pointsentry", "q=example"),
    ("loyalty_pointsentry", "created_at__year=2026"),
    ("loyalty_categorychange", "q=example"),
    ("notifications_message", "q=example"),
    ("shops_intakeevent", "q=O1"),
]


def queries_for(client, name, query=""):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"{reverse(f'admin:{name}_changelist')}?{query}")
    assert response.status_code == 200
    return len(ctx)


def _changelist_world():
    """Built once for both tests below: the superuser's counts with 5 rows, then 45 rows
    more in another shop, and a shop nobody is bound to."""
    small = make_rows(5)
    admin = User.objects.create_superuser("admin", "admin@example.com", "password")
    few = {}
    for name in CHANGELISTS:
        client = Client()  # as admin_client: a fresh client, force-logged in
        client.force_login(admin)
        few[name] = queries_for(client, name)
    for name, query in PATHS:
        client = Client()
        client.force_login(admin)
        few[(name, query)] = queries_for(client, name, query)
    large = make_rows(45)
    ShopFactory(code="elsewhere")
    return ChangelistWorld(few=few, small=small, large=large)


@dataclass
class ChangelistWorld:
    few: dict  # a superuser's queries per changelist (and path) with only `small`'s rows
    small: Shop  # 5 rows of each
    large: Shop  # 45 rows of each


class TestChangelistQueries:
    world = shared_world(_changelist_world, scope="class")

    @pytest.mark.parametrize("name", CHANGELISTS)
    def test_changelist_queries_do_not_grow_with_rows(self, admin_client, world, name):
        few = world.few[name]  # counted with 5 rows
        many = queries_for(admin_client, name)
        assert many == few

    @pytest.mark.parametrize(("name", "query"), PATHS)
    def test_search_filter_and_drill_down_queries_do_not_grow_with_rows(
        self, admin_client, world, name, query
    ):
        assert queries_for(admin_client, name, query) == world.few[(name, query)]

    @pytest.mark.parametrize(("name", "query"), PATHS)
    def test_scoped_search_and_filter_queries_do_not_grow_with_rows(
        self, client, world, name, query
    ):
        user = staff_of(world.small)
        client.force_login(user)
        few = queries_for(client, name, query)
        ShopStaff.objects.create(user=user, shop=world.large)
        assert queries_for(client, name, query) == few

    @pytest.mark.parametrize("name", CHANGELISTS)
    def test_scoped_changelist_queries_do_not_grow_with_rows(self, client, world, name):
        user = staff_of(world.small)  # and not of the shop "elsewhere"
        client.force_login(user)
        few = queries_for(client, name)
        ShopStaff.objects.create(user=user, shop=world.large)
        many = queries_for(client, name)
        assert many == few


# --- change pages ---------------------------------------------------------------------------
# Each builder makes, in a new shop, the object of one change page with ``n`` rows in each of
# its inlines (and in whatever else the page lists), and returns the page's URL.


def _order_page(n):
    from shops import services as shops_services

    shop = ShopFactory()
    customer = CustomerFactory(shop=shop)
    lines = [shops_services.LineInput(product=ProductFactory(shop=shop), quantity=1,
                                      unit_price=Decimal(10)) for _ in range(n)]
    placed = shops_services.order_record(
        shop=shop, number=f"N{shop.pk}", customer=customer, placed_at=timezone.now(),
        lines=lines, status="completed", paid_in_full=True,
    )
    for _ in range(n):
        shops_services.return_record(order=placed, value=Decimal("0.50"))
    return shop, reverse("admin:shops_order_change", args=[placed.pk])


def _customer_page(n):
    from loyalty import points

    shop = ShopFactory()
    member = CategoryFactory(shop=shop, rank=1, is_default=True)
    silver = CategoryFactory(shop=shop, rank=2)
    add_rule(silver, {"kind": "window_spend", "days": 30, "amount": Decimal(1)})
    customer = CustomerFactory(shop=shop)
    for i in range(n):
        order(customer, "10.00")
        services.customer_move(customer=customer, category=(member, silver)[i % 2],
                               staff_user=None, note=f"move {i}")
        points.points_adjust(customer_ids=[customer.pk], points=1, reason=f"gift {i}",
                             staff_user=None)
    return shop, reverse("admin:shops_customer_change", args=[customer.pk])


def _category_page(n):
    shop = ShopFactory()
    category = CategoryFactory(shop=shop)
    for i in range(n):
        add_rule(category, {"kind": "window_spend", "days": 30, "amount": Decimal(i)},
                 {"kind": "bought_product", "product": ProductFactory(shop=shop)},
                 name=f"rule {i}")
    return shop, reverse("admin:loyalty_category_change", args=[category.pk])


def _conditions(n, shop):
    collection = Collection.objects.create(shop=shop, code=f"c{shop.pk}", name="Tees")
    return [{"kind": "bought_collection", "collection": collection} if i % 2
            else {"kind": "bought_product", "product": ProductFactory(shop=shop)}
            for i in range(n)]


def _rule_page(n):
    shop = ShopFactory()
    rule = add_rule(CategoryFactory(shop=shop), *_conditions(n, shop))
    return shop, reverse("admin:loyalty_rule_change", args=[rule.pk])


def _segment_rule_page(n):
    from loyalty.models import Condition, Segment, SegmentRule

    shop = ShopFactory()
    segment = Segment.objects.create(shop=shop, code=f"s{shop.pk}", name_en="Fans")
    rule = SegmentRule.objects.create(segment=segment, name="fans")
    for spec in _conditions(n, shop):
        Condition.objects.create(rule=rule, **spec)
    return shop, reverse("admin:loyalty_segmentrule_change", args=[rule.pk])


def _segment_page(n):
    from loyalty.models import Condition, Segment, SegmentRule

    shop = ShopFactory()
    segment = Segment.objects.create(shop=shop, code=f"s{shop.pk}", name_en="Fans")
    for i in range(n):
        rule = SegmentRule.objects.create(segment=segment, name=f"rule {i}")
        Condition.objects.create(rule=rule, kind="lifetime_spend", amount=Decimal(i))
    return shop, reverse("admin:loyalty_segment_change", args=[segment.pk])


def _template_page(n):
    from notifications.models import MessageTemplate

    shop = ShopFactory()
    CategoryFactory(shop=shop, rank=1, is_default=True)
    template = MessageTemplate.objects.create(shop=shop, event="registered", channel="email",
                                              subject_en="Hi", body_en="Hi {{ customer_name }}")
    for _ in range(n):  # each registration writes a message from the template
        CustomerFactory(shop=shop)
    return shop, reverse("admin:notifications_messagetemplate_change", args=[template.pk])


def _bulk_send(n, *, confirmed):
    from notifications import services as notification_services
    from notifications.models import BulkSend, ChannelSettings

    shop = ShopFactory()
    ChannelSettings.objects.create(shop=shop, email_enabled=True)
    member = CategoryFactory(shop=shop, rank=1, is_default=True, visible_to_customer=True)
    for _ in range(n):
        CustomerFactory(shop=shop)
    bulk = notification_services.bulk_send_prepare(bulk=BulkSend(
        shop=shop, category=member, channel="email", subject_en="News",
        body_en="News for {{ customer_name }}",
    ))
    if confirmed:
        notification_services.bulk_send_confirm(bulk=bulk, staff_user=None)
        notification_services.bulk_send_queue(bulk_id=bulk.pk)
    return shop, reverse("admin:notifications_bulksend_change", args=[bulk.pk])


def _tiers(n):
    return [(str(10 * i), str(i % 50)) for i in range(n)]


def _bonus_program_page(n):
    from tests.loyalty.points_builders import bonus_program

    shop = ShopFactory()
    program = bonus_program(CategoryFactory(shop=shop, program="bonus"), *_tiers(n))
    return shop, reverse("admin:loyalty_bonusprogram_change", args=[program.pk])


def _threshold_page(n):
    from pricing.models import ThresholdTier
    from tests.pricing.factories import threshold

    shop = ShopFactory()
    discount = threshold(shop, *_tiers(n))
    for tier in ThresholdTier.objects.filter(discount=discount):
        tier.gifts.add(ProductFactory(shop=shop), ProductFactory(shop=shop))
    return shop, reverse("admin:pricing_thresholddiscount_change", args=[discount.pk])


def _quantity_profile_page(n):
    from tests.pricing.factories import quantity_profile

    shop = ShopFactory()
    profile = quantity_profile(shop, [ProductFactory(shop=shop) for _ in range(n)],
                               *((str(i + 1), str(i % 50)) for i in range(n)))
    return shop, reverse("admin:pricing_quantityprofile_change", args=[profile.pk])


def _shop_page(n):
    from django.contrib.auth.models import User

    shop = ShopFactory()
    for i in range(n):
        ShopStaff.objects.create(shop=shop, user=User.objects.create_user(
            f"staff{shop.pk}-{i}", is_staff=True))
    return shop, reverse("admin:shops_shop_change", args=[shop.pk])


def _user_page(n):
    from django.contrib.auth.models import User

    user = User.objects.create_user(f"u{User.objects.count()}", is_staff=True)
    shops = [ShopFactory() for _ in range(n)]
    for shop in shops:
        ShopStaff.objects.create(shop=shop, user=user)
    return shops[0], reverse("admin:auth_user_change", args=[user.pk])


CHANGE_PAGES = {
    "order": _order_page,
    "customer": _customer_page,
    "category": _category_page,
    "rule": _rule_page,
    "segment": _segment_page,
    "segment rule": _segment_rule_page,
    "template": _template_page,
    "bulk send draft": lambda n: _bulk_send(n, confirmed=False),
    "bulk send confirmed": lambda n: _bulk_send(n, confirmed=True),
    "bonus program": _bonus_program_page,
    "threshold discount": _threshold_page,
    "quantity profile": _quantity_profile_page,
    "shop": _shop_page,
}
FEW, MANY = 2, 12


def page_queries(client, url):
    client.get(url)  # warm the caches (content types, site) the first page fills
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


@pytest.mark.parametrize("page", [*CHANGE_PAGES, "staff user"])
def test_change_page_queries_do_not_grow_with_inline_rows(admin_client, page):
    build = CHANGE_PAGES.get(page, _user_page)  # a user's shops: superusers only
    _, few_url = build(FEW)
    _, many_url = build(MANY)
    few = page_queries(admin_client, few_url)
    assert page_queries(admin_client, many_url) == few


@pytest.mark.parametrize("page", CHANGE_PAGES)
def test_scoped_change_page_queries_do_not_grow_with_inline_rows(client, page):
    ShopFactory(code="elsewhere")  # a shop the user does not see
    few_shop, few_url = CHANGE_PAGES[page](FEW)
    many_shop, many_url = CHANGE_PAGES[page](MANY)
    client.force_login(staff_of(few_shop, many_shop))
    few = page_queries(client, few_url)
    assert page_queries(client, many_url) == few


def test_order_page_shows_each_lines_product_from_one_lookup(admin_client):
    from shops.models import Order

    _, url = _order_page(3)
    page = admin_client.get(url).content.decode()
    for line in Order.objects.get().lines.select_related("product__shop"):
        label = f"{line.product} · {line.product.shop.code}"  # choices name their shop
        assert f'<option value="{line.product_id}" selected>{label}</option>' in page
