"""The reads of an order POST in one statement: is the number recorded, who is the
customer, which products are the SKUs.

An order POST is the storefront's hot path (see docs/intake.md for its statement budget).
Three ORM queries cost three round trips and, more, three compilations of the same SQL in
Python; one ``UNION ALL`` of three index lookups (``(shop, number)``, ``(shop,
external_id)``, ``(shop, sku)`` are unique) costs one. The customer and the products come
back as model instances with only the fields the write path uses loaded (the others load
on access, like ``.only()``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from .models import Customer, Order, Product, Shop

_CUSTOMER_FIELDS = ["id", "shop_id", "external_id"]
_PRODUCT_FIELDS = ["id", "shop_id", "sku"]


@dataclass
class OrderLookup:
    recorded: bool  # the order number is recorded in this shop already
    customer: Customer | None
    products: dict[str, Product]


def order_post_lookup(*, shop: Shop, number: str, customer: str, skus: list[str]
                      ) -> OrderLookup:
    wanted = sorted(set(skus))
    marks = ", ".join(["%s"] * len(wanted)) or "NULL"
    # Only table names and placeholders are formatted in; every value is a parameter.
    sql = (
        f'SELECT 1, "id", NULL FROM {Order._meta.db_table} '  # noqa: S608
        f'WHERE "shop_id" = %s AND "number" = %s '
        f'UNION ALL SELECT 2, "id", "external_id" FROM {Customer._meta.db_table} '
        f'WHERE "shop_id" = %s AND "external_id" = %s '
        f'UNION ALL SELECT 3, "id", "sku" FROM {Product._meta.db_table} '
        f'WHERE "shop_id" = %s AND "sku" IN ({marks})'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [shop.pk, number, shop.pk, customer, shop.pk, *wanted])
        rows = cursor.fetchall()
    found = OrderLookup(recorded=False, customer=None, products={})
    for kind, pk, key in rows:
        if kind == 1:
            found.recorded = True
        elif kind == 2:
            found.customer = Customer.from_db(connection.alias, _CUSTOMER_FIELDS,
                                              [pk, shop.pk, key])
            found.customer.shop = shop
        else:
            product = Product.from_db(connection.alias, _PRODUCT_FIELDS, [pk, shop.pk, key])
            product.shop = shop
            found.products[key] = product
    return found
