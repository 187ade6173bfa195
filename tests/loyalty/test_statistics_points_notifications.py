"""Statistics sections "points earned and spent per week" and "notifications sent and SMS
cost", against hand-computed figures on a small ledger and outbox in Kyiv (UTC+2 in March)."""

import uuid
from datetime import date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from djmoney.money import Money

from loyalty import points, statistics
from loyalty.models import PointsEntry, PointsPolicy
from notifications import selectors
from notifications.models import Message
from shops import services
from tests.factories import CustomerFactory, ShopFactory, order
from tests.loyalty.points_builders import bonus_shop, customer_of

pytestmark = pytest.mark.django_db
KYIV = ZoneInfo("Europe/Kyiv")
WEEKS_10_AND_11 = (date(2026, 3, 2), date(2026, 3, 15))


def local(*args) -> datetime:
    return datetime(*args, tzinfo=KYIV)


def dated(when: datetime) -> None:
    """Move the latest ledger entry to `when` (services write entries at the current time)."""
    PointsEntry.objects.filter(pk=PointsEntry.objects.latest("pk").pk).update(created_at=when)


@pytest.fixture
def shop():
    return bonus_shop(tiers=(("0", "3"),))  # Kyiv, UAH, 3% of every counted order


@pytest.fixture
def ledger(shop):
    """a: 1000 earns 30 (Monday 00:10, Sunday 22:10 UTC: week 10), 200 returned (-6, week 11),
    20 spent (week 11), 7 adjusted on Monday 00:05 after the range.
    b: 500 earns 15 (Sunday 23:50, week 10), cancelled (-15) and completed again (+15) in
    week 11, 5 adjusted by staff in week 10.
    c: 200 earns 6 in January (before the range); they expire on 14 March (week 11)."""
    a, b, c = (customer_of(shop, name=n) for n in "abc")
    first = order(a, "1000.00")
    dated(local(2026, 3, 2, 0, 10))
    services.return_record(order=first, value=D("200.00"))
    dated(local(2026, 3, 9, 10, 0))
    points.points_spend(order=first, points=20)
    dated(local(2026, 3, 11, 9, 0))
    points.points_adjust(customer_ids=[a.pk], points=7, reason="late gift", staff_user=None)
    dated(local(2026, 3, 16, 0, 5))

    second = order(b, "500.00")
    dated(local(2026, 3, 8, 23, 50))
    services.order_update(order=second, status="cancelled")
    dated(local(2026, 3, 10, 12, 0))
    services.order_update(order=second, status="completed")
    dated(local(2026, 3, 10, 13, 0))
    points.points_adjust(customer_ids=[b.pk], points=5, reason="apology", staff_user=None)
    dated(local(2026, 3, 5, 12, 0))

    order(c, "200.00")
    dated(local(2026, 1, 10, 12, 0))
    PointsPolicy.objects.create(shop=shop, expiry_months=1)
    assert points.points_expire(shop=shop, now=local(2026, 3, 14, 12, 0)) == 6
    return statistics.Period(shop, *WEEKS_10_AND_11)


def test_points_earned_net_of_reversals_spent_and_expired_per_local_iso_week(ledger):
    table = statistics.points_per_week(ledger)

    # W10: 30 + 15 earned, 5 adjusted. W11: -6 returned, -15 + 15 cancelled and counted
    # again; 20 spent; 6 expired.
    assert table.rows == [("2026-W10", 45, 0, 0, 5), ("2026-W11", -6, 20, 6, 0)]
    assert table.chart_data()["datasets"] == [
        {"label": "Earned (net of reversals)", "data": [45, -6]},
        {"label": "Spent", "data": [0, 20]},
        {"label": "Expired", "data": [0, 6]},
    ]


def test_points_weeks_without_entries_are_listed_with_zeros(ledger):
    wider = statistics.Period(ledger.shop, date(2026, 2, 25), date(2026, 3, 3))

    assert statistics.points_per_week(wider).rows == [
        ("2026-W09", 0, 0, 0, 0), ("2026-W10", 30, 0, 0, 0)]


def test_points_csv_export(admin_client, ledger):
    response = admin_client.get(reverse("loyalty_statistics"), {
        "shop": ledger.shop.pk, "start": ledger.start, "end": ledger.end,
        "csv": "points_per_week"})

    assert response.content.decode().splitlines() == [
        "Week,Earned (net of reversals),Spent,Expired,Adjusted by staff",
        "2026-W10,45,0,0,5", "2026-W11,-6,20,6,0"]


def message(shop, channel, sent_at, cost=None, status="sent"):
    return Message.objects.create(
        shop=shop, customer=CustomerFactory(shop=shop), event="bulk", channel=channel,
        language="uk", recipient="x", body="Привіт", status=status, sent_at=sent_at,
        cost=Money(D(cost), shop.currency) if cost else None, dedup_key=str(uuid.uuid4()),
    )


@pytest.fixture
def outbox(shop):
    message(shop, "sms", local(2026, 3, 2, 0, 10), "3.03")    # Sunday 22:10 UTC: in range
    message(shop, "sms", local(2026, 3, 15, 23, 50), "1.01")  # the last evening
    message(shop, "sms", local(2026, 3, 16, 0, 5), "2.02")    # after the range
    message(shop, "sms", None, "1.01", status="failed")
    message(shop, "sms", None, "1.01", status="pending")
    message(shop, "email", local(2026, 3, 3, 9, 0))
    message(shop, "email", local(2026, 3, 12, 9, 0))
    message(shop, "email", local(2026, 3, 1, 23, 59))         # before the range
    other = ShopFactory(code="pl", currency="PLN", timezone="Europe/Warsaw")
    message(other, "sms", local(2026, 3, 4, 9, 0), "0.50")
    return statistics.Period(shop, *WEEKS_10_AND_11)


def test_notifications_sent_per_channel_with_the_sms_cost(outbox):
    table = selectors.notifications_sent(outbox)

    assert table.title == "Notifications sent and SMS cost (UAH)"
    assert table.rows == [
        ("Email", 2, None), ("SMS", 2, D("4.04")), ("Webhook (mobile app, chat-bot)", 0, None)]


def test_notifications_csv_export_and_page(admin_client, outbox):
    query = {"shop": outbox.shop.pk, "start": outbox.start, "end": outbox.end}

    csv = admin_client.get(reverse("loyalty_statistics"), {**query, "csv": "notifications_sent"})
    page = admin_client.get(reverse("loyalty_statistics"), query).content.decode()

    assert csv.content.decode().splitlines() == [
        "Channel,Messages sent,SMS cost", "Email,2,", "SMS,2,4.04",
        '"Webhook (mobile app, chat-bot)",0,']
    assert 'id="chart-notifications_sent"' in page
    assert '<td class="number">4.04</td>' in page
