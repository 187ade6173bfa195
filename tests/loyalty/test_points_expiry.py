"""Points expire after the shop's number of months, oldest first, set-based, once."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from loyalty import points, tasks
from loyalty.models import PointsEntry, PointsPolicy
from tests.factories import order
from tests.loyalty.points_builders import bonus_shop, customer_of, entries

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return get_user_model().objects.create_user("staff", is_staff=True)


def backdate(entry_ids, days):
    PointsEntry.objects.filter(pk__in=entry_ids).update(
        created_at=timezone.now() - timedelta(days=days))


def test_points_older_than_the_policy_expire_after_what_was_used(staff):
    shop = bonus_shop(tiers=(("0", "2"),), expiry=12)
    customer = customer_of(shop)
    old = order(customer, "5000.00")  # 100 points, made 14 months old below
    backdate(PointsEntry.objects.filter(order=old).values_list("pk", flat=True), 14 * 31)
    (recent,) = points.points_adjust(customer_ids=[customer.pk], points=50, reason="gift",
                                     staff_user=staff)
    backdate([recent.pk], 31)
    points.points_spend(order=order(customer, "1.00", status="new", paid=False), points=30)
    assert points.balance(customer.pk) == 120

    assert points.points_expire(shop=shop) == 70  # the old 100 less the 30 spent
    assert points.points_expire(shop=shop) == 0  # nothing more: idempotent
    assert entries(customer)[-1] == ("expired", -70)
    assert points.balance(customer.pk) == 50 == points.ledger_sum(customer.pk)


def test_points_inside_the_period_stay(staff):
    shop = bonus_shop(tiers=(("0", "2"),), expiry=12)
    customer = customer_of(shop)
    placed = order(customer, "5000.00")
    backdate(PointsEntry.objects.filter(order=placed).values_list("pk", flat=True), 300)
    assert points.points_expire(shop=shop) == 0
    assert points.points_expire(shop=shop, now=timezone.now() + timedelta(days=70)) == 100
    assert points.balance(customer.pk) == 0


def test_expiry_never_takes_more_than_the_balance(staff):
    shop = bonus_shop(tiers=(("0", "2"),), expiry=1)
    customer = customer_of(shop)
    order(customer, "5000.00")  # 100
    points.points_spend(order=order(customer, "1.00", status="new", paid=False), points=100)
    later = timezone.now() + timedelta(days=90)
    assert points.points_expire(shop=shop, now=later) == 0
    assert points.balance(customer.pk) == 0


def test_shops_without_expiry_keep_their_points():
    shop = bonus_shop(tiers=(("0", "2"),))
    customer = customer_of(shop)
    order(customer, "5000.00")
    assert points.points_expire(shop=shop, now=timezone.now() + timedelta(days=3650)) == 0
    PointsPolicy.objects.create(shop=shop)  # a policy without months: no expiry either
    assert points.points_expire(shop=shop, now=timezone.now() + timedelta(days=3650)) == 0
    assert points.balance(customer.pk) == 100


def test_expiry_works_in_batches_of_accounts():
    shop = bonus_shop(tiers=(("0", "2"),), expiry=1)
    customers = [customer_of(shop) for _ in range(5)]
    for c in customers:
        order(c, "500.00")  # 10 each
    later = timezone.now() + timedelta(days=62)
    assert points.points_expire(shop=shop, now=later, batch_size=2) == 50
    assert [points.balance(c.pk) for c in customers] == [0] * 5


def test_the_nightly_task_expires_every_shop_with_a_policy():
    shop = bonus_shop(tiers=(("0", "2"),), expiry=1)
    customer = customer_of(shop)
    placed = order(customer, "500.00")
    backdate(PointsEntry.objects.filter(order=placed).values_list("pk", flat=True), 62)

    # The night's first step (loyalty.nightly), before the categories and segments.
    periodic = PeriodicTask.objects.get(task="loyalty.tasks.nightly_all_shops")
    assert (periodic.crontab.hour, periodic.crontab.minute) == ("3", "0")
    assert not PeriodicTask.objects.filter(task="loyalty.tasks.expire_points_all_shops").exists()
    assert tasks.nightly_all_shops() == [shop.pk]  # eager without a broker
    assert points.balance(customer.pk) == 0
