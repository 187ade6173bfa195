"""The order page saves an order with its lines and returns through shops.services: totals
from the stored lines and returns, one intake event for what changed, and the admin history."""

import re
from decimal import Decimal

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.urls import reverse

from shops.models import IntakeEvent, Order
from tests.factories import CustomerFactory, ProductFactory, ShopFactory, order

pytestmark = pytest.mark.django_db


class Reported:
    """The intake events (what each change did to the customer's figures) written since
    the last `clear()`."""

    def __init__(self):
        self.after = 0

    def clear(self):
        self.after = IntakeEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def _events(self):
        return list(IntakeEvent.objects.filter(pk__gt=self.after).order_by("pk"))

    def __iter__(self):
        return iter(self._events())

    def __eq__(self, other):
        return self._events() == other


@pytest.fixture
def reported():
    return Reported()


def form_data(placed, *, status, paid, lines, returns=(), initial_lines=0, initial_returns=0):
    """POST data of the order page: `lines` as (line id or "", product, quantity, price),
    `returns` as (return id or "", value)."""
    data = {
        "shop": placed["shop"].pk, "number": placed["number"], "customer": placed["customer"].pk,
        "placed_at_0": "2026-01-05", "placed_at_1": "10:00:00", "status": status,
        "shipping_cost_0": "0", "shipping_cost_1": "PLN",
        "lines-TOTAL_FORMS": str(len(lines)), "lines-INITIAL_FORMS": str(initial_lines),
        "returns-TOTAL_FORMS": str(len(returns)), "returns-INITIAL_FORMS": str(initial_returns),
    }
    if paid:
        data["paid_in_full"] = "on"
    for i, (pk, product, quantity, price) in enumerate(lines):
        data.update({f"lines-{i}-id": pk, f"lines-{i}-product": product.pk,
                     f"lines-{i}-quantity": str(quantity), f"lines-{i}-unit_price_0": price,
                     f"lines-{i}-unit_price_1": "PLN", f"lines-{i}-discount_0": "0",
                     f"lines-{i}-discount_1": "PLN"})
    for i, (pk, value) in enumerate(returns):
        data.update({f"returns-{i}-id": pk, f"returns-{i}-value_0": value,
                     f"returns-{i}-value_1": "PLN", f"returns-{i}-returned_at_0": "2026-01-06",
                     f"returns-{i}-returned_at_1": "10:00:00", f"returns-{i}-reference": ""})
    return data


def post_page(client, url, data):
    """Post `data` as the page's own form would: with the management fields of every inline
    the page shows (other apps add read-only inlines to the order page)."""
    page = client.get(url).content.decode()
    management = dict(re.findall(
        r'name="([\w-]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"[^>]*value="(\d*)"', page))
    return client.post(url, {**management, **data})


@pytest.fixture
def world():
    shop = ShopFactory(currency="PLN")
    return {"shop": shop, "customer": CustomerFactory(shop=shop), "number": "A-1",
            "tee": ProductFactory(shop=shop), "cap": ProductFactory(shop=shop)}


def test_adding_a_counted_order_stores_its_totals_reports_it_and_logs_it(
    admin_client, world, reported
):
    data = form_data(world, status="completed", paid=True, lines=[
        ("", world["tee"], 2, "30.00"), ("", world["cap"], 1, "15.50")])

    response = post_page(admin_client, reverse("admin:shops_order_add"), data)

    assert response.status_code == 302
    placed = Order.objects.get(number="A-1")
    assert placed.goods_total.amount == Decimal("75.50")
    assert placed.returned_total.amount == Decimal("0.00")
    assert [(e.order_id, e.kind) for e in reported] == [(placed.pk, "counted")]
    assert LogEntry.objects.get(object_id=str(placed.pk)).action_flag == ADDITION


@pytest.fixture
def placed(world, reported):
    """A counted one-line order of 40.00 (its own "counted" report left out)."""
    recorded = order(world["customer"], "40.00", product=world["tee"], number="A-1")
    reported.clear()
    return recorded


def edit(client, world, placed, *, status="completed", price="40.00", returns=()):
    """Post the order page with its one line at `price` and new `returns` (values)."""
    line = placed.lines.get()
    data = form_data(world, status=status, paid=True, initial_lines=1,
                     lines=[(line.pk, world["tee"], 1, price)],
                     returns=[("", value) for value in returns])
    response = post_page(client, reverse("admin:shops_order_change", args=[placed.pk]), data)
    placed.refresh_from_db()
    return response


def test_cancelling_an_order_reports_it_uncounted_and_keeps_its_totals(
    admin_client, world, placed, reported
):
    assert edit(admin_client, world, placed, status="cancelled").status_code == 302

    assert (placed.status, placed.goods_total.amount) == ("cancelled", Decimal("40.00"))
    assert [e.kind for e in reported] == ["uncounted"]
    entry = LogEntry.objects.get(object_id=str(placed.pk))
    assert entry.action_flag == CHANGE and "Status" in entry.get_change_message()


def test_a_return_added_on_the_page_lowers_the_value_and_reports_it(
    admin_client, world, placed, reported
):
    edit(admin_client, world, placed, returns=["12.00"])

    assert (placed.goods_total.amount, placed.returned_total.amount) == (
        Decimal("40.00"), Decimal("12.00"))
    assert [e.kind for e in reported] == ["value"]


def test_a_new_line_price_changes_the_goods_value_and_reports_it(
    admin_client, world, placed, reported
):
    edit(admin_client, world, placed, price="55.00")

    assert placed.goods_total.amount == Decimal("55.00")
    assert [e.kind for e in reported] == ["value"]


def test_saving_an_unchanged_order_reports_nothing(admin_client, world, placed, reported):
    edit(admin_client, world, placed)

    assert reported == []


def test_returns_above_the_edited_goods_value_save_nothing(
    admin_client, world, placed, reported
):
    response = edit(admin_client, world, placed, status="cancelled", price="10.00",
                    returns=["12.00"])

    assert response.status_code == 200
    assert (placed.status, placed.goods_total.amount, placed.returns.count()) == (
        "completed", Decimal("40.00"), 0)
    assert reported == []
