"""Small builders shared by the pricing engine tests."""

from decimal import Decimal as D

from pricing.engine import CartLine


def line(pid, price, quantity=1, minimum="0", **fields):
    return CartLine(
        product_id=pid,
        sku=f"SKU-{pid}",
        name=f"Product {pid}",
        quantity=quantity,
        unit_price=D(price),
        minimum_price=D(minimum),
        **fields,
    )
