"""The admin's huge lists as a merchant sees them: bounded counts, the date drill-down from
the first to the last date, shipping methods from recent orders, search by customer, and a
customer's page listing the latest history rows with a link to all."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from loyalty import points
from shops import admin_lists
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    shop = ShopFactory(code="pl")
    CategoryFactory(shop=shop, rank=1, is_default=True)
    return shop


def orders_page(client, **query):
    return client.get(reverse("admin:shops_order_changelist"), query)


def numbers(response) -> list[str]:
    return sorted(o.number for o in response.context["cl"].result_list)


def test_a_search_finds_orders_by_number_or_by_part_of_the_customers_email(admin_client, shop):
    ann = CustomerFactory(shop=shop, email="ann.kowalska@example.com")
    bob = CustomerFactory(shop=shop, email="bob@example.com")
    order(ann, "10.00", number="A-1")
    order(ann, "20.00", number="A-2")
    order(bob, "30.00", number="B-1")

    assert numbers(orders_page(admin_client, q="KOWALSKA")) == ["A-1", "A-2"]
    assert numbers(orders_page(admin_client, q="B-1")) == ["B-1"]
    assert numbers(orders_page(admin_client, q="B-")) == []  # numbers match exactly
    assert numbers(orders_page(admin_client, q=ann.external_id)) == ["A-1", "A-2"]


def test_the_shipping_method_filter_offers_the_methods_of_recent_orders(admin_client, shop):
    customer = CustomerFactory(shop=shop)
    order(customer, "10.00", number="D-1", shipping_method="dpd")
    order(customer, "10.00", number="I-1", shipping_method="inpost")
    order(customer, "10.00", number="N-1")

    html = orders_page(admin_client).content.decode()
    assert "?shipping_method=dpd" in html and "?shipping_method=inpost" in html
    assert numbers(orders_page(admin_client, shipping_method="dpd")) == ["D-1"]


def test_the_date_drill_down_spans_the_first_to_the_last_order_without_distinct(
    admin_client, shop
):
    customer = CustomerFactory(shop=shop)
    order(customer, "10.00", days_ago=800)
    order(customer, "10.00", days_ago=1)
    first = (timezone.localtime() - timedelta(days=800)).year
    last = (timezone.localtime() - timedelta(days=1)).year

    with CaptureQueriesContext(connection) as ctx:
        html = orders_page(admin_client).content.decode()

    for year in range(first, last + 1):  # a year between them is offered too
        assert f"?placed_at__year={year}" in html
    assert not [q for q in ctx.captured_queries if "trunc" in q["sql"].lower()]


def test_a_filtered_count_stops_at_the_cap_and_says_more_than(admin_client, shop, monkeypatch):
    monkeypatch.setattr(admin_lists, "COUNT_CAP", 3)
    for _ in range(5):
        CustomerFactory(shop=shop)

    response = admin_client.get(reverse("admin:shops_customer_changelist"),
                                {"shop__id__exact": shop.pk})

    assert "more than 3 customers" in response.content.decode()
    assert len(response.context["cl"].result_list) == 5  # the page itself is whole


def test_an_unfiltered_count_is_exact_below_the_estimate_threshold(admin_client, shop):
    for _ in range(4):
        CustomerFactory(shop=shop)

    html = admin_client.get(reverse("admin:shops_customer_changelist")).content.decode()

    assert "4 customers" in html and "about" not in html.split('class="paginator"')[1]


def test_a_customers_page_lists_the_latest_twenty_ledger_rows_and_links_to_all(
    admin_client, shop
):
    customer = CustomerFactory(shop=shop)
    for i in range(25):
        points.points_adjust(customer_ids=[customer.pk], points=i + 1, reason=f"gift {i}",
                             staff_user=None)

    response = admin_client.get(reverse("admin:shops_customer_change", args=[customer.pk]))

    html = response.content.decode()
    ledger = next(f for f in response.context["inline_admin_formsets"]
                  if f.formset.model.__name__ == "PointsEntry")
    assert [form.instance.reason for form in ledger.formset.initial_forms][:2] == [
        "gift 24", "gift 23"]
    assert len(ledger.formset.initial_forms) == 20
    assert "The latest 20 of 25." in html
    assert (f'{reverse("admin:loyalty_pointsentry_changelist")}'
            f'?customer__id__exact={customer.pk}') in html


def test_the_points_ledger_is_searched_by_order_number_or_customer(admin_client, shop):
    """The order number is looked up among orders first and matched by id (an OR across
    the join to orders scanned the whole ledger: 24 s at 8.5M entries)."""
    from loyalty.models import PointsEntry, PointsKind

    ann = CustomerFactory(shop=shop, email="ann.kowalska@example.com")
    bob = CustomerFactory(shop=shop, email="bob@example.com")
    for customer, value, number in ((ann, "100.00", "A-1"), (bob, "200.00", "B-1")):
        PointsEntry.objects.create(shop=shop, customer=customer, kind=PointsKind.EARNED,
                                   points=5, order=order(customer, value, number=number))
    url = reverse("admin:loyalty_pointsentry_changelist")

    def found(q):
        return sorted((e.customer.email, e.order.number if e.order else None)
                      for e in admin_client.get(url, {"q": q}).context["cl"].result_list)

    assert found("B-1") == [("bob@example.com", "B-1")]
    assert found("kowalska") == [("ann.kowalska@example.com", "A-1")]
    assert found("C-9") == []
