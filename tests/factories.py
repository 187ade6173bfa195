"""factory_boy factories and small builders shared by the test suite."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from djmoney.money import Money

from loyalty.models import Category, Condition, Rule
from shops import services
from shops.models import Customer, Product, Shop


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"shop{n}")
    name = factory.LazyAttribute(lambda o: f"Shop {o.code}")
    currency = "PLN"
    default_language = "pl"
    timezone = "Europe/Warsaw"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    shop = factory.SubFactory(ShopFactory)
    external_id = factory.Sequence(lambda n: f"C{n:05d}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.LazyAttribute(lambda o: f"{o.external_id.lower()}@example.com")
    client_type = "retail"

    @classmethod
    def _create(cls, model_class, *args, shop, external_id, **fields):
        # Through the service, as the storefront does: registration places the customer
        # in the shop's default category.
        customer, _ = services.customer_upsert(shop=shop, external_id=external_id, **fields)
        return customer


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    shop = factory.SubFactory(ShopFactory)
    sku = factory.Sequence(lambda n: f"SKU{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    price = factory.LazyAttribute(lambda o: Money(Decimal("100.00"), o.shop.currency))
    min_price = factory.LazyAttribute(lambda o: Money(Decimal("0.00"), o.shop.currency))


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"Category {n}")
    rank = factory.Sequence(lambda n: n + 1)


def add_rule(category: Category, *conditions: dict, name: str = "rule") -> Rule:
    rule = Rule.objects.create(category=category, name=name)
    for spec in conditions:
        Condition.objects.create(rule=rule, **spec)
    return rule


_order_numbers = iter(range(1, 10**9))


def order(
    customer: Customer, value, *, days_ago: int = 1, status: str = "completed",
    paid: bool = True, product: Product | None = None, shipping_method: str = "",
    quantity: int = 1, number: str | None = None,
):
    """A one-line order worth `value` placed `days_ago` days ago (at noon, shop time)."""
    shop = customer.shop
    product = product or ProductFactory(shop=shop)
    local_noon = timezone.localtime(timezone=shop.tz).replace(hour=12, minute=0, second=0)
    placed_at = local_noon - timedelta(days=days_ago)
    return services.order_record(
        shop=shop, number=number or f"O{next(_order_numbers)}", customer=customer,
        placed_at=placed_at, status=status, paid_in_full=paid, shipping_method=shipping_method,
        lines=[services.LineInput(product=product, quantity=quantity,
                                  unit_price=Decimal(value) / quantity)],
    )
