from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import DecimalField, ExpressionWrapper, F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from shops.models import (
    ClientType,
    Collection,
    Customer,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Return,
    Shop,
)
from tests.conftest import shared_world

pytestmark = pytest.mark.django_db

SHOPS_MODELS = (Shop, Collection, Product, Customer, Order, OrderLine, Return)
AMOUNT = DecimalField(max_digits=14, decimal_places=2)


def _demo() -> str:
    out = StringIO()
    call_command("demo", scale=0.01, stdout=out)
    return out.getvalue()


# One build for the module: every test reads it (and writes only in its own savepoint).
demo_output = shared_world(_demo)


def _counts() -> dict[str, int]:
    counts = {m._meta.label: m.objects.count() for m in SHOPS_MODELS}
    counts["users"] = get_user_model().objects.count()
    counts["product collections"] = Product.collections.through.objects.count()
    return counts


def _sum_per_order(queryset, expression):
    return Coalesce(
        Subquery(
            queryset.filter(order=OuterRef("pk"))
            .values("order")
            .annotate(total=Sum(expression, output_field=AMOUNT))
            .values("total"),
            output_field=AMOUNT,
        ),
        Decimal(0),
        output_field=AMOUNT,
    )


def test_demo_builds_three_shops_with_their_currency_language_and_time_zone(demo_output):

    shops = Shop.objects.order_by("code")
    assert list(shops.values_list("code", "currency", "default_language", "timezone")) == [
        ("fr", "EUR", "fr", "Europe/Paris"),
        ("pl", "PLN", "pl", "Europe/Warsaw"),
        ("ua", "UAH", "uk", "Europe/Kyiv"),
    ]
    for shop in Shop.objects.all():
        assert shop.products.count() == 40
        assert shop.collections.filter(code__in=["t-shirts", "shoes", "accessories"]).count() == 3
        assert not shop.products.exclude(price_currency=shop.currency).exists()
        assert not shop.products.filter(min_price__gt=F("price")).exists()
        assert not shop.orders.exclude(goods_total_currency=shop.currency).exists()


def test_demo_customers_and_orders_have_the_realistic_mix(demo_output):

    assert set(Customer.objects.values_list("client_type", flat=True)) == {
        ClientType.RETAIL, ClientType.WHOLESALE,
    }
    for shop in Shop.objects.all():
        assert shop.customers.filter(client_type=ClientType.WHOLESALE).exists()
        assert shop.customers.filter(client_type=ClientType.RETAIL).exists()
    assert Customer.objects.filter(is_active=False).exists()
    assert Customer.objects.filter(language="").exists()
    assert Customer.objects.exclude(language="").exists()
    assert {"Paris", "Warszawa", "Kyiv"} <= set(Customer.objects.values_list("city", flat=True))

    assert Order.objects.filter(status=OrderStatus.CANCELLED).exists()
    assert Order.objects.filter(status=OrderStatus.NEW).exists()
    assert Order.objects.filter(status=OrderStatus.COMPLETED, paid_in_full=False).exists()
    assert Order.objects.filter(status=OrderStatus.COMPLETED, paid_in_full=True).exists()
    returned = Order.objects.filter(returned_total__gt=0)
    assert returned.exists()
    # Returns are partial: the order keeps some value.
    assert not returned.filter(returned_total__gte=F("goods_total")).exists()
    assert Return.objects.count() >= returned.count()
    assert Order.objects.values("shipping_method").distinct().count() >= 5
    assert not Order.objects.filter(lines__isnull=True).exists()


def test_demo_order_totals_match_their_lines_and_returns(demo_output):

    line_value = ExpressionWrapper(
        F("unit_price") * F("quantity") - F("discount"), output_field=AMOUNT
    )
    rows = Order.objects.annotate(
        lines_value=_sum_per_order(OrderLine.objects, line_value),
        returns_value=_sum_per_order(Return.objects, F("value")),
    ).values_list("number", "goods_total", "lines_value", "returned_total", "returns_value")

    # Compared in Python: SQLite stores decimals as floats, so equality in SQL is unreliable.
    mismatched = [
        (number, goods, lines, returned, returns)
        for number, goods, lines, returned, returns in rows
        if goods != lines or returned != returns
    ]
    assert len(rows) > 0
    assert mismatched == []


def test_demo_run_twice_adds_nothing(demo_output):
    first = _counts()

    output = _demo()

    assert _counts() == first
    assert "already exists" in output


def test_demo_creates_the_admin_superuser(demo_output):
    output = demo_output

    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.check_password("admin")
    assert "admin / admin" in output
