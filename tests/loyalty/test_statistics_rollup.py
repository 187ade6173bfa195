"""The statistics page from the daily rollup shows the same figures as counting the source
rows, before and after orders, returns and moves arrive (through the intake drain and the
services), and the nightly step closes the days since its last run."""

import importlib
import io
import time
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.utils import timezone

from loyalty import points, rollup, selectors, services, statistics
from loyalty.models import CategoryChange, DailyActivity, DailyOrders, PointsEntry
from shops import services as shop_services
from shops.models import Customer
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, add_rule, order

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin_user):
    """Member (default), Silver (1000 in a year), Gold (by hand only).

    A: counted 600 (10 days ago) + 500 (20 days ago) -> Silver.
    B: counted 200.01 (5 days ago), a cancelled 900.
    C: counted 300 (3 days ago) with a 100 return, an unpaid 1000.
    D: no orders yet.
    Moves and 5 welcome points per customer, dated 2 days ago.
    """
    shop = ShopFactory(code="pl", timezone="Europe/Warsaw")
    member = CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    silver = CategoryFactory(shop=shop, name="Silver", rank=2)
    gold = CategoryFactory(shop=shop, name="Gold", rank=3, auto_enter=False, auto_leave=False)
    add_rule(silver, {"kind": "window_spend", "days": 365, "amount": D(1000)})
    a, b, c, d = (CustomerFactory(shop=shop, name=n) for n in "ABCD")
    orders = {
        "a600": order(a, "600.00", days_ago=10),
        "a500": order(a, "500.00", days_ago=20),
        "b200": order(b, "200.01", days_ago=5),
        "c300": order(c, "300.00", days_ago=3),
    }
    order(b, "900.00", days_ago=6, status="cancelled")
    order(c, "1000.00", days_ago=3, paid=False)
    shop_services.return_record(order=orders["c300"], value=D("100.00"))
    services.categories_recalculate(shop=shop)
    points.points_adjust(customer_ids=[a.pk, b.pk, c.pk, d.pk], points=5, reason="welcome",
                         staff_user=None)
    two_days_ago = shop.today() - timedelta(days=2)
    for model, field in ((CategoryChange, "changed_at"), (PointsEntry, "created_at")):
        for row in model.objects.filter(shop=shop):
            setattr(row, field, getattr(row, field).replace(
                year=two_days_ago.year, month=two_days_ago.month, day=two_days_ago.day))
            row.save(update_fields=[field])
    customers = dict(zip("abcd", (a, b, c, d), strict=True))
    return shop, customers, orders, {"member": member, "silver": silver, "gold": gold}


def figures(shop, start, end, *, rollup=True):
    period = statistics.Period(shop, start, end, rollup=rollup)
    return {t.key: t.rows for t in statistics.statistics(period)}


def assert_same_as_counting(shop, days=30):
    today = shop.today()
    for start, end in ((today - timedelta(days=days - 1), today),
                       (today - timedelta(days=400), today - timedelta(days=1)),
                       (today - timedelta(days=4), today - timedelta(days=4))):
        assert figures(shop, start, end) == figures(shop, start, end, rollup=False)


def aov(shop):
    today = shop.today()
    period = statistics.Period(shop, today - timedelta(days=29), today)
    assert period.through == today - timedelta(days=1)  # read from the rollup
    return statistics.average_order_value_per_category(period).rows


def test_the_rollup_gives_the_figures_of_the_source_rows(world):
    shop, *_ = world

    call_command("statistics_rollup", "--shop", "pl", stdout=io.StringIO())

    assert aov(shop) == [
        ("Gold", 0, D("0.00"), None),
        ("Silver", 2, D("1100.00"), D("550.00")),
        ("Member", 2, D("400.01"), D("200.01")),  # (200.01 + 200.00) / 2, half up
    ]
    assert sum(DailyOrders.objects.values_list("orders", flat=True)) == 4
    assert sum(DailyActivity.objects.values_list("adjusted", flat=True)) == 20
    assert_same_as_counting(shop)


def test_orders_returns_and_moves_after_the_rollup_keep_the_same_figures(world, admin_user):
    shop, customers, orders, categories = world
    rollup.rollup_rebuild(shop)

    shop_services.return_record(order=orders["a600"], value=D("50.00"))  # a rolled-up day
    shop_services.order_update(order=orders["b200"], status="cancelled")  # stops counting
    services.customer_move(customer=customers["c"], category=categories["gold"],
                           staff_user=admin_user)  # takes their rolled-up 200.00 along
    order(customers["d"], "80.00", days_ago=0)  # today: not rolled up yet

    assert aov(shop) == [
        ("Gold", 1, D("200.00"), D("200.00")),
        ("Silver", 2, D("1050.00"), D("525.00")),
        ("Member", 1, D("80.00"), D("80.00")),
    ]
    assert_same_as_counting(shop)


def test_a_move_of_a_customer_back_and_forth_changes_nothing(world, admin_user):
    shop, customers, _orders, categories = world
    rollup.rollup_rebuild(shop)
    before = list(DailyOrders.objects.order_by("day", "category_id")
                  .values_list("day", "category_id", "orders", "total"))

    services.customer_move(customer=customers["a"], category=categories["gold"],
                           staff_user=admin_user)
    services.customer_move(customer=customers["a"], category=categories["silver"],
                           staff_user=admin_user)

    after = list(DailyOrders.objects.order_by("day", "category_id").exclude(orders=0)
                 .values_list("day", "category_id", "orders", "total"))
    assert after == before
    assert_same_as_counting(shop)


def test_a_deleted_category_counts_as_no_category(world, admin_user):
    shop, customers, _orders, categories = world
    services.customer_move(customer=customers["b"], category=categories["gold"],
                           staff_user=admin_user)
    rollup.rollup_rebuild(shop)

    categories["gold"].delete()

    assert aov(shop)[-1] == ("(no category)", 1, D("200.01"), D("200.01"))
    assert_same_as_counting(shop)


def test_the_nightly_step_closes_the_days_since_its_last_run(world):
    shop, customers, orders, _categories = world
    today = shop.today()
    rollup.rollup_rebuild(shop, through=today - timedelta(days=8))
    shop_services.return_record(order=orders["a500"], value=D("10.00"))  # 20 days ago

    assert rollup.statistics_rollup_nightly() == {"pl": str(today - timedelta(days=1))}

    assert rollup.rolled_up_through(shop) == today - timedelta(days=1)
    assert aov(shop)[1] == ("Silver", 2, D("1090.00"), D("545.00"))
    assert_same_as_counting(shop)


def test_a_time_zone_change_sets_the_rollup_aside_until_rebuilt(world):
    shop, *_ = world
    rollup.rollup_rebuild(shop)
    shop.timezone = "America/New_York"
    shop.save(update_fields=["timezone"])

    assert rollup.rolled_up_through(shop) is None
    assert_same_as_counting(shop)
    rollup.statistics_rollup_nightly()
    assert rollup.rolled_up_through(shop) == shop.today() - timedelta(days=1)
    assert_same_as_counting(shop)


def give(customer, n):
    points.points_adjust(customer_ids=[customer.pk], points=n, reason="bonus", staff_user=None)


def today_row(shop):
    return (DailyActivity.objects.filter(shop=shop, day=shop.today())
            .values_list("moves_up", "adjusted").first())


def test_today_so_far_is_rolled_up_and_the_page_counts_only_what_came_after(world, admin_user):
    shop, customers, _orders, categories = world
    rollup.rollup_rebuild(shop)
    services.customer_move(customer=customers["b"], category=categories["gold"],
                           staff_user=admin_user)
    give(customers["a"], 7)

    reached = rollup.rollup_today_advance(shop, margin=timedelta(0))

    assert reached is not None and rollup.rollup_state(shop)[1] == reached
    assert today_row(shop) == (1, 7)
    give(customers["c"], 3)
    services.customer_move(customer=customers["c"], category=categories["gold"],
                           staff_user=admin_user)
    assert today_row(shop) == (1, 7)  # written after the moment: counted live by the page
    today = shop.today()
    day = figures(shop, today, today)
    assert day["moves_per_week"][0][1:] == (2, 0)
    assert day["points_per_week"][0][4] == 10
    assert_same_as_counting(shop)

    rollup.rollup_today_advance(shop, margin=timedelta(0))  # adds, never counts twice
    assert today_row(shop) == (2, 10)
    assert_same_as_counting(shop)


def test_an_advance_up_to_a_moment_already_reached_changes_nothing(world):
    shop, customers, *_ = world
    rollup.rollup_rebuild(shop)
    give(customers["a"], 7)
    reached = rollup.rollup_today_advance(shop, margin=timedelta(0))

    # The beat task's margin puts its moment before the one the night reached.
    assert rollup.rollup_today_advance(shop) == reached
    assert today_row(shop) == (0, 7)
    assert_same_as_counting(shop)


def test_the_nightly_step_counts_today_again_after_its_own_rows(world):
    shop, customers, *_ = world
    rollup.rollup_rebuild(shop, through=shop.today() - timedelta(days=3))
    give(customers["a"], 7)
    rollup.rollup_today_advance(shop, margin=timedelta(0))
    give(customers["b"], 4)

    rollup.statistics_rollup_nightly()

    assert rollup.rolled_up_through(shop) == shop.today() - timedelta(days=1)
    assert today_row(shop) == (0, 11)
    assert_same_as_counting(shop)


def test_an_open_transaction_holds_the_moment_back(world):
    import psycopg
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL: other sessions' open transactions")
    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432,
        user=settings["USER"], password=settings["PASSWORD"] or None, dbname=settings["NAME"],
    )
    try:
        started = other.execute("SELECT now()").fetchone()[0]  # opens its transaction

        assert rollup.settled_before(timedelta(0)) <= started - rollup.CLOCK_SKEW
    finally:
        other.close()
    for _attempt in range(50):  # the closed session leaves pg_stat_activity soon after
        if rollup.settled_before(timedelta(0)) > started:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the moment stayed behind a closed transaction")


def test_a_night_the_beat_task_overtook_counts_today_again(world):
    """The night's expiry entries carry the night's start: when the beat task's moment
    passed it while they were being written, the nightly step counts today from scratch."""
    shop, customers, *_ = world
    rollup.rollup_rebuild(shop, through=shop.today() - timedelta(days=1))
    night_started = timezone.now()
    give(customers["a"], 7)
    reached = rollup.rollup_today_advance(shop, margin=timedelta(0))
    give(customers["c"], 5)  # an entry of the night, stamped with its start, committed late
    late = PointsEntry.objects.filter(customer=customers["c"]).latest("pk")
    PointsEntry.objects.filter(pk=late.pk).update(created_at=night_started)
    give(customers["b"], 4)
    assert reached > night_started

    rollup.rollup_close_days(shop, night_since=night_started)

    assert today_row(shop) == (0, 16)
    assert_same_as_counting(shop)


def test_a_night_before_the_beat_task_adds_only_what_came_since(world):
    shop, customers, *_ = world
    rollup.rollup_rebuild(shop, through=shop.today() - timedelta(days=1))
    give(customers["a"], 7)
    rollup.rollup_today_advance(shop, margin=timedelta(0))
    night_started = timezone.now()
    give(customers["b"], 4)

    rollup.rollup_close_days(shop, night_since=night_started)

    assert today_row(shop) == (0, 11)
    assert rollup.rollup_state(shop)[1] > night_started
    assert_same_as_counting(shop)


def test_a_first_placement_by_the_rules_is_no_move(world):
    shop, _customers, _orders, categories = world
    rollup.rollup_rebuild(shop)
    imported = CustomerFactory(shop=shop, name="E")
    Customer.objects.filter(pk=imported.pk).update(category=None)  # came without a category
    order(imported, "1500.00", days_ago=1)  # the drain places them in Silver

    assert list(CategoryChange.objects.filter(customer=imported).exclude(reason="registered")
                .values_list("from_category", "to_category", "direction")) == [
        (None, categories["silver"].pk, 1)]
    rollup.rollup_today_advance(shop, margin=timedelta(0))
    today = shop.today()
    assert figures(shop, today, today)["moves_per_week"][0][1:] == (0, 0)
    assert today_row(shop) in (None, (0, 0))
    assert selectors.moves_since([shop.pk], timezone.now() - timedelta(days=1)) == {}
    assert_same_as_counting(shop)


def test_the_migration_counts_the_rolled_up_moves_again_without_placements(world):
    shop, customers, _orders, categories = world
    rollup.rollup_rebuild(shop)
    two_days_ago = shop.today() - timedelta(days=2)
    assert DailyActivity.objects.get(shop=shop, day=two_days_ago).moves_up == 1  # A to Silver
    DailyActivity.objects.filter(shop=shop).update(moves_up=5, moves_down=3)  # counted before
    recount = importlib.import_module(
        "loyalty.migrations.0025_statistics_moves_exclude_first_placements").recount_moves

    recount(django_apps, None)

    assert list(DailyActivity.objects.filter(shop=shop, day=two_days_ago)
                .values_list("moves_up", "moves_down")) == [(1, 0)]
    assert_same_as_counting(shop)
