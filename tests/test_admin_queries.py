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

from loyalty import segments, services
from shops.models import Shop, ShopStaff
from shops.tokens import api_token_create
from tests.conftest import shared_world
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, add_rule, order
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
    for _ in range(n):
        order(CustomerFactory(shop=shop), "10.00")
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


def queries_for(client, name):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(f"admin:{name}_changelist"))
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
    large = make_rows(45)
    ShopFactory(code="elsewhere")
    return ChangelistWorld(few=few, small=small, large=large)


@dataclass
class ChangelistWorld:
    few: dict[str, int]  # a superuser's queries per changelist with only `small`'s rows
    small: Shop  # 5 rows of each
    large: Shop  # 45 rows of each


class TestChangelistQueries:
    world = shared_world(_changelist_world, scope="class")

    @pytest.mark.parametrize("name", CHANGELISTS)
    def test_changelist_queries_do_not_grow_with_rows(self, admin_client, world, name):
        few = world.few[name]  # counted with 5 rows
        many = queries_for(admin_client, name)
        assert many == few

    @pytest.mark.parametrize("name", CHANGELISTS)
    def test_scoped_changelist_queries_do_not_grow_with_rows(self, client, world, name):
        user = staff_of(world.small)  # and not of the shop "elsewhere"
        client.force_login(user)
        few = queries_for(client, name)
        ShopStaff.objects.create(user=user, shop=world.large)
        many = queries_for(client, name)
        assert many == few
