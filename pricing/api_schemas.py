"""Bodies of the storefront API's cart quotes and discount confirmations."""

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from shops.api_schemas import (
    ClientTypeName,
    Currency,
    Day,
    ExternalId,
    Quantity,
    Schema,
    Sku,
    Text,
)


class CartLineIn(Schema):
    sku: Sku
    quantity: Quantity


class QuoteIn(Schema):
    customer: ExternalId | None = Field(
        None, description="The customer's external id; without one, give a client type."
    )
    client_type: ClientTypeName | None = Field(
        None, description="Prices for this client type when no customer is given."
    )
    lines: Annotated[list[CartLineIn], Field(min_length=1, max_length=200)]
    promo_code: Text(64) | None = None
    currency: Currency | None = Field(None, description="If given, must be the shop's.")
    date: Day | None = Field(None, description="Price as of this day (promo code validity); "
                                                "default: today in the shop's time zone.")


class AppliedOut(Schema):
    kind: str
    name: str
    amount: Decimal


class RejectedOut(Schema):
    name: str
    reason: str
    message: str


class QuoteLineOut(Schema):
    sku: str
    name: str
    quantity: int
    free_quantity: int
    unit_price: Decimal
    undiscounted_total: Decimal
    discount: Decimal
    total: Decimal
    final_unit_price: Decimal
    minimum_price_applied: bool
    discounts: list[AppliedOut]
    rejected: list[RejectedOut]


class DiscountOut(Schema):
    kind: str
    name: str
    status: str = Field(description="applied or rejected")
    amount: Decimal
    percent: Decimal | None
    reason: str | None
    message: str


class GiftOut(Schema):
    id: int = Field(description="Give it back as gift_product_id to choose this gift.")
    sku: str
    name: str


class QuoteOut(Schema):
    currency: str
    client_type: str
    date: dt.date
    goods_total: Decimal
    discount_total: Decimal
    total: Decimal
    free_shipping: bool
    points_to_earn: int
    promo_code: str | None = Field(description="The promo code applied, if any.")
    gifts: list[GiftOut] = Field(description="Gifts on offer: the customer may pick one.")
    lines: list[QuoteLineOut]
    discounts: list[DiscountOut]


class ConfirmIn(Schema):
    promo_code: Text(64) | None = None
    gift_product_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = Field(
        None, description="The gift the customer picked: the id of one of the quote's gifts."
    )


class RecordedDiscountOut(Schema):
    kind: str
    name: str
    code: str
    percent: Decimal | None
    line_number: int | None
    sku: str
    amount: Decimal


class ChosenGiftOut(Schema):
    id: int | None
    sku: str
    name: str
    discount: str = Field(description="The discount whose tier offered it.")


class ConfirmOut(Schema):
    order: str
    quote: QuoteOut
    discounts: list[RecordedDiscountOut]
    gift: ChosenGiftOut | None = Field(description="The gift recorded on the order, if any.")
