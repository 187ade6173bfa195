"""GET /customers/{external_id}/loyalty: category in the customer's language, only if shown."""

from datetime import timedelta
from decimal import Decimal

import pytest

from loyalty import services
from shops.models import Customer
from tests.factories import CategoryFactory, add_rule, order

pytestmark = pytest.mark.django_db


@pytest.fixture
def ladder(shop):
    member = CategoryFactory(shop=shop, rank=1, is_default=True, name_en="Member",
                             name_pl="Klient", description_en="Welcome")
    silver = CategoryFactory(shop=shop, rank=2, name_en="Silver", name_pl="Srebrny",
                             program="discount", discount_percent=Decimal("5"))
    add_rule(silver, {"kind": "window_spend", "days": 60, "amount": Decimal(1000)},
             {"kind": "window_orders", "days": 60, "count": 2})
    vip = CategoryFactory(shop=shop, rank=3, name_en="VIP", auto_enter=False, auto_leave=False)
    blacklist = CategoryFactory(shop=shop, rank=0, name_en="Blacklist",
                                visible_to_customer=False)
    return member, silver, vip, blacklist


def test_category_in_the_requested_language_with_progress_to_the_next(api, ladder, customer):
    order(customer, "600.00", days_ago=10)

    response = api.get("/customers/C1/loyalty", lang="pl")

    assert response.status_code == 200
    body = response.json()
    assert body["language"] == "pl"
    assert body["category"] == {"name": "Klient", "description": "Welcome", "rank": 1,
                                "program": "none", "discount_percent": None}
    assert (body["points_balance"], body["segments"]) == (0, [])
    assert body["next_category"]["name"] == "Srebrny"
    assert body["next_category"]["discount_percent"] == "5.00"
    assert body["next_category"]["rules"] == [{"holds": False, "conditions": [
        {"condition": "window_spend", "days": 60, "met": False, "measured": "600.00",
         "wanted": "1000.00", "missing": "400.00"},
        {"condition": "window_orders", "days": 60, "met": False, "measured": "1",
         "wanted": "2", "missing": "1"},
    ]}]


def test_without_a_requested_language_the_customers_then_the_shops_is_used(api, ladder,
                                                                          customer):
    # No French names: the shop's default language (pl) is next.
    Customer.objects.filter(pk=customer.pk).update(language="fr")

    body = api.get("/customers/C1/loyalty").json()

    assert body["language"] == "fr"
    assert body["category"]["name"] == "Klient"


def test_an_unknown_language_falls_back_too(api, ladder, customer):
    body = api.get("/customers/C1/loyalty", lang="xx").json()

    assert (body["language"], body["category"]["name"]) == ("pl", "Klient")


def test_a_hidden_category_is_never_shown(api, ladder, customer, admin_user):
    blacklist = ladder[3]
    services.customer_move(customer=customer, category=blacklist, staff_user=admin_user)

    body = api.get("/customers/C1/loyalty").json()

    assert body["category"] is None
    assert "Blacklist" not in str(body)


def test_the_top_reachable_category_has_no_next_and_manual_ones_are_skipped(api, customer,
                                                                           ladder):
    order(customer, "600.00", days_ago=10)
    order(customer, "500.00", days_ago=40)
    services.categories_recalculate(shop=customer.shop)

    body = api.get("/customers/C1/loyalty", lang="en").json()

    assert body["category"]["name"] == "Silver"
    assert body["next_category"] is None  # VIP is granted by hand only


def test_a_locked_customer_has_no_progress_to_show(api, ladder, customer, admin_user):
    services.customer_lock(customer=customer, locked=True, staff_user=admin_user)

    body = api.get("/customers/C1/loyalty").json()

    assert body["category"]["name"] == "Klient"
    assert body["next_category"] is None


def test_points_balance_and_segments_come_from_the_ledger_and_membership(api, ladder, customer):
    from loyalty import points, segments

    points.points_adjust(customer_ids=[customer.pk], points=120, reason="goodwill",
                         staff_user=None)
    order(customer, "600.00", days_ago=10)
    segments.segments_refresh(shop=customer.shop)  # built-ins: one counted order, recent

    body = api.get("/customers/C1/loyalty").json()

    assert body["points_balance"] == 120
    assert body["segments"] == ["customers", "first_order_recently"]


def test_keeping_says_until_when_and_what_keeps_or_moves_up(api, ladder, customer):
    order(customer, "600.00", days_ago=50)
    order(customer, "500.00", days_ago=20)
    today = customer.shop.today()

    body = api.get("/customers/C1/loyalty").json()

    assert body["category"]["rank"] == 2  # Silver: 1,100.00 in 2 orders in 60 days
    # The 600.00 order leaves the 60-day window after today + 10: then 500.00 in 1 order.
    assert body["keeping"] == {
        "keeps_until": (today + timedelta(days=10)).isoformat(),
        "to_keep": {"amount": "500.00", "orders": 1},
        "to_next": None,  # VIP is never entered automatically: no next category
    }


def test_keeping_of_a_default_category_customer(api, ladder, customer):
    order(customer, "600.00", days_ago=10)

    body = api.get("/customers/C1/loyalty").json()

    assert body["keeping"] == {"keeps_until": None, "to_keep": None,
                               "to_next": {"amount": "400.00", "orders": 1}}
