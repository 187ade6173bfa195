"""Issue 16 item 4: the customer's choice among a threshold tier's gifts is checked and
recorded on the order (an OrderGift row; the order's lines are the storefront's facts)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from pricing.models import OrderDiscount, OrderGift
from pricing.services import cart_quote, order_confirm_discounts
from shops.models import Product
from tests.factories import CustomerFactory, ProductFactory, ShopFactory, order
from tests.pricing.factories import money, threshold

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return ShopFactory(code="pl", currency="PLN")


@pytest.fixture
def world(shop):
    """5% from 500 PLN, 10% from 1500 PLN with a choice of socks or a keyring."""
    discount = threshold(shop, ("500", "5"), ("1500", "10"), name="Big order")
    socks = ProductFactory(shop=shop, sku="SOCKS", name="Socks", price=money(shop, "20"))
    keyring = ProductFactory(shop=shop, sku="KEYRING", name="Keyring", price=money(shop, "9"))
    bottle = ProductFactory(shop=shop, sku="BOTTLE", name="Bottle", price=money(shop, "30"))
    low, high = discount.tiers.order_by("min_goods_value")
    low.gifts.add(bottle)
    high.gifts.add(socks, keyring)
    customer = CustomerFactory(shop=shop)
    return {"customer": customer, "socks": socks, "keyring": keyring, "bottle": bottle,
            "sofa": ProductFactory(shop=shop, sku="SOFA", price=money(shop, "1600"))}


def confirm(world, gift, value="1600"):
    product = world["sofa"] if value == "1600" else ProductFactory(
        shop=world["customer"].shop, price=money(world["customer"].shop, value))
    placed = order(world["customer"], value, status="new", paid=False, product=product)
    quote = cart_quote(shop=placed.shop, customer=world["customer"], lines=[(product, 1)])
    return placed, quote, lambda: order_confirm_discounts(
        order=placed, quote=quote, gift_product_id=gift)


def test_the_chosen_gift_of_the_reached_tier_is_recorded_on_the_order(world):
    placed, quote, run = confirm(world, None)
    assert set(quote.quote.gift_product_ids) == {world["socks"].pk, world["keyring"].pk}
    placed, quote, run = confirm(world, world["keyring"].pk)

    run()

    gift = OrderGift.objects.get(order=placed)
    assert (gift.product, gift.sku, gift.name, gift.discount_name) == (
        world["keyring"], "KEYRING", "Keyring", "Big order")
    assert placed.lines.count() == 1 and placed.goods_total == money(placed.shop, "1600")


@pytest.mark.parametrize(("gift", "message"), [
    ("bottle", "This product is not one of the gifts on offer for this order."),  # lower tier
    ("sofa", "This product is not one of the gifts on offer for this order."),
])
def test_a_gift_not_on_offer_is_refused_and_nothing_is_recorded(world, gift, message):
    placed, _, run = confirm(world, world[gift].pk)

    with pytest.raises(ValidationError) as refused:
        run()

    assert refused.value.message_dict == {"gift_product_id": [message]}
    assert not OrderGift.objects.exists() and not OrderDiscount.objects.exists()


def test_no_gift_can_be_chosen_when_no_tier_offering_one_is_reached(world):
    placed, _, run = confirm(world, world["socks"].pk, value="600")  # 5% tier: the bottle
    with pytest.raises(ValidationError) as refused:
        run()
    assert refused.value.message_dict == {"gift_product_id": [
        "This product is not one of the gifts on offer for this order."]}

    placed, _, run = confirm(world, world["socks"].pk, value="100")  # no tier reached
    with pytest.raises(ValidationError) as refused:
        run()
    assert refused.value.message_dict == {"gift_product_id": [
        "No gift is on offer for this order."]}


def test_an_inactive_gift_is_not_offered_and_a_stale_choice_is_refused(world):
    placed, quote, run = confirm(world, world["socks"].pk)
    Product.objects.filter(pk=world["socks"].pk).update(is_active=False)  # sold out meanwhile

    with pytest.raises(ValidationError) as refused:
        run()

    assert refused.value.message_dict == {"gift_product_id": ["This gift is no longer available."]}
    assert not OrderDiscount.objects.exists() and not OrderGift.objects.exists()
    fresh = cart_quote(shop=placed.shop, customer=world["customer"],
                       lines=[(world["sofa"], 1)])
    assert fresh.quote.gift_product_ids == (world["keyring"].pk,)


def test_the_order_page_shows_the_chosen_gift_and_the_discounts(admin_client, world):
    placed, _, run = confirm(world, world["socks"].pk)
    run()

    page = admin_client.get(reverse("admin:shops_order_change", args=[placed.pk]))

    assert page.status_code == 200
    text = page.content.decode()
    assert "Chosen gift" in text
    assert "SOCKS" in text and "Big order" in text
    assert "Applied discounts" in text and "160.00" in text
