"""The recalculation service against the database."""

import threading
from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django_celery_beat.models import PeriodicTask

from loyalty import figures as figures_db
from loyalty import services
from loyalty.models import CategoryChange, RecalculationRun
from shops import services as shop_services
from shops.models import Customer
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, add_rule, order

# The orders' own effects (the intake drain) stay off: these tests measure the full run, not by
# each order's recalculation.
pytestmark = [pytest.mark.django_db, pytest.mark.intake_on_commit]


@pytest.fixture
def shop():
    return ShopFactory(code="pl", timezone="Europe/Warsaw")


@pytest.fixture
def ladder(shop):
    default = CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    silver = CategoryFactory(shop=shop, name="Silver", rank=2)
    add_rule(silver, {"kind": "window_spend", "days": 30, "amount": Decimal(1000)})
    return default, silver


def category_of(customer):
    return Customer.objects.get(pk=customer.pk).category


def test_second_run_changes_nothing(shop, ladder):
    default, silver = ladder
    for amount in ("999.99", "1000.00", "5000.00"):
        order(CustomerFactory(shop=shop), amount, days_ago=2)
    first = services.categories_recalculate(shop=shop)
    history = CategoryChange.objects.count()
    second = services.categories_recalculate(shop=shop)
    assert (first.moved_up, first.unchanged) == (2, 1)
    assert second.as_dict() == {
        "examined": 3, "moved_up": 0, "moved_down": 0, "unchanged": 3, "skipped_locked": 0
    }
    assert CategoryChange.objects.count() == history


def test_small_batches_give_the_same_moves_as_one_batch(shop, ladder):
    default, silver = ladder
    customers = [CustomerFactory(shop=shop) for _ in range(7)]
    for i, customer in enumerate(customers):
        order(customer, 400 * i, days_ago=3)
    summary = services.categories_recalculate(shop=shop, batch_size=2)
    assert summary.examined == 7
    assert [category_of(c) for c in customers] == [default] * 3 + [silver] * 4
    run = RecalculationRun.objects.get()
    assert (run.status, run.total, run.examined, run.moved_up) == ("finished", 7, 7, 4)


def test_an_order_cancelled_after_the_candidates_were_found_is_read_afresh(
    shop, ladder, monkeypatch
):
    default, silver = ladder
    customers = [CustomerFactory(shop=shop) for _ in range(4)]
    orders = [order(customer, "1500.00", days_ago=2) for customer in customers]
    find = figures_db.Snapshot.candidates

    def then_cancel(snapshot, lo, hi):  # the whole shop's candidates, then a cancellation
        found = find(snapshot, lo, hi)
        shop_services.order_update(order=orders[3], status="cancelled")
        return found

    monkeypatch.setattr(figures_db.Snapshot, "candidates", then_cancel)
    summary = services.categories_recalculate(shop=shop, batch_size=2)
    assert [category_of(c) for c in customers] == [silver] * 3 + [default]
    assert (summary.examined, summary.moved_up, summary.unchanged) == (4, 3, 1)


def test_dry_run_writes_nothing_and_reports_a_sample(shop, ladder):
    default, silver = ladder
    customer = CustomerFactory(shop=shop)
    order(customer, "1500.00", days_ago=1)
    before = CategoryChange.objects.count()
    summary = services.categories_recalculate(shop=shop, dry_run=True)
    assert summary.moved_up == 1
    assert [(d.customer_id, d.to_id) for d in summary.sample] == [(customer.pk, silver.pk)]
    assert category_of(customer) == default
    assert CategoryChange.objects.count() == before
    assert not RecalculationRun.objects.exists()


def test_command_prints_the_summary_and_dry_run_changes_nothing(shop, ladder):
    order(CustomerFactory(shop=shop), "1500.00", days_ago=1)
    out = StringIO()
    call_command("recalculate_categories", "--shop", "pl", "--dry-run", stdout=out)
    assert out.getvalue() == (
        "[dry run] pl: examined=1 moved_up=1 moved_down=0 unchanged=0 skipped_locked=0\n"
    )
    out = StringIO()
    call_command("recalculate_categories", "--shop", "pl", stdout=out)
    assert "moved_up=1" in out.getvalue()


def test_as_of_date_measures_the_window_back_from_that_day(shop, ladder):
    default, silver = ladder
    customer = CustomerFactory(shop=shop)
    placed = order(customer, "1500.00", days_ago=40)
    as_of = placed.placed_at.astimezone(shop.tz).date() + timedelta(days=10)
    summary = services.categories_recalculate(shop=shop, as_of=as_of, dry_run=True)
    assert summary.moved_up == 1
    assert services.categories_recalculate(shop=shop, dry_run=True).moved_up == 0
    before = placed.placed_at.astimezone(shop.tz).date() - timedelta(days=1)
    assert services.categories_recalculate(shop=shop, as_of=before, dry_run=True).moved_up == 0


def test_window_counts_in_the_shop_time_zone(shop, ladder):
    """An order at 00:30 Warsaw time 30 days ago is inside a 30-day window even though it
    was still the previous day in UTC; one at 23:30 the day before is outside."""
    default, silver = ladder
    today = shop.today()
    midnight = datetime.combine(today - timedelta(days=30), datetime.min.time(), shop.tz)
    inside = CustomerFactory(shop=shop)
    outside = CustomerFactory(shop=shop)
    for customer, moment in (
        (inside, midnight + timedelta(minutes=30)),
        (outside, midnight - timedelta(minutes=30)),
    ):
        placed = order(customer, "1000.00")
        placed.placed_at = moment
        placed.save(update_fields=["placed_at"])
    services.categories_recalculate(shop=shop)
    assert category_of(inside) == silver
    assert category_of(outside) == default


def test_orders_that_do_not_count_are_ignored(shop, ladder):
    default, silver = ladder
    customer = CustomerFactory(shop=shop)
    order(customer, "900.00", days_ago=1)
    order(customer, "500.00", days_ago=1, paid=False)
    order(customer, "500.00", days_ago=1, status="cancelled")
    order(customer, "500.00", days_ago=1, status="new", paid=True)
    services.categories_recalculate(shop=shop)
    assert category_of(customer) == default


def test_other_shops_customers_are_untouched(shop, ladder):
    other = ShopFactory(code="fr", currency="EUR")
    stranger = CustomerFactory(shop=other)
    order(stranger, "5000.00", days_ago=1)
    assert services.categories_recalculate(shop=shop).examined == 0
    assert category_of(stranger) is None


def test_counted_order_and_return_trigger_recalculation_of_that_customer(
    shop, ladder, django_capture_on_commit_callbacks
):
    default, silver = ladder
    customer = CustomerFactory(shop=shop)
    with django_capture_on_commit_callbacks(execute=True):
        placed = order(customer, "1200.00", days_ago=1, status="new", paid=False)
    assert category_of(customer) == default
    with django_capture_on_commit_callbacks(execute=True):
        shop_services.order_update(order=placed, status="completed", paid_in_full=True)
    assert category_of(customer) == silver
    with django_capture_on_commit_callbacks(execute=True):
        shop_services.return_record(order=placed, value=Decimal("300.00"))
    assert category_of(customer) == default


def test_manual_move_is_recorded_with_the_staff_user(shop, ladder, admin_user):
    default, silver = ladder
    customer = CustomerFactory(shop=shop)
    change = services.customer_move(customer=customer, category=silver, staff_user=admin_user,
                                    note="negotiated")
    assert (change.reason, change.staff_user, change.from_category, change.to_category,
            change.direction) == ("manual", admin_user, default, silver, 1)
    assert services.customer_move(customer=customer, category=silver, staff_user=admin_user) is None


def test_manual_move_to_another_shops_category_is_refused(shop, ladder, admin_user):
    foreign = CategoryFactory(shop=ShopFactory(code="ua", currency="UAH"), rank=1)
    with pytest.raises(services.ValidationError):
        services.customer_move(customer=CustomerFactory(shop=shop), category=foreign,
                               staff_user=admin_user)


def test_a_second_run_while_one_is_running_is_refused(shop, ladder):
    RecalculationRun.objects.create(shop=shop, as_of=shop.today())
    with pytest.raises(services.RecalculationBusy):
        services.categories_recalculate(shop=shop)
    assert services.categories_recalculate(shop=shop, dry_run=True).examined == 0


def test_a_dead_run_does_not_block_forever(shop, ladder):
    stale = RecalculationRun.objects.create(shop=shop, as_of=shop.today())
    RecalculationRun.objects.filter(pk=stale.pk).update(
        heartbeat_at=stale.heartbeat_at - timedelta(hours=1)
    )
    services.categories_recalculate(shop=shop)
    stale.refresh_from_db()
    assert stale.status == "failed"


def test_failed_run_is_marked_failed_with_the_error(shop, ladder, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    order(CustomerFactory(shop=shop), "1500.00", days_ago=1)  # a customer who would move
    monkeypatch.setattr(services, "decide", boom)
    with pytest.raises(RuntimeError):
        services.categories_recalculate(shop=shop)
    run = RecalculationRun.objects.get()
    assert run.status == "failed" and "database went away" in run.error


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_runs_write_each_move_once(on_postgres):
    shop = ShopFactory(code="pl")
    for _ in range(40):  # before the categories exist, so no per-order recalculation moves them
        order(CustomerFactory(shop=shop), "1500.00", days_ago=1)
    CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    silver = CategoryFactory(shop=shop, name="Silver", rank=2)
    add_rule(silver, {"kind": "window_spend", "days": 30, "amount": Decimal(1000)})
    barrier = threading.Barrier(2)
    outcomes = []

    def run():
        barrier.wait()
        try:
            outcomes.append(services.categories_recalculate(shop=shop, batch_size=5).moved_up)
        except services.RecalculationBusy:
            outcomes.append("busy")
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert CategoryChange.objects.filter(reason="rule").count() == 40
    assert Customer.objects.filter(category=silver).count() == 40
    assert sorted(map(str, outcomes)) in (["40", "busy"], ["0", "40"])


def test_nightly_recalculation_is_scheduled_after_migrate():
    # One nightly entry runs expiry, categories and segments (loyalty.nightly).
    task = PeriodicTask.objects.get(task="loyalty.tasks.nightly_all_shops")
    assert task.enabled
    assert (task.crontab.minute, task.crontab.hour) == ("0", "3")
    assert not PeriodicTask.objects.filter(task="loyalty.tasks.recalculate_all_shops").exists()


def test_an_order_change_after_the_snapshot_is_decided_on_fresh_figures(shop, ladder,
                                                                       monkeypatch):
    """A return recorded while a long run is under way (after its snapshot) must not let
    the run move the customer on the figures from before the return."""
    from loyalty import figures as figures_db

    default, silver = ladder
    customer = CustomerFactory(shop=shop)
    placed = order(customer, "1100.00", days_ago=1)  # qualifies for Silver (1000)
    enter = figures_db.Snapshot.__enter__

    def snapshot_then_return(self):
        taken = enter(self)
        shop_services.return_record(order=placed, value=Decimal("200.00"))  # now 900
        return taken

    monkeypatch.setattr(figures_db.Snapshot, "__enter__", snapshot_then_return)
    summary = services.categories_recalculate(shop=shop)
    assert summary.moved_up == 0
    assert category_of(customer) == default


def test_hidden_category_moves_customers_by_its_rules_like_any_other(shop, ladder):
    """Visibility changes what customers are shown and told, never how they move."""
    default, silver = ladder
    watchlist = CategoryFactory(shop=shop, name="Watchlist", rank=3, visible_to_customer=False)
    add_rule(watchlist, {"kind": "window_orders", "days": 30, "count": 3})
    frequent = CustomerFactory(shop=shop)
    for _ in range(3):
        order(frequent, "10.00", days_ago=2)
    summary = services.categories_recalculate(shop=shop)
    assert summary.moved_up == 1
    assert category_of(frequent) == watchlist
    change = CategoryChange.objects.get(customer=frequent, to_category=watchlist)
    assert change.figures == {"window_orders_30d": 3}


def test_purchase_shipping_and_city_rules_run_without_the_sql_prefilter(shop, ladder):
    """These conditions are not compiled to SQL: the run reads every customer's figures."""
    from tests.factories import ProductFactory

    default, silver = ladder
    sneakers = ProductFactory(shop=shop, sku="SNEAKERS")
    fans = CategoryFactory(shop=shop, name="Sneaker fans", rank=3)
    add_rule(fans, {"kind": "bought_product", "product": sneakers},
             {"kind": "shipping_method_used", "text": "dpd", "count": 2})
    parisians = CategoryFactory(shop=shop, name="Paris", rank=4)
    add_rule(parisians, {"kind": "delivery_city", "text": "Paris"})

    fan = CustomerFactory(shop=shop)
    order(fan, "20.00", product=sneakers, shipping_method="dpd")
    order(fan, "20.00", shipping_method="dpd")
    once = CustomerFactory(shop=shop)  # bought them, but used dpd only once
    order(once, "20.00", product=sneakers, shipping_method="dpd")
    unpaid = CustomerFactory(shop=shop)  # an unpaid order does not count as bought
    order(unpaid, "20.00", product=sneakers, shipping_method="dpd", paid=False)
    order(unpaid, "20.00", shipping_method="dpd")
    parisian = CustomerFactory(shop=shop, city=" paris ")

    summary = services.categories_recalculate(shop=shop)
    assert summary.examined == 4
    assert [category_of(c) for c in (fan, once, unpaid, parisian)] == [
        fans, default, default, parisians]
