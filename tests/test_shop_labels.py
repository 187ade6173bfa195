"""Shops told apart: choices, filters and autocompletes that can hold several shops' objects
label each with its shop ("Gold · pl") and narrow to the chosen shop."""

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from loyalty.models import Category, Rule
from notifications.models import BulkSend
from pricing.models import OrderDiscount, PromoCodeUse
from shops.models import Customer, Product
from tests.factories import CategoryFactory, CustomerFactory, ProductFactory, ShopFactory, add_rule
from tests.scoping_world import staff_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops():
    result = {}
    for code in ("pl", "cz"):
        shop = ShopFactory(code=code, name=f"Shop {code}")
        CategoryFactory(shop=shop, rank=1, is_default=True, name="Member")
        gold = CategoryFactory(shop=shop, rank=2, name="Gold")
        add_rule(gold, {"kind": "window_spend", "days": 30, "amount": Decimal(100)})
        CustomerFactory(shop=shop, name="Michał Dąbrowski", external_id=f"C-{code}")
        ProductFactory(shop=shop, sku=f"TEE-{code}", name="Tee")
        result[code] = shop
    return result


def filter_choices(response, parameter):
    for spec in response.context["cl"].filter_specs:
        if getattr(spec, "lookup_kwarg", None) == parameter:
            return sorted(label for _, label in spec.lookup_choices)
    raise AssertionError(parameter)


def test_customers_category_filter_shows_the_shop_and_follows_the_shop_filter(
        admin_client, shops):
    url = reverse("admin:shops_customer_changelist")
    every = admin_client.get(url)
    assert filter_choices(every, "category__id__exact") == [
        "Gold · cz", "Gold · pl", "Member · cz", "Member · pl"]
    one = admin_client.get(url, {"shop__id__exact": shops["pl"].pk})
    assert filter_choices(one, "category__id__exact") == ["Gold · pl", "Member · pl"]


def test_scoped_staff_filter_shows_only_their_shops_categories(client, shops):
    client.force_login(staff_of(shops["pl"]))
    response = client.get(reverse("admin:shops_customer_changelist"))
    assert filter_choices(response, "category__id__exact") == ["Gold · pl", "Member · pl"]


def autocomplete(client, app_label, model_name, field_name, term="", **extra):
    response = client.get(reverse("admin:autocomplete"), {
        "app_label": app_label, "model_name": model_name, "field_name": field_name,
        "term": term, **extra})
    assert response.status_code == 200, response.content
    return sorted(r["text"] for r in json.loads(response.content)["results"])


def test_rule_category_autocomplete_shows_the_shop(admin_client, shops):
    assert autocomplete(admin_client, "loyalty", "rule", "category", "Gold") == [
        "Gold · cz", "Gold · pl"]
    form = admin_client.get(reverse("admin:loyalty_rule_change", args=[
        Rule.objects.filter(category__shop=shops["pl"]).get().pk])).content.decode()
    assert "Gold · pl" in form  # the chosen category, as shown before any search


def test_price_a_cart_searches_only_the_chosen_shop(admin_client, shops):
    pl = shops["pl"]
    assert autocomplete(admin_client, PromoCodeUse._meta.app_label, "promocodeuse",
                        "customer", "Dąbrowski") == [
        "Michał Dąbrowski (C-cz) · cz", "Michał Dąbrowski (C-pl) · pl"]
    assert autocomplete(admin_client, "pricing", "promocodeuse", "customer", "Dąbrowski",
                        shop=pl.pk) == ["Michał Dąbrowski (C-pl) · pl"]
    assert autocomplete(admin_client, OrderDiscount._meta.app_label, "orderdiscount",
                        "product", "Tee", shop=pl.pk) == ["TEE-pl Tee · pl"]
    page = admin_client.get(reverse("admin:pricing_price_cart"), {"shop": pl.pk})
    assert page.context["form"]["shop"].value() == str(pl.pk)
    assert "patron/shop_choices.js" in page.content.decode()


def test_a_staff_users_autocomplete_with_another_shop_finds_nothing(client, shops):
    client.force_login(staff_of(shops["pl"]))
    assert autocomplete(client, "pricing", "promocodeuse", "customer", "Dąbrowski",
                        shop=shops["cz"].pk) == []
    assert autocomplete(client, "pricing", "promocodeuse", "customer", "Dąbrowski") == [
        "Michał Dąbrowski (C-pl) · pl"]


def test_bulk_send_targets_show_the_shop_and_carry_it_for_the_page(admin_client, shops):
    page = admin_client.get(reverse("admin:notifications_bulksend_add")).content.decode()
    for code in ("pl", "cz"):
        gold = Category.objects.get(shop=shops[code], name="Gold")
        assert f'data-shop="{shops[code].pk}"' in page
        assert f'value="{gold.pk}" data-shop="{shops[code].pk}">Gold · {code}</option>' in page
    assert "patron/shop_choices.js" in page
    assert BulkSend._meta.get_field("segment")


def test_a_posted_target_of_another_shop_is_refused(admin_client, shops):
    gold_cz = Category.objects.get(shop=shops["cz"], name="Gold")
    response = admin_client.post(reverse("admin:notifications_bulksend_add"), {
        "shop": shops["pl"].pk, "category": gold_cz.pk, "channel": "sms", "body_en": "Hi"})
    assert "The category belongs to another shop." in response.content.decode()
    assert not BulkSend.objects.exists()
    assert Customer.objects.count() == 2 and Product.objects.count() == 2
