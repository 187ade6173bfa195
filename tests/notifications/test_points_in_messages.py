"""Messages carry the points figures from the ledger (E11's program, a Ukrainian shop)."""

import pytest

from loyalty import points
from loyalty import services as loyalty
from notifications.models import Message
from tests.factories import CategoryFactory, order
from tests.loyalty.points_builders import bonus_shop, customer_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return bonus_shop()  # 2% under 1000 UAH lifetime spend, 3% from 1000, 5% from 3000


def test_order_completed_message_shows_points_earned_and_balance(shop):
    customer = customer_of(shop, language="en")
    points.points_adjust(customer_ids=[customer.pk], points=7, reason="welcome gift",
                         staff_user=None)

    placed = order(customer, "1000.00")  # at 0 lifetime spend: 2% = 20 points

    thanks = Message.objects.get(customer=customer, event="order_completed", order=placed)
    assert "It earned you 20 points; your balance is 27." in thanks.body


def test_category_message_shows_each_customers_balance(shop):
    silver = CategoryFactory(shop=shop, name="Silver", rank=2)
    rich, poor = customer_of(shop, language="en"), customer_of(shop, language="en")
    points.points_adjust(customer_ids=[rich.pk], points=150, reason="goodwill", staff_user=None)

    for customer in (rich, poor):
        loyalty.customer_move(customer=customer, category=silver, staff_user=None)

    up = {m.customer_id: m.body for m in Message.objects.filter(event="category_up")}
    assert "Your points balance: 150." in up[rich.pk]
    assert "Your points balance: 0." in up[poor.pk]
