"""order_confirm_discounts: applied discounts recorded on the order, promo code uses counted."""

import threading
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from djmoney.money import Money

from pricing.engine import Reason
from pricing.models import OrderDiscount, PromoCode, PromoCodeUse, ThresholdTier
from pricing.services import PromoCodeUnavailable, cart_quote, order_confirm_discounts
from tests.factories import CustomerFactory, ProductFactory, ShopFactory, order
from tests.pricing.factories import PromoCodeFactory, money, threshold

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return ShopFactory(code="pl", currency="PLN")


@pytest.fixture
def customer(shop):
    return CustomerFactory(shop=shop)


def products(shop, *prices):
    return [ProductFactory(shop=shop, price=money(shop, p)) for p in prices]


def rows(order_):
    return list(
        OrderDiscount.objects.filter(order=order_)
        .order_by("line_number", "kind")
        .values_list("kind", "name", "code", "percent", "line_number", "sku", "amount")
    )


def test_confirm_records_discounts_per_line_and_keeps_them_after_configuration_changes(
    shop, customer
):
    discount = threshold(shop, ("500", "5"), name="5% from 500")
    PromoCodeFactory(
        shop=shop, code="TEN", percent=D("10"), name="Ten off", stacking="sequential"
    )
    first, second = products(shop, "400", "200")
    quote = cart_quote(shop=shop, customer=customer, lines=[(first, 1), (second, 1)],
                       promo_code="ten")
    placed = order(customer, "540.00")

    created = order_confirm_discounts(order=placed, quote=quote)

    expected = [
        ("promo_code", "Ten off", "TEN", D("10.00"), 1, first.sku, D("38.00")),
        ("threshold", "5% from 500", "", D("5.00"), 1, first.sku, D("20.00")),
        ("promo_code", "Ten off", "TEN", D("10.00"), 2, second.sku, D("19.00")),
        ("threshold", "5% from 500", "", D("5.00"), 2, second.sku, D("10.00")),
    ]
    assert rows(placed) == expected
    assert len(created) == 4
    assert sum(r.amount.amount for r in created) == quote.quote.discount_total == D("87.00")
    assert OrderDiscount.objects.filter(order=placed).first().amount.currency.code == "PLN"

    discount.name = "Renamed"
    discount.save()
    ThresholdTier.objects.filter(discount=discount).update(percent=D("50"))
    assert rows(placed) == expected
    discount.delete()
    assert rows(placed) == expected


def test_confirm_counts_one_promo_code_use(shop, customer):
    code = PromoCodeFactory(shop=shop, code="TEN", usage_limit=5)
    (item,) = products(shop, "100")
    quote = cart_quote(shop=shop, customer=customer, lines=[(item, 1)], promo_code="TEN")
    placed = order(customer, "90.00")

    order_confirm_discounts(order=placed, quote=quote)

    code.refresh_from_db()
    assert code.times_used == 1
    use = PromoCodeUse.objects.get()
    assert (use.code, use.customer, use.order) == (code, customer, placed)


def test_confirm_refuses_the_code_over_its_total_limit_and_records_nothing(shop, customer):
    code = PromoCodeFactory(shop=shop, code="LAST", usage_limit=1)
    (item,) = products(shop, "100")
    quote = cart_quote(shop=shop, customer=customer, lines=[(item, 1)], promo_code="LAST")
    other = CustomerFactory(shop=shop)
    order_confirm_discounts(
        order=order(other, "90.00"),
        quote=cart_quote(shop=shop, customer=other, lines=[(item, 1)], promo_code="LAST"),
    )
    placed = order(customer, "90.00")

    with pytest.raises(PromoCodeUnavailable) as caught:
        order_confirm_discounts(order=placed, quote=quote)

    assert caught.value.reason is Reason.CODE_LIMIT_REACHED
    assert caught.value.message_dict == {
        "promo_code": ["This promo code has been used the maximum number of times."]}
    assert rows(placed) == []
    code.refresh_from_db()
    assert code.times_used == 1


def test_confirm_refuses_the_code_over_the_customers_limit(shop, customer):
    code = PromoCodeFactory(shop=shop, code="ONCE", usage_limit_per_customer=1)
    (item,) = products(shop, "100")
    first_quote = cart_quote(shop=shop, customer=customer, lines=[(item, 1)], promo_code="ONCE")
    second_quote = cart_quote(shop=shop, customer=customer, lines=[(item, 1)], promo_code="ONCE")
    order_confirm_discounts(order=order(customer, "90.00"), quote=first_quote)

    with pytest.raises(PromoCodeUnavailable) as caught:
        order_confirm_discounts(order=order(customer, "90.00"), quote=second_quote)

    assert caught.value.reason is Reason.CODE_CUSTOMER_LIMIT_REACHED
    code.refresh_from_db()
    assert (code.times_used, PromoCodeUse.objects.count()) == (1, 1)


def test_confirm_refuses_a_disabled_code(shop, customer):
    code = PromoCodeFactory(shop=shop, code="GONE")
    (item,) = products(shop, "100")
    quote = cart_quote(shop=shop, customer=customer, lines=[(item, 1)], promo_code="GONE")
    PromoCode.objects.filter(pk=code.pk).update(enabled=False)

    with pytest.raises(PromoCodeUnavailable) as caught:
        order_confirm_discounts(order=order(customer, "90.00"), quote=quote)

    assert caught.value.reason is Reason.DISABLED


def test_confirm_records_order_level_benefits_and_refuses_a_second_time(shop, customer):
    discount = threshold(shop, ("100", "0", 25), name="Points from 100")
    (item,) = products(shop, "150")
    quote = cart_quote(shop=shop, customer=customer, lines=[(item, 1)])
    placed = order(customer, "150.00")
    assert quote.quote.points_to_earn == 25

    order_confirm_discounts(order=placed, quote=quote)

    assert rows(placed) == [("threshold", "Points from 100", "", D("0.00"), None, "", D("0.00"))]
    with pytest.raises(ValidationError, match="already recorded"):
        order_confirm_discounts(order=placed, quote=quote)
    assert discount.pk


def test_confirm_refuses_an_order_of_another_customer(shop, customer):
    (item,) = products(shop, "150")
    quote = cart_quote(shop=shop, customer=customer, lines=[(item, 1)])

    with pytest.raises(ValidationError, match="another customer"):
        order_confirm_discounts(order=order(CustomerFactory(shop=shop), "150"), quote=quote)


def test_amounts_are_money_in_the_shops_currency(shop, customer):
    threshold(shop, ("0", "5"), name="5%")
    (item,) = products(shop, "99.99")

    quote = cart_quote(shop=shop, customer=customer, lines=[(item, 3)])

    assert quote.total == Money(D("284.97"), "PLN")  # 299.97 - 15.00 (14.9985 half up)
    assert quote.discount_total == Money(D("15.00"), "PLN")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_checkouts_cannot_both_take_the_last_use(on_postgres):
    shop = ShopFactory(code="pl", currency="PLN")
    PromoCodeFactory(shop=shop, code="LAST", usage_limit=3, times_used=2)
    (item,) = products(shop, "100")
    buyers = [CustomerFactory(shop=shop) for _ in range(2)]
    quotes = [cart_quote(shop=shop, customer=b, lines=[(item, 1)], promo_code="LAST")
              for b in buyers]
    orders = [order(b, "90.00") for b in buyers]
    assert all(q.quote.promo_code == "LAST" for q in quotes)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def checkout(i):
        try:
            barrier.wait()
            order_confirm_discounts(order=orders[i], quote=quotes[i])
            outcomes.append("ok")
        except PromoCodeUnavailable as exc:
            outcomes.append(str(exc.reason))
        finally:
            connection.close()

    threads = [threading.Thread(target=checkout, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["code_limit_reached", "ok"]
    assert PromoCode.objects.get().times_used == 3
    assert PromoCodeUse.objects.count() == 1
    assert OrderDiscount.objects.filter(kind="promo_code").count() == 1
