"""Request and response bodies of the storefront API for customers, orders and returns.

Every limit the database has (lengths, choices, amounts' digits) is also in the schema, so
bad input is a 422 naming the field before any write, and the published OpenAPI schema tells
storefronts (and the schemathesis run) exactly what is accepted. Money is a decimal with two
places in the shop's currency, sent as a string or a number and returned as a string.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

#: No NUL characters: PostgreSQL text cannot hold them.
_NO_NUL = r"^[^\x00]*$"

#: Dates outside this range are typing mistakes (and year 1 or 9999 with an offset does not
#: even convert to UTC).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _in_range(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError("must be between 1970-01-01 and 2100-01-01")
    return value


def Text(max_length: int, min_length: int = 0):  # noqa: N802 - a type factory
    return Annotated[
        str, StringConstraints(min_length=min_length, max_length=max_length, pattern=_NO_NUL)
    ]


Moment = Annotated[AwareDatetime, AfterValidator(_in_range)]
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
PositiveMoney = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Quantity = Annotated[int, Field(ge=1, le=100_000)]
#: A language code of settings.LANGUAGES (checked by the model's choices).
Language = Text(8)
ClientTypeName = Literal["retail", "wholesale"]
OrderStatusName = Literal["new", "completed", "cancelled"]
ExternalId = Text(64, 1)
OrderNumber = Text(64, 1)
Sku = Text(64, 1)


class FieldError(Schema):
    field: str | None = Field(description="Dotted path of the field, e.g. lines.0.quantity")
    message: str


class ErrorOut(Schema):
    """Every 4xx answer has this shape."""

    detail: str
    errors: list[FieldError] = []


# --- customers -----------------------------------------------------------------------------


class CustomerIn(Schema):
    """A customer as the storefront knows them. Fields left out keep their value (or the
    default, for a new customer); ``name`` is required."""

    name: Text(200, 1)
    email: Text(254) = ""
    phone: Text(32) = ""
    language: Language = Field("", description="en, pl, uk, ru or fr; empty: the shop's "
                                                "default language.")
    client_type: ClientTypeName = "retail"
    city: Text(120) = ""
    address: Text(300) = ""
    is_active: bool = True
    registered_at: Moment | None = None


class CustomerOut(Schema):
    external_id: str
    name: str
    email: str
    phone: str
    language: str
    client_type: str
    city: str
    address: str
    is_active: bool
    registered_at: datetime


# --- orders --------------------------------------------------------------------------------


class LineIn(Schema):
    sku: Sku
    quantity: Quantity
    unit_price: Money
    discount: Money = Field(Decimal(0), description="Total discount on the line (all units).")


class OrderIn(Schema):
    number: OrderNumber
    customer: ExternalId = Field(description="The customer's external id.")
    placed_at: Moment
    currency: Currency = Field(description="Must be the shop's currency.")
    status: OrderStatusName = "new"
    paid_in_full: bool = False
    shipping_method: Text(64) = ""
    shipping_cost: Money = Decimal(0)
    delivery_city: Text(120) = ""
    lines: list[LineIn] = Field(min_length=1, max_length=500)


class OrderChangeIn(Schema):
    status: OrderStatusName | None = None
    paid_in_full: bool | None = None


class LineOut(Schema):
    sku: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    total: Decimal


class ReturnOut(Schema):
    reference: str
    value: Decimal
    returned_at: datetime


class OrderOut(Schema):
    number: str
    customer: str
    placed_at: datetime
    currency: str
    status: str
    paid_in_full: bool
    counted: bool = Field(description="Completed and paid in full: counts for loyalty.")
    shipping_method: str
    shipping_cost: Decimal
    delivery_city: str
    goods_total: Decimal
    returned_total: Decimal
    net_value: Decimal
    lines: list[LineOut]
    returns: list[ReturnOut]


class ReturnIn(Schema):
    reference: Text(64, 1) = Field(
        description="The storefront's return id: posting the same return again changes nothing."
    )
    value: PositiveMoney
    currency: Currency
    returned_at: Moment | None = None
