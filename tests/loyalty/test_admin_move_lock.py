"""Manual moves offer "and lock" (on by default); the history says so. The dry-run preview
never says anything was saved. Statistics without dates uses the default range."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from loyalty import services
from loyalty.models import CategoryChange
from shops.models import Customer
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, add_rule, order

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    shop = ShopFactory(code="pl")
    default = CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    silver = CategoryFactory(shop=shop, name="Silver", rank=2)
    rule = add_rule(silver, {"kind": "window_spend", "days": 30, "amount": Decimal(5000)},
                    name="Big spenders")
    poor = CustomerFactory(shop=shop, name="Poor")
    order(poor, "10.00", days_ago=2)
    services.categories_recalculate(shop=shop)
    return shop, default, silver, rule, Customer.objects.get(pk=poor.pk)


def move(client, customer, category, **extra):
    return client.post(reverse("admin:shops_customer_changelist"), {
        "action": "move_selected", "_selected_action": [customer.pk], "apply": "1",
        "category": category.pk, "note": "deal", **extra}, follow=True)


def test_move_form_offers_lock_ticked_with_a_hint(admin_client, setup):
    customer = setup[4]
    page = admin_client.post(reverse("admin:shops_customer_changelist"), {
        "action": "move_selected", "_selected_action": [customer.pk]}).content.decode()
    assert re.search(r'<input type="checkbox" name="lock"[^>]*checked', page)
    assert "recalculations (the nightly one too) do not move locked customers" in page
    assert "Silver · pl" in page  # the category labelled with its shop


def test_move_and_lock_keeps_the_customer_through_the_next_recalculation(
        admin_client, admin_user, setup):
    shop, default, silver, rule, customer = setup
    response = move(admin_client, customer, silver, lock="on")
    assert "1 customer moved to Silver and locked." in response.content.decode()
    customer.refresh_from_db()
    assert (customer.category, customer.category_locked) == (silver, True)
    locked, moved = CategoryChange.objects.filter(customer=customer).order_by("-id")[:2]
    assert (moved.reason, moved.staff_user, moved.note) == ("manual", admin_user, "deal")
    assert (locked.reason, locked.staff_user) == ("locked", admin_user)
    services.categories_recalculate(shop=shop)
    customer.refresh_from_db()
    assert customer.category == silver  # the rules would put them back in Member
    history = admin_client.get(reverse("admin:shops_customer_change", args=[customer.pk]))
    assert "Automatic movement locked" in history.content.decode()


def test_move_without_lock_lets_the_rules_move_them_back(admin_client, setup):
    shop, default, silver, rule, customer = setup
    response = move(admin_client, customer, silver)  # the box unticked: not posted
    assert "1 customer moved to Silver." in response.content.decode()
    customer.refresh_from_db()
    assert (customer.category, customer.category_locked) == (silver, False)
    services.categories_recalculate(shop=shop)
    customer.refresh_from_db()
    assert customer.category == default


def test_lock_on_a_customer_already_in_the_category_locks_only(admin_client, setup):
    shop, default, silver, rule, customer = setup
    move(admin_client, customer, default, lock="on")
    customer.refresh_from_db()
    assert customer.category_locked
    assert not CategoryChange.objects.filter(customer=customer, reason="manual").exists()
    assert CategoryChange.objects.filter(customer=customer, reason="locked").count() == 1


def test_preview_page_does_not_say_the_rule_was_saved(admin_client, setup):
    shop, default, silver, rule, customer = setup
    data = {
        "category": silver.pk, "name": "New rule",
        "conditions-TOTAL_FORMS": "1", "conditions-INITIAL_FORMS": "0",
        "conditions-MIN_NUM_FORMS": "0", "conditions-MAX_NUM_FORMS": "1000",
        "conditions-0-kind": "window_spend", "conditions-0-operator": "gte",
        "conditions-0-amount": "5", "conditions-0-days": "30", "_preview": "1",
    }
    response = admin_client.post(reverse("admin:loyalty_rule_add"), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "nothing has been saved" in html
    assert "successfully" not in html
    assert not rule.category.rules.filter(name="New rule").exists()
    # Nor on the next page.
    assert "successfully" not in admin_client.get(reverse("admin:index")).content.decode()


def test_statistics_with_a_shop_only_uses_the_default_range(admin_client, setup):
    shop = setup[0]
    response = admin_client.get(reverse("loyalty_statistics"), {"shop": shop.pk})
    html = response.content.decode()
    assert "This field is required" not in html
    form = response.context["form"]
    assert form.is_valid()
    assert (form.cleaned_data["end"] - form.cleaned_data["start"]).days == 83
    assert response.context["tables"]
    assert f"shop={shop.pk}" in response.context["query"]
    assert "start=" in response.context["query"]
