"""Points in quotes: the bonus % and the discount program from the customer's category, and
redeeming points, spent when the order is confirmed."""

import threading
from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from djmoney.money import Money

from loyalty import points
from loyalty.models import OrderPointsTerms, PointsEntry, PointsPolicy
from pricing.models import OrderDiscount, PromoCodeUse
from pricing.services import cart_quote, order_confirm_discounts
from shops import services as shop_services
from shops.models import Customer
from tests.factories import CategoryFactory, ProductFactory, ShopFactory, order
from tests.loyalty.points_builders import (
    E11_TIERS,
    bonus_program,
    bonus_shop,
    customer_of,
    discount_program,
)
from tests.pricing.factories import (
    CategoryDiscountFactory,
    PromoCodeFactory,
    money,
    segment,
    threshold,
)

pytestmark = pytest.mark.django_db


def product(shop, price):
    return ProductFactory(shop=shop, price=money(shop, price))


def gift(customer, n):
    staff = get_user_model().objects.get_or_create(username="staff")[0]
    points.points_adjust(customer_ids=[customer.pk], points=n, reason="test", staff_user=staff)


@pytest.fixture
def shop():
    return bonus_shop(point_value="0.50")


@pytest.fixture
def customer(shop):
    return customer_of(shop)


def test_e11_quote_shows_the_points_the_order_would_earn(shop, customer):
    order(customer, "2500.00", days_ago=10)  # lifetime 2500: 3%
    quote = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "1000"), 1)])
    assert quote.quote.points_to_earn == 30

    order(customer, "1000.00", days_ago=5)  # lifetime 3500: 5%
    quote = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "1000"), 1)])
    assert quote.quote.points_to_earn == 50


def test_a_category_without_a_bonus_program_earns_no_percent(shop, customer):
    plain = CategoryFactory(shop=shop, rank=3, program="none")
    bonus_program(plain, ("0", "50"))  # a program on a category that does not run it
    Customer.objects.filter(pk=customer.pk).update(category=plain)
    quote = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "1000"), 1)])
    assert quote.quote.points_to_earn == 0


@pytest.mark.parametrize(("lifetime", "percent", "to_pay"), [
    ("0", "15", "170.00"),  # below the first tier: the category's own 15%
    ("500", "10", "180.00"),
    ("2999.99", "20", "160.00"),
    ("3000", "30", "140.00"),
])
def test_discount_program_tier_drives_the_category_discount(lifetime, percent, to_pay):
    shop = ShopFactory(code="pl", currency="PLN")
    CategoryDiscountFactory(shop=shop, name="Category")
    group = CategoryFactory(shop=shop, rank=2, program="discount", discount_percent=D("15"))
    discount_program(group, ("500", "10"), ("1000", "20"), ("3000", "30"))
    buyer = customer_of(shop)
    if lifetime != "0":
        order(buyer, lifetime, days_ago=3)
    Customer.objects.filter(pk=buyer.pk).update(category=group)

    quote = cart_quote(shop=shop, customer=buyer, lines=[(product(shop, "200"), 1)])

    assert quote.total == Money(D(to_pay), "PLN")
    (entry,) = [e for e in quote.quote.breakdown if e.name == "Category"]
    assert entry.percent == D(percent)


def test_redeeming_points_takes_their_value_off_what_is_paid(shop, customer):
    gift(customer, 100)
    quote = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "200"), 1)],
                       points=50)
    assert (quote.points_redeemed, quote.points_value) == (50, Money(D("25.00"), "UAH"))
    assert quote.total == Money(D("200.00"), "UAH")
    assert quote.to_pay == Money(D("175.00"), "UAH")
    assert quote.redemption.capped_by == ""


def test_redemption_is_capped_by_the_balance(shop, customer):
    gift(customer, 100)
    quote = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "200"), 1)],
                       points=500)
    assert (quote.points_redeemed, quote.redemption.capped_by) == (100, "balance")
    assert quote.to_pay == Money(D("150.00"), "UAH")


def test_redemption_is_capped_by_the_order_total(shop, customer):
    gift(customer, 100)
    quote = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "10.25"), 1)],
                       points=100)
    assert (quote.points_redeemed, quote.redemption.capped_by) == (20, "order_total")
    assert quote.to_pay == Money(D("0.25"), "UAH")


def test_a_shop_without_a_point_value_redeems_nothing(customer):
    shop = customer.shop
    PointsPolicy.objects.filter(shop=shop).update(point_value=D("0"))
    gift(customer, 100)
    quote = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "10"), 1)], points=5)
    assert (quote.points_redeemed, quote.redemption.capped_by) == (0, "not_redeemable")


def test_points_need_a_customer_and_a_whole_number(shop, customer):
    item = product(shop, "10")
    with pytest.raises(ValidationError) as caught:
        cart_quote(shop=shop, client_type="retail", lines=[(item, 1)], points=5)
    assert caught.value.message_dict == {"points": ["Only a customer can redeem points."]}
    with pytest.raises(ValidationError):
        cart_quote(shop=shop, customer=customer, lines=[(item, 1)], points=-1)


def test_confirming_the_order_spends_the_points(shop, customer):
    gift(customer, 100)
    quote = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "200"), 1)],
                       points=60)
    placed = order(customer, "200.00", status="new", paid=False)
    order_confirm_discounts(order=placed, quote=quote)

    spent = PointsEntry.objects.get(kind="spent")
    assert (spent.points, spent.order_id) == (-60, placed.pk)
    assert points.balance(customer.pk) == 40


def test_a_confirmation_the_balance_no_longer_covers_records_nothing(shop, customer):
    gift(customer, 100)
    PromoCodeFactory(shop=shop, code="TEN", percent=D("10"), name="Ten")
    quote = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "200"), 1)],
                       points=80, promo_code="TEN")
    points.points_spend(order=order(customer, "1.00", status="new", paid=False), points=30)
    placed = order(customer, "180.00", status="new", paid=False)

    with pytest.raises(points.PointsUnavailable):
        order_confirm_discounts(order=placed, quote=quote)

    assert not OrderDiscount.objects.filter(order=placed).exists()
    assert not PromoCodeUse.objects.exists()
    assert not PointsEntry.objects.filter(order=placed).exists()
    assert points.balance(customer.pk) == 70


def test_threshold_tier_points_are_earned_with_the_bonus_percent_when_the_order_counts(
    shop, customer
):
    threshold(shop, ("100", "0", 7), name="7 points from 100")  # lifetime 0: 2%
    quote = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "500"), 1)])
    assert quote.quote.points_to_earn == 17
    placed = order(customer, "500.00", status="new", paid=False)
    order_confirm_discounts(order=placed, quote=quote)
    assert OrderPointsTerms.objects.get(order=placed).granted_points == 7

    shop_services.order_update(order=placed, status="completed", paid_in_full=True)
    assert points.order_points(placed.pk) == 17  # 10 for 2% of 500, plus 7 granted

    shop_services.return_record(order=placed, value=D("250.00"))
    assert points.order_points(placed.pk) == 12  # 2% of what is kept; granted points stay
    shop_services.return_record(order=placed, value=D("250.00"))
    assert points.order_points(placed.pk) == 0


def test_a_segment_advantage_that_does_not_earn_points_drops_the_percent(shop, customer):
    segment(shop, ("0", "5", "0", False), name="5 off", earns_points=False)
    threshold(shop, ("0", "0", 3), name="3 points")
    quote = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "500"), 1)])
    assert quote.quote.points_to_earn == 3
    placed = order(customer, "495.00", status="new", paid=False)
    order_confirm_discounts(order=placed, quote=quote)

    shop_services.order_update(order=placed, status="completed", paid_in_full=True)
    assert points.order_points(placed.pk) == 3


def test_terms_recorded_after_the_order_already_counted_apply_at_once(shop, customer):
    threshold(shop, ("0", "0", 4), name="4 points")
    quote = cart_quote(shop=shop, customer=customer, lines=[(product(shop, "100"), 1)])
    placed = order(customer, "100.00")  # counted at once: 2 points
    order_confirm_discounts(order=placed, quote=quote)
    assert [(e.kind, e.points) for e in PointsEntry.objects.order_by("pk")] == [
        ("earned", 2), ("corrected", 4)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_redemptions_cannot_overdraw_the_balance(on_postgres):
    shop = bonus_shop(tiers=E11_TIERS, point_value="1.00")
    buyer = customer_of(shop)
    gift(buyer, 100)
    item = product(shop, "100")
    quotes = [cart_quote(shop=shop, customer=buyer, lines=[(item, 1)], points=80)
              for _ in range(2)]
    orders = [order(buyer, "20.00", status="new", paid=False) for _ in range(2)]
    assert all(q.points_redeemed == 80 for q in quotes)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def checkout(i):
        try:
            barrier.wait()
            order_confirm_discounts(order=orders[i], quote=quotes[i])
            outcomes.append("ok")
        except points.PointsUnavailable:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=checkout, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["ok", "refused"]
    assert points.balance(buyer.pk) == 20 == points.ledger_sum(buyer.pk)
    assert PointsEntry.objects.filter(kind="spent").count() == 1
