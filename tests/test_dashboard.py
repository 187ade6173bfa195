"""The admin's home page: per shop the user sees, customers per category, moves of the last
7 days, the last and next recalculation, messages waiting and failed, links to every tool;
a constant number of queries whatever the data."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from loyalty import services
from loyalty.models import RecalculationRun
from notifications.models import Message
from shops.models import ShopStaff
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, add_rule, order
from tests.scoping_world import staff_of

pytestmark = pytest.mark.django_db


def shop_with(code, n, *, fail_messages=0):
    shop = ShopFactory(code=code, name=f"Shop {code}")
    CategoryFactory(shop=shop, rank=1, is_default=True, name=f"Member {code}")
    gold = CategoryFactory(shop=shop, rank=2, name=f"Gold {code}")
    add_rule(gold, {"kind": "window_spend", "days": 30, "amount": Decimal(100)})
    for i in range(n):
        order(CustomerFactory(shop=shop), "150.00" if i % 2 else "10.00", days_ago=2)
    services.categories_recalculate(shop=shop)  # moves the half who spent 150 up to Gold
    failed = list(Message.objects.filter(shop=shop).values_list("pk", flat=True)[:fail_messages])
    Message.objects.filter(pk__in=failed).update(status="failed")
    return shop


def home(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response, len(ctx)


def test_home_shows_each_shop_with_counts_moves_runs_and_messages(admin_client):
    shop = shop_with("pl", 6, fail_messages=1)
    response, _ = home(admin_client)
    rows = {r["shop"].code: r for r in response.context["shop_rows"]}
    row = rows["pl"]
    assert [(e["category"].name, e["customers"]) for e in row["categories"]] == [
        ("Gold pl", 3), ("Member pl", 3)]
    assert row["customers"] == 6
    from loyalty.models import CategoryChange
    ups = CategoryChange.objects.filter(shop=shop, direction=1, to_category__name="Gold pl")
    assert ups.count() == 3  # three moved up to Gold; landing in Member is no move
    assert row["moves"] == {"up": 3, "down": 0}
    assert row["last_run"].status == "finished"
    waiting = Message.objects.filter(shop=shop, status__in=("pending", "sending")).count()
    assert row["messages"] == {"waiting": waiting, "failed": 1}
    page = response.content.decode()
    assert "Shop pl · pl" in page
    for url in (reverse("loyalty_statistics") + f"?shop={shop.pk}",
                reverse("admin:pricing_price_cart") + f"?shop={shop.pk}",
                reverse("shops_import") + f"?shop={shop.pk}",
                reverse("admin:notifications_bulksend_add") + f"?shop={shop.pk}"):
        assert f'href="{url}"' in page, url
    assert 'name="action" value="recalculate_now"' in page
    assert "1 failed" in page
    # The nightly recalculation seeded by the migration.
    assert response.context["nightly"]["enabled"] is True
    assert response.context["nightly"]["when"] is not None
    assert "Next nightly recalculation of every shop" in page


def test_home_counts_moves_of_the_last_seven_days_only(admin_client):
    shop = shop_with("pl", 4)
    from django.utils import timezone

    from loyalty.models import CategoryChange
    CategoryChange.objects.filter(shop=shop).update(
        changed_at=timezone.now() - timezone.timedelta(days=8))
    response, _ = home(admin_client)
    assert response.context["shop_rows"][0]["moves"] == {"up": 0, "down": 0}


def test_home_shows_a_running_recalculation_with_its_progress(admin_client):
    shop = shop_with("pl", 2)
    RecalculationRun.objects.create(shop=shop, as_of="2026-01-01", total=10, examined=4)
    response, _ = home(admin_client)
    assert response.context["shop_rows"][0]["last_run"].status == "running"
    assert "4 of 10 examined" in response.content.decode()


def test_home_recalculate_now_button_starts_the_shops_recalculation(admin_client):
    shop = shop_with("pl", 2)
    before = RecalculationRun.objects.filter(shop=shop).count()
    response = admin_client.post(reverse("admin:shops_shop_changelist"), {
        "action": "recalculate_now", "_selected_action": [shop.pk],
        "next": reverse("admin:index")})
    assert response.status_code == 302 and response.url == reverse("admin:index")
    assert RecalculationRun.objects.filter(shop=shop).count() == before + 1
    page = admin_client.get(response.url).content.decode()
    assert "Recalculation of Shop pl started" in page


def test_recalculate_now_never_redirects_outside(admin_client):
    shop = shop_with("pl", 1)
    response = admin_client.post(reverse("admin:shops_shop_changelist"), {
        "action": "recalculate_now", "_selected_action": [shop.pk],
        "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url.startswith("/admin/shops/shop/")


def test_staff_home_shows_only_their_shops(client):
    mine, other = shop_with("pl", 2), shop_with("cz", 2)
    client.force_login(staff_of(mine))
    response, _ = home(client)
    assert [r["shop"].code for r in response.context["shop_rows"]] == ["pl"]
    page = response.content.decode()
    assert "Gold cz" not in page and "Shop cz" not in page
    assert other.pk


def test_home_queries_do_not_grow_with_shops_or_customers(admin_client):
    shop_with("a", 2, fail_messages=1)
    _, few = home(admin_client)
    for code in ("b", "c", "d"):
        shop_with(code, 8, fail_messages=2)
    _, many = home(admin_client)
    assert many == few


def test_staff_home_queries_do_not_grow(client):
    user = staff_of(shop_with("a", 2))
    client.force_login(user)
    _, few = home(client)
    for code in ("b", "c"):
        ShopStaff.objects.create(user=user, shop=shop_with(code, 8, fail_messages=1))
    _, many = home(client)
    assert many == few


@pytest.mark.django_db
def test_the_next_nightly_pass_is_shown_at_the_minute_its_crontab_fires():
    from datetime import UTC, datetime

    from django_celery_beat.models import PeriodicTask

    from loyalty import selectors

    task = PeriodicTask.objects.select_related("crontab").get(name=selectors.NIGHTLY_TASK_NAME)
    task.crontab.minute, task.crontab.hour, task.crontab.timezone = "0", "3", "UTC"
    task.crontab.save()

    nightly = selectors.next_nightly_recalculation(datetime(2026, 12, 3, 13, 7, 21, 123456, UTC))

    assert nightly["when"] == datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
