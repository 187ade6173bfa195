"""Segments driven through the admin like a merchant would: a SPEC section 5 example set up
page by page, then priced; built-in segments shown but not editable."""

import pytest
from django.urls import reverse
from djmoney.money import Money

from loyalty import segments
from loyalty.models import Condition, Segment, SegmentRule
from pricing.models import SegmentAdvantage
from pricing.services import cart_quote
from tests.factories import CustomerFactory, ProductFactory, ShopFactory, order
from tests.pricing.factories import money
from tests.pricing.test_admin_forms import configuration, inline, segment_tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return ShopFactory(code="fr", currency="EUR", timezone="Europe/Paris", default_language="fr")


def condition(kind, **values):
    row = {"kind": kind, "operator": "gte", "amount": "", "count": "", "days": "",
           "client_type": "", "text": "", "product": "", "collection": ""}
    row.update(values)
    return row


def test_paris_free_shipping_is_configured_in_the_admin_and_priced(admin_client, shop):
    response = admin_client.post(reverse("admin:loyalty_segment_add"), {
        "shop": shop.pk, "code": "paris-pros", "name_en": "Paris professionals",
        "name": "Paris professionals", "description_en": "",
        **inline("rules", []),
    })
    assert response.status_code == 302, response.context and response.context["errors"]
    paris = Segment.objects.get(code="paris-pros")

    response = admin_client.post(reverse("admin:loyalty_segmentrule_add"), {
        "segment": paris.pk, "name": "Wholesale delivering to Paris",
        **inline("conditions", [condition("client_type", client_type="wholesale"),
                                condition("delivery_city", text="Paris")]),
    })
    assert response.status_code == 302
    assert Condition.objects.filter(rule__segment=paris).count() == 2

    response = admin_client.post(reverse("admin:pricing_segmentadvantage_add"), {
        **configuration(shop, client_type="wholesale", name="Free shipping to Paris",
                        segment=paris.pk, special_discount="on", earns_points="on",
                        applies_with_promo_code="on"),
        **inline("tiers", [segment_tier("0", free=True)]),
    })
    assert response.status_code == 302
    assert SegmentAdvantage.objects.get().segment == paris

    pro = CustomerFactory(shop=shop, client_type="wholesale", city="paris")
    segments.segments_refresh(shop=shop)
    result = cart_quote(shop=shop, customer=pro, lines=[
        (ProductFactory(shop=shop, price=money(shop, "80"), min_price=money(shop, "0")), 1)])
    assert (result.total, result.quote.free_shipping) == (Money("80.00", "EUR"), True)


def test_an_advantage_for_another_shops_segment_is_refused(admin_client, shop):
    other = Segment.objects.create(shop=ShopFactory(code="pl"), code="x", name="Elsewhere")

    response = admin_client.post(reverse("admin:pricing_segmentadvantage_add"), {
        **configuration(shop, segment=other.pk, earns_points="on"),
        **inline("tiers", [segment_tier("0", percent="5")]),
    })

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["segment"] == [
        "Not in this shop: Elsewhere."]
    assert not SegmentAdvantage.objects.exists()


def test_built_in_segment_page_shows_definition_members_and_count(admin_client, shop):
    loyal_customer = CustomerFactory(shop=shop, name="Loyal Lou")
    order(loyal_customer, "10.00", days_ago=50)
    order(loyal_customer, "10.00", days_ago=5)
    segments.segments_refresh(shop=shop)
    loyal = Segment.objects.get(shop=shop, built_in="loyal")

    response = admin_client.get(reverse("admin:loyalty_segment_change", args=[loyal.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Number of counted orders (ever) ≥ 2" in html
    assert "Loyal Lou" in html
    assert f"?segment__id__exact={loyal.pk}\">1</a>" in html
    formset = response.context["inline_admin_formsets"][0]
    assert not formset.has_add_permission and not formset.has_change_permission
    rule = SegmentRule.objects.get(segment=loyal)
    edit = admin_client.post(reverse("admin:loyalty_segmentrule_change", args=[rule.pk]), {
        "segment": loyal.pk, "name": "changed", **inline("conditions", [])})
    assert edit.status_code == 403
    members = admin_client.get(
        reverse("admin:loyalty_segmentmember_changelist"), {"segment__id__exact": loyal.pk})
    assert "Loyal Lou" in members.content.decode()


def test_category_rules_page_lists_no_segment_rules(admin_client, shop):
    segments.segments_ensure_built_in(shop=shop)

    response = admin_client.get(reverse("admin:loyalty_rule_changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count == 0
    assert SegmentRule.objects.count() == 5
