"""Statistics figures against hand-computed values on a small fixture; the admin page, its CSV
export and its constant number of queries."""

from datetime import date, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from loyalty import points, segments, services, statistics
from loyalty.models import Category, CategoryChange
from notifications.models import Message
from shops import services as shop_services
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, add_rule, order

pytestmark = pytest.mark.django_db
WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture
def shop():
    return ShopFactory(code="pl", timezone="Europe/Warsaw")


@pytest.fixture
def world(shop, admin_user):
    """Member (default), Silver (1000 in a year), Gold (by hand only).

    A: counted 600 (10 days ago) + 500 (20 days ago) -> Silver.
    B: counted 200.01 (5 days ago), a cancelled 900.
    C: counted 300 (3 days ago) with a 100 return, an unpaid 1000.
    D: no orders.
    E: counted 1000, 40 days ago (outside the last 30 days), moved to Gold by hand.
    """
    member = CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    silver = CategoryFactory(shop=shop, name="Silver", rank=2)
    gold = CategoryFactory(shop=shop, name="Gold", rank=3, auto_enter=False, auto_leave=False)
    add_rule(silver, {"kind": "window_spend", "days": 365, "amount": D(1000)})
    a, b, c, d, e = (CustomerFactory(shop=shop, name=n) for n in "ABCDE")
    order(a, "600.00", days_ago=10)
    order(a, "500.00", days_ago=20)
    order(b, "200.01", days_ago=5)
    order(b, "900.00", days_ago=6, status="cancelled")
    returned = order(c, "300.00", days_ago=3)
    shop_services.return_record(order=returned, value=D("100.00"))
    order(c, "1000.00", days_ago=3, paid=False)
    order(e, "1000.00", days_ago=40)
    services.customer_move(customer=e, category=gold, staff_user=admin_user)
    services.categories_recalculate(shop=shop)
    segments.segments_refresh(shop=shop)
    today = shop.today()
    return statistics.Period(shop, today - timedelta(days=29), today), member, silver, gold


def test_customers_per_category(world):
    period, *_ = world

    table = statistics.customers_per_category(period)

    assert table.rows == [("Gold", 1), ("Silver", 1), ("Member", 3)]


def test_customers_per_segment(world):
    period, *_ = world

    table = statistics.customers_per_segment(period)

    assert table.rows == [
        ("Customers", 4), ("Customers without orders", 1), ("Disabled customers", 0),
        ("First order recently", 2), ("Loyal customers", 1)]


def test_average_counted_order_value_per_category_rounds_once_half_up(world):
    period, *_ = world

    table = statistics.average_order_value_per_category(period)

    # Member: (200.01 + 200.00) / 2 = 200.005 -> 200.01; Gold's order is 40 days old.
    assert table.rows == [
        ("Gold", 0, D("0.00"), None),
        ("Silver", 2, D("1100.00"), D("550.00")),
        ("Member", 2, D("400.01"), D("200.01")),
    ]


def change(shop, customer, when: datetime, direction: int, reason="rule", *, placed=False):
    """A history row from the customer's category (from none: a first placement)."""
    return CategoryChange.objects.create(
        shop=shop, customer=customer, changed_at=when, as_of=when.astimezone(shop.tz).date(),
        direction=direction, reason=reason,
        from_category=None if placed else (
            Category.objects.filter(shop=shop).first() or CategoryFactory(shop=shop)),
    )


def test_moves_per_iso_week_in_the_shops_time_zone(shop):
    customer = CustomerFactory(shop=shop)
    CategoryChange.objects.all().delete()  # the registration row
    local = lambda *args: datetime(*args, tzinfo=WARSAW)  # noqa: E731
    change(shop, customer, local(2026, 3, 1, 23, 59), 1)          # Sunday: week 9
    change(shop, customer, local(2026, 3, 2, 0, 0), 1)            # Monday: week 10
    change(shop, customer, local(2026, 3, 8, 23, 30), -1)         # 22:30 UTC: week 10
    change(shop, customer, local(2026, 3, 9, 0, 30), -1)          # 23:30 UTC Sunday: week 11
    change(shop, customer, local(2026, 3, 9, 10, 0), 1, "manual")  # by staff: a move
    change(shop, customer, local(2026, 3, 10, 10, 0), 0, "locked")  # a lock: no move
    change(shop, customer, local(2026, 3, 10, 11, 0), 1, "registered", placed=True)  # no move
    change(shop, customer, local(2026, 3, 11, 9, 0), 1, placed=True)  # first placement: none
    change(shop, customer, local(2026, 3, 16, 0, 0), -1)          # after the range

    period = statistics.Period(shop, date(2026, 3, 2), date(2026, 3, 15))
    table = statistics.moves_per_week(period)

    assert table.rows == [("2026-W10", 1, 1), ("2026-W11", 1, 1)]
    wider = statistics.moves_per_week(statistics.Period(shop, date(2026, 2, 20), date(2026, 3, 3)))
    assert wider.rows == [("2026-W08", 0, 0), ("2026-W09", 1, 0), ("2026-W10", 1, 0)]


def test_tables_give_chart_data(world):
    period, *_ = world

    chart = statistics.average_order_value_per_category(period).chart_data()

    assert chart == {"type": "bar", "labels": ["Gold", "Silver", "Member"], "datasets": [
        {"label": "Average value", "data": [0, 550.0, 200.01]}]}


def page(client, shop, start, end, **extra):
    return client.get(reverse("loyalty_statistics"),
                      {"shop": shop.pk, "start": start, "end": end, **extra})


def test_page_shows_every_section_with_a_chart(admin_client, world):
    period, *_ = world

    response = page(admin_client, period.shop, period.start, period.end)

    html = response.content.decode()
    assert response.status_code == 200
    for key in ("customers_per_category", "customers_per_segment",
                "average_order_value_per_category", "moves_per_week", "points_per_week",
                "notifications_sent"):
        assert f'id="{key}"' in html
        assert f'id="chart-{key}"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert "<td class=\"number\">550.00</td>" in html


def test_csv_export_of_one_table(admin_client, world):
    period, *_ = world

    response = page(admin_client, period.shop, period.start, period.end,
                    csv="average_order_value_per_category")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="average_order_value_per_category-pl-{period.start}-'
        f'{period.end}.csv"')
    assert response.content.decode().splitlines() == [
        "Category,Counted orders,Total value,Average value",
        "Gold,0,0.00,", "Silver,2,1100.00,550.00", "Member,2,400.01,200.01"]


def test_an_end_before_the_start_is_refused(admin_client, shop):
    response = page(admin_client, shop, "2026-03-10", "2026-03-01")

    assert response.status_code == 200
    assert "The end is before the start." in response.content.decode()
    assert 'id="customers_per_category"' not in response.content.decode()


def test_page_without_parameters_shows_the_last_twelve_weeks(admin_client, shop):
    response = admin_client.get(reverse("loyalty_statistics"))

    assert response.status_code == 200
    assert response.context["form"].cleaned_data["start"] == (
        shop.today() - timedelta(days=83))


def queries(client, shop, start, end) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert page(client, shop, start, end).status_code == 200
    return len(ctx)


def test_page_queries_do_not_grow_with_rows(admin_client, shop):
    member = CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    silver = CategoryFactory(shop=shop, rank=2)
    add_rule(silver, {"kind": "window_spend", "days": 30, "amount": D(50)})
    today = shop.today()

    def grow(n):
        customers = [CustomerFactory(shop=shop) for _ in range(n)]
        for i, customer in enumerate(customers):
            order(customer, f"{10 + i}.00", days_ago=i % 20)
        services.categories_recalculate(shop=shop)
        segments.segments_refresh(shop=shop)
        points.points_adjust(customer_ids=[c.pk for c in customers], points=5,
                             reason="welcome", staff_user=None)
        Message.objects.bulk_create(
            Message(shop=shop, customer=c, event="bulk", channel=channel, language="pl",
                    recipient="x", body="Hej", status="sent", sent_at=timezone.now(),
                    cost=Money(D("0.20"), shop.currency) if channel == "sms" else None,
                    dedup_key=f"grow:{c.pk}:{channel}")
            for c in customers for channel in ("sms", "email")
        )

    grow(3)
    few = queries(admin_client, shop, today - timedelta(days=60), today)
    grow(30)
    many = queries(admin_client, shop, today - timedelta(days=60), today)
    assert member.pk and many == few
    sections = {t.key: t for t in statistics.statistics(
        statistics.Period(shop, today - timedelta(days=60), today))}
    assert sum(row[1] for row in sections["notifications_sent"].rows) == 66  # rows grew
    assert sum(row[4] for row in sections["points_per_week"].rows) == 165
