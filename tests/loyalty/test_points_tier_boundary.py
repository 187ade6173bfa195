"""Issue 16 item 7: each lifetime-spend tier ladder (bonus or discount program) says where a
boundary belongs: "from X inclusive" (the default, as before) or "above X".

"2% up to 1000, 3% above 1000" (Skyservice): exactly 1000 still earns 2% under "above".
"""

from decimal import Decimal as D

import pytest
from django.urls import reverse
from djmoney.money import Money

from loyalty import points, programs
from loyalty.models import BonusProgram
from loyalty.programs import Tier
from pricing.services import cart_quote
from shops.models import Customer
from tests.factories import CategoryFactory, ProductFactory, ShopFactory, order
from tests.loyalty.points_builders import bonus_shop, customer_of, discount_program
from tests.pricing.factories import CategoryDiscountFactory

TWO_UP_TO_1000 = (Tier(D("0"), D("2")), Tier(D("1000"), D("3")))
LADDER = (("0", "2"), ("1000", "3"))


@pytest.mark.parametrize(("boundary", "lifetime", "percent"), [
    ("inclusive", "999.99", "2"), ("inclusive", "1000", "3"), ("inclusive", "1000.01", "3"),
    ("above", "999.99", "2"), ("above", "1000", "2"), ("above", "1000.01", "3"),
    ("above", "0", "2"),  # a tier starting at 0 is where everyone starts, even "above"
])
def test_tier_boundary_decides_where_exactly_1000_belongs(boundary, lifetime, percent):
    assert programs.tier_percent(TWO_UP_TO_1000, D(lifetime), boundary) == D(percent)


def test_default_boundary_is_inclusive_as_before():
    assert programs.tier_percent(TWO_UP_TO_1000, D("1000")) == D("3")
    assert BonusProgram._meta.get_field("boundary").default == "inclusive"


@pytest.mark.django_db
@pytest.mark.parametrize(("boundary", "earned"), [("inclusive", 30), ("above", 20)])
def test_order_after_exactly_1000_lifetime_earns_by_the_program_boundary(boundary, earned):
    shop = bonus_shop(tiers=LADDER, boundary=boundary)  # 2% up to 1000, 3% from/above 1000
    customer = customer_of(shop)
    order(customer, "1000.00", days_ago=10)  # lifetime before it 0: 2% -> 20
    second = order(customer, "1000.00", days_ago=5)  # lifetime before it exactly 1000

    assert points.order_points(second.pk) == earned
    assert points.balance(customer.pk) == 20 + earned


@pytest.mark.django_db
@pytest.mark.parametrize(("boundary", "points_to_earn"), [("inclusive", 30), ("above", 20)])
def test_quote_shows_points_by_the_program_boundary(boundary, points_to_earn):
    shop = bonus_shop(tiers=LADDER, boundary=boundary)
    customer = customer_of(shop)
    order(customer, "1000.00", days_ago=10)

    quote = cart_quote(shop=shop, customer=customer,
                       lines=[(ProductFactory(shop=shop, price=Money(D("1000"), "UAH")), 1)])

    assert quote.quote.points_to_earn == points_to_earn


@pytest.mark.django_db
@pytest.mark.parametrize(("boundary", "to_pay"), [("inclusive", "160.00"), ("above", "180.00")])
def test_discount_program_at_exactly_1000_follows_its_boundary(boundary, to_pay):
    shop = ShopFactory(code="pl", currency="PLN")
    CategoryDiscountFactory(shop=shop, name="Category")
    group = CategoryFactory(shop=shop, rank=2, program="discount", discount_percent=D("5"))
    discount_program(group, ("0", "10"), ("1000", "20"), boundary=boundary)
    buyer = customer_of(shop)
    order(buyer, "1000.00", days_ago=3)
    Customer.objects.filter(pk=buyer.pk).update(category=group)

    quote = cart_quote(shop=shop, customer=buyer,
                       lines=[(ProductFactory(shop=shop, price=Money(D("200"), "PLN")), 1)])

    assert quote.total == Money(D(to_pay), "PLN")


@pytest.mark.django_db
def test_admin_sets_and_shows_the_boundary(admin_client):
    shop = ShopFactory(code="ua", currency="UAH")
    member = CategoryFactory(shop=shop, rank=1, program="bonus")
    url = reverse("admin:loyalty_bonusprogram_add")
    page = admin_client.get(url).content.decode()
    assert "From X inclusive (X itself reaches the tier)" in page
    assert "Above X (X itself stays in the tier below)" in page

    response = admin_client.post(url, {
        "category": member.pk, "name": "Bonus", "boundary": "above",
        "tiers-TOTAL_FORMS": "2", "tiers-INITIAL_FORMS": "0",
        "tiers-0-min_lifetime_spend_0": "0", "tiers-0-min_lifetime_spend_1": "UAH",
        "tiers-0-percent": "2",
        "tiers-1-min_lifetime_spend_0": "1000", "tiers-1-min_lifetime_spend_1": "UAH",
        "tiers-1-percent": "3",
    })

    assert response.status_code == 302, response.context["adminform"].form.errors
    program = BonusProgram.objects.get()
    assert program.boundary == "above"
    listing = admin_client.get(reverse("admin:loyalty_bonusprogram_changelist")).content.decode()
    assert "≥ UAH0.00: 2.00%; &gt; UAH1,000.00: 3.00%" in listing
