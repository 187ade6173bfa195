"""Loyalty announces every category change inside the writing transaction."""

import pytest
from django.db import transaction

from loyalty import events, services
from loyalty.models import CategoryChange
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, add_rule, order

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    seen: list[events.CategoriesChanged] = []
    events.on_categories_changed(seen.append)
    yield seen
    events._handlers.remove(seen.append)


@pytest.fixture
def ladder():
    shop = ShopFactory()
    default = CategoryFactory(shop=shop, rank=1, is_default=True)
    silver = CategoryFactory(shop=shop, rank=2)
    add_rule(silver, {"kind": "window_orders", "days": 30, "operator": "gte", "count": 1})
    return shop, default, silver


def test_registration_recalculation_and_manual_move_are_announced(
    heard, ladder, django_capture_on_commit_callbacks
):
    shop, default, silver = ladder
    customer = CustomerFactory(shop=shop)
    placed = CategoryChange.objects.get(customer=customer)
    assert heard[-1] == events.CategoriesChanged(shop.pk, (placed.pk,))

    with django_capture_on_commit_callbacks(execute=True):
        order(customer, "100.00")  # counted: recalculates the customer on commit
    moved = CategoryChange.objects.get(customer=customer, to_category=silver)
    assert heard[-1] == events.CategoriesChanged(shop.pk, (moved.pk,), (events.Move(
        moved.pk, customer.pk, default.pk, silver.pk, 1, "rule", customer.language),))

    services.customer_move(customer=customer, category=default, staff_user=None)
    back = CategoryChange.objects.filter(customer=customer).latest("pk")
    assert heard[-1] == events.CategoriesChanged(shop.pk, (back.pk,))


def test_batch_recalculation_announces_each_batch_once_with_all_its_changes(heard, ladder):
    shop, default, silver = ladder
    customers = [CustomerFactory(shop=shop) for _ in range(3)]
    with transaction.atomic():  # keep the per-order recalculation out of the way
        events._handlers.remove(heard.append)
        for customer in customers:
            order(customer, "50.00")
        CategoryChange.objects.filter(to_category=silver).delete()
        type(customers[0]).objects.filter(pk__in=[c.pk for c in customers]).update(
            category=default
        )
        events.on_categories_changed(heard.append)
    heard.clear()

    services.categories_recalculate(shop=shop, batch_size=2)

    announced = [i for event in heard for i in event.change_ids]
    written = CategoryChange.objects.filter(to_category=silver).values_list("pk", flat=True)
    assert sorted(announced) == sorted(written)
    assert len(written) == 3
    assert len(heard) == 2  # two batches of customers
    # Each batch hands over its moves as written: the handlers need not read them back.
    assert [m.change_id for event in heard for m in event.moves] == announced
    assert {(m.customer_id, m.from_id, m.to_id, m.direction) for e in heard for m in e.moves} \
        == {(c.pk, default.pk, silver.pk, 1) for c in customers}
