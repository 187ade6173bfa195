"""Every changelist runs a constant number of queries whatever the number of rows, for a
superuser and for a staff user who sees only their shops."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from loyalty import segments, services
from shops.models import ShopStaff
from shops.tokens import api_token_create
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


@pytest.mark.parametrize("name", CHANGELISTS)
def test_changelist_queries_do_not_grow_with_rows(admin_client, name):
    make_rows(5)
    few = queries_for(admin_client, name)
    make_rows(45)
    many = queries_for(admin_client, name)
    assert many == few


@pytest.mark.parametrize("name", CHANGELISTS)
def test_scoped_changelist_queries_do_not_grow_with_rows(client, name):
    ShopFactory(code="elsewhere")  # a shop the user does not see
    user = staff_of(make_rows(5))
    client.force_login(user)
    few = queries_for(client, name)
    ShopStaff.objects.create(user=user, shop=make_rows(45))
    many = queries_for(client, name)
    assert many == few
