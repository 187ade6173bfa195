"""Whatever happens, in whatever order, every balance equals the sum of its ledger."""

import itertools
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty import points
from loyalty.models import PointsAccount, PointsEntry
from shops import services
from shops.models import Customer, Order
from tests.factories import order
from tests.loyalty.points_builders import bonus_shop, customer_of

pytestmark = pytest.mark.django_db

_shops = itertools.count()

CUSTOMER = st.integers(0, 2)
ORDER = st.integers(0, 20)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("order"), CUSTOMER, st.integers(1, 500_000), st.booleans()),
        st.tuples(st.just("complete"), ORDER),
        st.tuples(st.just("cancel"), ORDER),
        st.tuples(st.just("return"), ORDER, st.integers(1, 100)),
        st.tuples(st.just("spend"), CUSTOMER, st.integers(1, 400)),
        st.tuples(st.just("adjust"), CUSTOMER, st.integers(-300, 300)),
        st.tuples(st.just("expire"), st.integers(0, 800)),
        st.tuples(st.just("resync"), ORDER),
    ),
    min_size=1, max_size=25,
)


def check_balances(shop):
    sums = dict(
        PointsEntry.objects.filter(shop=shop).values("customer_id")
        .annotate(s=Sum("points"))
        .values_list("customer_id", "s")
    )
    for customer_id in Customer.objects.filter(shop=shop).values_list("pk", flat=True):
        assert points.balance(customer_id) == sums.get(customer_id, 0)
    for order_id in Order.objects.filter(shop=shop).values_list("pk", flat=True):
        assert points.order_points(order_id) >= 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPERATIONS)
def test_balance_always_equals_the_ledger_sum(operations):
    shop = bonus_shop(code=f"h{next(_shops)}", tiers=(("0", "2"), ("1000", "3"), ("3000", "5")),
                      point_value="0.10", expiry=6)
    staff = get_user_model().objects.get_or_create(username="hypothesis-staff")[0]
    customers = [customer_of(shop) for _ in range(3)]
    orders = []
    for op in operations:
        kind = op[0]
        try:
            if kind == "order":
                _, who, cents, counted = op
                orders.append(order(customers[who], D(cents) / 100, days_ago=1,
                                    status="completed" if counted else "new", paid=counted))
            elif kind in ("complete", "cancel", "return", "resync") and orders:
                target = Order.objects.get(pk=orders[op[1] % len(orders)].pk)
                if kind == "complete":
                    services.order_update(order=target, status="completed", paid_in_full=True)
                elif kind == "cancel":
                    services.order_update(order=target, status="cancelled")
                elif kind == "resync":
                    points.order_points_sync(order_id=target.pk, what="counted")
                else:
                    left = target.goods_total.amount - target.returned_total.amount
                    value = (left * op[2] / 100).quantize(D("0.01"))
                    if value > 0:
                        services.return_record(order=target, value=value)
            elif kind == "spend":
                _, who, n = op
                spend_on = order(customers[who], "1.00", status="new", paid=False)
                points.points_spend(order=spend_on, points=n)
            elif kind == "adjust":
                _, who, n = op
                points.points_adjust(customer_ids=[customers[who].pk], points=n,
                                     reason="property test", staff_user=staff)
            elif kind == "expire":
                points.points_expire(shop=shop, now=timezone.now() + timedelta(days=op[1]))
        except ValidationError:
            pass  # refused (overdraw, zero adjustment): must leave nothing behind
        check_balances(shop)
    assert PointsAccount.objects.filter(shop=shop).count() <= 3
