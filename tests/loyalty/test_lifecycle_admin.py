"""The lifecycle in the admin: temporary moves and locks with their end date, the grace
period on the customer page, the category form's fixed dates."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from loyalty import services
from loyalty.models import Category, CategoryChange, CustomerLifecycle
from shops.models import Customer
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, add_rule, order

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    shop = ShopFactory(code="pl", timezone="Europe/Warsaw")
    member = CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    gold = CategoryFactory(shop=shop, name="Gold", rank=3, grace_days=14)
    add_rule(gold, {"kind": "window_spend", "days": 30, "amount": Decimal(1000)})
    customer = CustomerFactory(shop=shop, name="Anna")
    return shop, member, gold, Customer.objects.get(pk=customer.pk)


def changelist_post(client, data):
    return client.post(reverse("admin:shops_customer_changelist"), data, follow=True)


def test_move_until_a_date_moves_locks_and_records_the_date(admin_client, setup):
    shop, member, gold, anna = setup
    until = shop.today() + timedelta(days=30)
    page = changelist_post(admin_client, {
        "action": "move_selected", "_selected_action": [anna.pk], "apply": "1",
        "category": gold.pk, "until": until.isoformat(), "note": ""}).content.decode()
    assert f"1 customer moved to Gold until {until.isoformat()}." in page
    anna.refresh_from_db()
    assert (anna.category, anna.category_locked) == (gold, True)
    assert CustomerLifecycle.objects.get(customer=anna).manual_until == until
    assert list(CategoryChange.objects.filter(customer=anna, until=until)
                .values_list("reason", flat=True).order_by("id")) == ["manual", "locked"]
    text = admin_client.get(reverse("admin:shops_customer_change", args=[anna.pk])) \
        .content.decode()
    assert (f"Held in Gold by hand until {until.isoformat()}: from that date the rules "
            "apply again.") in text


def test_move_until_today_is_refused_and_nothing_changes(admin_client, setup):
    shop, member, gold, anna = setup
    today = shop.today()
    page = changelist_post(admin_client, {
        "action": "move_selected", "_selected_action": [anna.pk], "apply": "1",
        "category": gold.pk, "until": today.isoformat(), "note": ""}).content.decode()
    assert f"The end date must be in the future (after {today.isoformat()})." in page
    anna.refresh_from_db()
    assert (anna.category, anna.category_locked) == (member, False)


def test_lock_until_action(admin_client, setup):
    shop, member, gold, anna = setup
    until = shop.today() + timedelta(days=3)
    page = changelist_post(admin_client, {
        "action": "lock_until_selected", "_selected_action": [anna.pk], "apply": "1",
        "until": until.isoformat()}).content.decode()
    assert f"1 customer locked until {until.isoformat()}." in page
    change = CategoryChange.objects.filter(customer=anna).first()
    assert (change.reason, change.until) == ("locked", until)


def test_customer_page_says_in_grace_until(admin_client, setup):
    shop, member, gold, anna = setup
    order(anna, "1200.00", days_ago=40)
    Customer.objects.filter(pk=anna.pk).update(category=gold)
    since = shop.today() - timedelta(days=3)
    CustomerLifecycle.objects.create(customer=anna, grace_category=gold, grace_since=since)
    text = admin_client.get(reverse("admin:shops_customer_change", args=[anna.pk])) \
        .content.decode()
    until = since + timedelta(days=14)
    assert f"In grace in Gold until {until.isoformat()}: no longer qualifies" in text
    services.categories_recalculate(shop=shop)
    assert Customer.objects.get(pk=anna.pk).category == gold


def test_category_form_normalises_and_checks_fixed_dates(admin_client, setup):
    shop, member, gold, anna = setup
    url = reverse("admin:loyalty_category_change", args=[gold.pk])
    data = {
        "shop": shop.pk, "name_en": "Gold", "rank": 3, "program": "none",
        "grace_days": 14, "reevaluate_on": "07-01,1-1", "auto_enter": "on", "auto_leave": "on",
        "visible_to_customer": "on", "rules-TOTAL_FORMS": 1, "rules-INITIAL_FORMS": 1,
        "rules-0-id": gold.rules.get().pk, "rules-0-category": gold.pk,
        "rules-0-name": "rule",
    }
    admin_client.post(url, data)
    assert Category.objects.get(pk=gold.pk).reevaluate_on == "01-01, 07-01"
    page = admin_client.post(url, {**data, "reevaluate_on": "02-30"}).content.decode()
    assert "is not a month-day date such as 01-01" in page
    assert Category.objects.get(pk=gold.pk).reevaluate_on == "01-01, 07-01"
