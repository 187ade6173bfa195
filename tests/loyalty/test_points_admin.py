"""The points admin driven like a merchant would: programs with validated tiers, the ledger
inline and balance on the customer, the staff adjustment form."""

from decimal import Decimal as D

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from loyalty import points
from loyalty.models import BonusProgram, DiscountProgram, PointsEntry
from shops.models import ShopStaff
from tests.conftest import shared_world
from tests.factories import CategoryFactory, ShopFactory, order
from tests.loyalty.points_builders import bonus_shop, customer_of

pytestmark = pytest.mark.django_db


def inline(prefix, rows):
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data


def tier(start, percent, currency="UAH"):
    return {"min_lifetime_spend_0": start, "min_lifetime_spend_1": currency, "percent": percent}


@pytest.fixture
def shop():
    return ShopFactory(code="ua", currency="UAH")


@pytest.fixture
def gold(shop):
    return CategoryFactory(shop=shop, name="Gold", rank=3, program="bonus")


def post_program(client, category, *tiers, model="bonusprogram"):
    data = {"category": category.pk, "name": "Points", "boundary": "inclusive",
            **inline("tiers", tiers)}
    return client.post(reverse(f"admin:loyalty_{model}_add"), data)


def tier_errors(response):
    formset = response.context["inline_admin_formsets"][0].formset
    return [form.errors for form in formset.forms]


def test_e11_program_is_saved_with_its_tiers(admin_client, gold):
    response = post_program(admin_client, gold, tier("0", "2"), tier("1000", "3"),
                            tier("3000", "5"))
    assert response.status_code == 302
    program = BonusProgram.objects.get(category=gold)
    assert [(t.min_lifetime_spend.amount, t.percent) for t in program.tiers.all()] == [
        (D("0.00"), D("2.00")), (D("1000.00"), D("3.00")), (D("3000.00"), D("5.00"))]


@pytest.mark.parametrize(("tiers", "errors"), [
    ((tier("1000", "3"), tier("1000", "5")),
     [{}, {"min_lifetime_spend": ["Another tier already starts at this value."]}]),
    ((tier("0", "120"),), [{"percent": ["Ensure this value is less than or equal to 100."]}]),
    ((tier("-1", "2"),),
     [{"min_lifetime_spend": ["Ensure this value is greater than or equal to 0."]}]),
    ((tier("0", "2", currency="PLN"),),
     [{"min_lifetime_spend": ["Currency PLN does not match the shop's currency UAH."]}]),
])
def test_invalid_tiers_are_refused_next_to_their_field(admin_client, gold, tiers, errors):
    response = post_program(admin_client, gold, *tiers)
    assert response.status_code == 200
    assert tier_errors(response) == errors
    assert not BonusProgram.objects.exists()


def test_a_program_needs_a_category_that_runs_it(admin_client, shop, gold):
    plain = CategoryFactory(shop=shop, name="Plain", rank=2, program="none")
    response = post_program(admin_client, plain, tier("0", "2"))
    assert response.context["adminform"].form.errors == {"category": [
        "This category does not run this kind of program: set its program first."]}

    response = post_program(admin_client, gold, tier("0", "10"), model="discountprogram")
    assert response.status_code == 200
    assert not DiscountProgram.objects.exists()


def test_discount_program_with_three_tiers(admin_client, shop):
    group = CategoryFactory(shop=shop, rank=2, program="discount", discount_percent=D("10"))
    response = post_program(admin_client, group, tier("0", "10"), tier("1000", "20"),
                            tier("3000", "30"), model="discountprogram")
    assert response.status_code == 302
    assert list(DiscountProgram.objects.get().tiers.values_list("percent", flat=True)) == [
        D("10.00"), D("20.00"), D("30.00")]


@pytest.fixture
def earner():
    shop = bonus_shop(tiers=(("0", "3"),))
    customer = customer_of(shop, name="Olena")
    order(customer, "1000.00", number="UA-1")  # 30 points
    return customer


def test_customer_page_shows_the_balance_and_the_ledger(admin_client, earner):
    response = admin_client.get(reverse("admin:shops_customer_change", args=[earner.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Adjust points…" in page
    (ledger,) = [f for f in response.context["inline_admin_formsets"]
                 if f.formset.model is PointsEntry]
    assert [(e.kind, e.points, e.order.number) for e in ledger.formset.queryset] == [
        ("earned", 30, "UA-1")]


def test_staff_adjust_points_with_a_reason(admin_client, earner):
    url = reverse("admin:shops_customer_adjust_points", args=[earner.pk])
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(url, {"points": "-10", "reason": "Damaged parcel, refund"})

    assert response.status_code == 302
    entry = PointsEntry.objects.get(kind="adjusted")
    assert (entry.points, entry.reason, entry.staff_user.username) == (
        -10, "Damaged parcel, refund", "admin")
    assert points.balance(earner.pk) == 20


@pytest.mark.parametrize(("data", "errors"), [
    ({"points": "5", "reason": ""}, {"reason": ["This field is required."]}),
    ({"points": "0", "reason": "x"}, {"points": ["Enter a number of points other than zero."]}),
    ({"points": "-31", "reason": "x"},
     {"points": ["1 of the customers do not have 31 points: nothing was changed."]}),
    # Beyond 64 bits this was a 500 "integer out of range"; capped at an order's maximum.
    ({"points": str(10**19), "reason": "x"},
     {"points": ["Ensure this value is less than or equal to 1000000000000."]}),
])
def test_invalid_adjustments_change_nothing(admin_client, earner, data, errors):
    url = reverse("admin:shops_customer_adjust_points", args=[earner.pk])
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert points.balance(earner.pk) == 30
    assert not PointsEntry.objects.filter(kind="adjusted").exists()


def test_adjusting_points_is_a_separate_permission(client, earner):
    user = get_user_model().objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=[
        "view_customer", "change_customer"]))
    ShopStaff.objects.create(user=user, shop=earner.shop)
    client.force_login(user)
    url = reverse("admin:shops_customer_adjust_points", args=[earner.pk])
    assert client.post(url, {"points": "100", "reason": "me"}).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="adjust_points"))
    client.force_login(get_user_model().objects.get(pk=user.pk))
    assert client.post(url, {"points": "100", "reason": "me"}).status_code == 302
    assert LogEntry.objects.get(user=user, object_id=str(earner.pk)).get_change_message() == (
        "Points adjusted: +100 (me)."
    )


def test_staff_of_another_shop_cannot_adjust_points(client, earner):
    other = ShopFactory(code="other")
    user = get_user_model().objects.create_user("outsider", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=[
        "view_customer", "change_customer", "adjust_points"]))
    ShopStaff.objects.create(user=user, shop=other)
    client.force_login(user)
    url = reverse("admin:shops_customer_adjust_points", args=[earner.pk])
    assert client.post(url, {"points": "100", "reason": "me"}).status_code == 404
    assert not PointsEntry.objects.filter(kind="adjusted").exists()


def test_the_ledger_is_read_only_in_the_admin(admin_client, earner):
    entry = PointsEntry.objects.get()
    assert admin_client.get(reverse("admin:loyalty_pointsentry_add")).status_code == 403
    change = admin_client.post(reverse("admin:loyalty_pointsentry_change", args=[entry.pk]),
                               {"points": "999"})
    assert change.status_code == 403
    assert PointsEntry.objects.get().points == 30


def make_customers_with_points(shop, n):
    for _ in range(n):
        customer = customer_of(shop)
        order(customer, "100.00")


POINTS_CHANGELISTS = [
    "shops_customer", "loyalty_bonusprogram", "loyalty_discountprogram", "loyalty_pointsentry",
    "loyalty_pointspolicy",
]


def changelist_queries(client, name):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200
    return len(ctx)


def _points_rows() -> dict[str, int]:
    """Built once for the class: a superuser's queries per changelist with 3 customers with
    points, then 30 more and 5 other shops."""
    shop = bonus_shop(tiers=(("0", "3"), ("100", "4")), point_value="0.10", expiry=12)
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "password")
    make_customers_with_points(shop, 3)
    few = {}
    for name in POINTS_CHANGELISTS:
        client = Client()  # as admin_client: a fresh client, force-logged in
        client.force_login(admin)
        few[name] = changelist_queries(client, name)
    make_customers_with_points(shop, 30)
    for i in range(5):
        other = bonus_shop(code=f"x{i}", tiers=(("0", "1"),), point_value="0.10")
        make_customers_with_points(other, 1)
    return few


class TestPointsChangelistQueries:
    few_queries = shared_world(_points_rows, scope="class")

    @pytest.mark.parametrize("name", POINTS_CHANGELISTS)
    def test_points_changelists_queries_do_not_grow_with_rows(self, admin_client, few_queries,
                                                              name):
        few = few_queries[name]  # counted with 3 customers
        assert changelist_queries(admin_client, name) == few


def test_customer_list_shows_each_balance(admin_client, earner):
    response = admin_client.get(reverse("admin:shops_customer_changelist"))
    row = next(r for r in response.context["cl"].result_list if r.pk == earner.pk)
    assert row.points_account.balance == 30
