"""The customer page says until when the customer keeps their category and what they need."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from loyalty.keeping_text import day_text
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, add_rule, order

pytestmark = pytest.mark.django_db


def test_customer_page_shows_keeps_until_to_keep_and_to_next(admin_client):
    shop = ShopFactory(code="k1", currency="PLN", default_language="en")
    CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    add_rule(CategoryFactory(shop=shop, name="Gold", rank=2),
             {"kind": "window_spend", "days": 60, "amount": Decimal(1000)})
    add_rule(CategoryFactory(shop=shop, name="Platinum", rank=3),
             {"kind": "window_spend", "days": 60, "amount": Decimal(2000)})
    customer = CustomerFactory(shop=shop)
    order(customer, "400.00", days_ago=50)
    order(customer, "800.00", days_ago=20)

    page = admin_client.get(reverse("admin:shops_customer_change", args=[customer.pk]))

    text = page.content.decode()
    until = day_text(shop.today() + timedelta(days=10))
    assert f"Qualifies for Gold until {until} if they buy nothing more." in text
    assert "To keep it after that: 200.00 PLN." in text
    assert "To reach Platinum: 800.00 PLN." in text
