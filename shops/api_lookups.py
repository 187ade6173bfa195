"""The reads of the storefront API's hot paths, each in one plain SQL statement.

- ``token_lookup``: the active token of a key prefix, with its shop (every request);
- ``order_post_lookup``: is the order number recorded, who is the customer, which products
  are the SKUs (an order POST; see docs/intake.md for its statement budget);
- ``quote_lookup``: the customer and the products of a cart quote.

An ORM query costs more Python to compile than the database spends answering it (the
models' default orderings also add a join to the shop and a sort to each lookup): one
``UNION ALL`` of unique-index lookups (``(shop, number)``, ``(shop, external_id)``, ``(shop,
sku)``, ``prefix``) costs one round trip and no compilation. Rows come back as model
instances built like the ORM builds them (``Model.from_db`` after the database backend's
and the fields' converters, so SQLite's text dates and numbers are converted too); fields a
lookup does not load load on access, like ``.only()``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Model

from .models import ApiToken, Customer, Order, Product, Shop

_CUSTOMER_FIELDS = ["id", "shop_id", "external_id"]
_PRODUCT_FIELDS = ["id", "shop_id", "sku"]


class _Rows:
    """How to turn a model's columns, as a cursor returns them, into an instance."""

    def __init__(self, model: type[Model], attnames: list[str] | None = None):
        fields = [f for f in model._meta.concrete_fields
                  if attnames is None or f.attname in attnames]
        self.model = model
        self.attnames = [f.attname for f in fields]
        self.columns = [f.column for f in fields]
        self._fields = fields
        self._converters: dict[str, list] = {}  # per database alias

    def _converters_of(self, connection) -> list[list]:
        """Each column's converters (the backend's, then the field's), as the ORM's compiler
        collects them; the same for every row, so collected once per database."""
        if connection.alias not in self._converters:
            self._converters[connection.alias] = [
                connection.ops.get_db_converters(f.cached_col)
                + f.cached_col.get_db_converters(connection)
                for f in self._fields
            ]
        return self._converters[connection.alias]

    def select(self, table_alias: str) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{table_alias}.{quote(c)}" for c in self.columns)

    def build(self, values) -> Model:
        converted = []
        for field, converters, value in zip(self._fields, self._converters_of(connection),
                                            values, strict=True):
            if value is not None:
                for convert in converters:
                    value = convert(value, field.cached_col, connection)
            converted.append(value)
        return self.model.from_db(connection.alias, self.attnames, converted)


_TOKEN = _Rows(ApiToken)
_SHOP = _Rows(Shop)


def token_lookup(prefix: str) -> ApiToken | None:
    """The unrevoked token with this key prefix (unique), its shop loaded."""
    sql = (
        f"SELECT {_TOKEN.select('t')}, {_SHOP.select('s')} "  # noqa: S608 - names only
        f"FROM {ApiToken._meta.db_table} t "
        f"JOIN {Shop._meta.db_table} s ON s.{Shop._meta.pk.column} = t.shop_id "
        f"WHERE t.prefix = %s AND t.revoked_at IS NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(_TOKEN.columns)
    token = _TOKEN.build(row[:split])
    token.shop = _SHOP.build(row[split:])
    return token


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


_QUOTE_PRODUCT = _Rows(Product)
_QUOTE_CUSTOMER = _Rows(Customer, ["id", "shop_id", "external_id", "client_type"])


@dataclass
class QuoteLookup:
    customer: Customer | None
    products: dict[str, Product]


def quote_lookup(*, shop: Shop, customer: str | None, skus: list[str]) -> QuoteLookup:
    """The customer (when an external id is given: id, shop, external id and client type
    loaded) and the products of ``skus`` (every field) of ``shop``."""
    wanted = sorted(set(skus))
    marks = ", ".join(["%s"] * len(wanted)) or "NULL"
    width = len(_QUOTE_PRODUCT.columns)
    # The customer's row fills its columns in and pads the products' width with NULLs.
    padding = ", NULL" * (width - len(_QUOTE_CUSTOMER.columns))
    sql = (
        f"SELECT 1, {_QUOTE_PRODUCT.select('p')} "  # noqa: S608 - names and placeholders
        f"FROM {Product._meta.db_table} p WHERE p.shop_id = %s AND p.sku IN ({marks})"
    )
    params = [shop.pk, *wanted]
    if customer is not None:
        sql += (
            f" UNION ALL SELECT 2, {_QUOTE_CUSTOMER.select('c')}{padding} "  # noqa: S608
            f"FROM {Customer._meta.db_table} c WHERE c.shop_id = %s AND c.external_id = %s"
        )
        params += [shop.pk, customer]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    found = QuoteLookup(customer=None, products={})
    for kind, *values in rows:
        if kind == 1:
            product = _QUOTE_PRODUCT.build(values)
            product.shop = shop
            found.products[product.sku] = product
        else:
            found.customer = _QUOTE_CUSTOMER.build(values[:len(_QUOTE_CUSTOMER.columns)])
            found.customer.shop = shop
    return found
