"""Bulk send to a segment: its stored members who consented and have an address, counted
with their SMS cost before confirming; exactly one of category and segment; the segments
offered are the user's shops' only."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from loyalty import segments
from loyalty.models import Segment
from notifications.defaults import LANGUAGES
from notifications.models import BulkSend, Consent, Message
from tests.factories import CustomerFactory, ShopFactory, order
from tests.scoping_world import staff_of

from .conftest import use_sms
from .test_admin import TEXT_150

pytestmark = pytest.mark.django_db


def segment_post(shop, segment, *, category=None, body=TEXT_150, **extra):
    data = {"shop": shop.pk, "segment": segment.pk if segment else "",
            "category": category.pk if category else "", "channel": "sms", "subject_en": ""}
    for lang in LANGUAGES:
        data[f"body_{lang}"] = body
    data.update(extra)
    return data


@pytest.fixture
def without_orders(ladder):
    """The built-in "Customers without orders" of the ladder shop, refreshed: two members
    with a phone, one without, one opted out of SMS; a buyer is not a member."""
    use_sms(ladder.shop)  # the default price: 1.01 UAH per segment
    reached = [CustomerFactory(shop=ladder.shop, name="Olena", phone="+380671111111"),
               CustomerFactory(shop=ladder.shop, name="Ann", phone="+380672222222",
                               language="en")]
    CustomerFactory(shop=ladder.shop, phone="")
    opted_out = CustomerFactory(shop=ladder.shop, phone="+380673333333")
    Consent.objects.create(customer=opted_out, sms=False)
    order(CustomerFactory(shop=ladder.shop, phone="+380674444444"), "100.00")
    segments.segments_refresh(shop=ladder.shop)
    Message.objects.all().delete()  # welcome messages
    segment = Segment.objects.get(shop=ladder.shop, built_in="without_orders")
    assert segment.member_count == 4
    return segment, reached


def test_e12_bulk_sms_to_a_segment_shows_recipients_and_cost_then_sends_to_reachable_members(
    admin_client, ladder, without_orders, django_capture_on_commit_callbacks,
):
    segment, reached = without_orders

    response = admin_client.post(reverse("admin:notifications_bulksend_add"),
                                 segment_post(ladder.shop, segment))

    bulk = BulkSend.objects.get()
    page = admin_client.get(response.url).content.decode().replace("\xa0", " ")
    # 150 Cyrillic characters: 3 segments of 70 UCS-2 characters, 3.03 UAH; two reached.
    assert '<strong class="bulk-recipients">2</strong>' in page
    assert '<strong class="bulk-cost">6.06 UAH</strong>' in page
    assert "Confirm and send to 2 customers" in page
    assert (bulk.segment, bulk.category, bulk.total_cost.amount) == (
        segment, None, Decimal("6.06"))
    assert not Message.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(response.url, segment_post(ladder.shop, segment, _confirm="1"))

    sent = Message.objects.order_by("customer_id")
    assert [(m.customer, m.recipient, m.segments, m.cost.amount) for m in sent] == [
        (c, c.phone, 3, Decimal("3.03")) for c in reached]
    bulk.refresh_from_db()
    assert (bulk.status, bulk.queued) == ("queued", 2)
    changelist = admin_client.get(reverse("admin:notifications_bulksend_changelist"))
    assert "Customers without orders" in changelist.content.decode()


def test_bulk_send_needs_exactly_one_of_category_and_segment(admin_client, ladder, without_orders):
    segment, _ = without_orders
    url = reverse("admin:notifications_bulksend_add")

    both = admin_client.post(url, segment_post(ladder.shop, segment, category=ladder.silver))
    neither = admin_client.post(url, segment_post(ladder.shop, None))

    assert both.context["adminform"].form.errors["segment"] == [
        "Choose either a category or a segment."]
    assert neither.context["adminform"].form.errors["category"] == [
        "Choose either a category or a segment."]
    assert not BulkSend.objects.exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        BulkSend.objects.create(shop=ladder.shop, channel="sms", body_en="x")


def test_segments_offered_are_the_users_shops_and_must_match_the_chosen_shop(
    client, admin_client, ladder, without_orders,
):
    segment, _ = without_orders
    other = ShopFactory(code="pl", currency="PLN")
    segments.segments_ensure_built_in(shop=other)
    foreign = Segment.objects.get(shop=other, built_in="without_orders")
    url = reverse("admin:notifications_bulksend_add")
    client.force_login(staff_of(ladder.shop))

    offered = client.get(url).context["adminform"].form.fields["segment"].queryset
    refused = client.post(url, segment_post(ladder.shop, foreign))
    mismatched = admin_client.post(url, segment_post(ladder.shop, foreign))
    narrowed = admin_client.get(url, {"shop": other.pk})

    assert set(offered) == set(Segment.objects.filter(shop=ladder.shop)) and segment in offered
    assert refused.context["adminform"].form.errors["segment"] == [
        "Select a valid choice. That choice is not one of the available choices."]
    assert mismatched.context["adminform"].form.errors["segment"] == [
        "The segment belongs to another shop."]
    assert set(narrowed.context["adminform"].form.fields["segment"].queryset) == set(
        Segment.objects.filter(shop=other))
    assert not BulkSend.objects.exists()
