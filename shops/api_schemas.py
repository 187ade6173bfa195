"""Request and response bodies of the storefront API for customers, orders and returns.

Every limit the database has (lengths, choices, amounts' digits) is also in the schema, so
bad input is a 422 naming the field before any write, and the published OpenAPI schema tells
storefronts (and the schemathesis run) exactly what is accepted. Money is a decimal with two
places in the shop's currency, sent as a string or a number and returned as a string.

Inputs are strict (no coercion): a quantity is a JSON integer (not ``true``, ``"5"`` or
``2.0``), a flag a JSON boolean, a date or time an ISO 8601 string (never an epoch number),
an amount a string or a number (never a boolean). Maxima (docs/decisions.md, "Storefront
API"): ``MAX_QUANTITY`` units per line, ``MAX_AMOUNT`` per price, discount, shipping cost or
return, ``MAX_ORDER_TOTAL`` for an order's goods (the column's size); loyalty points are
64-bit, so the largest order's points fit.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema as NinjaSchema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .validation import MAX_AMOUNT, MAX_ORDER_TOTAL, MAX_QUANTITY

__all__ = ["MAX_AMOUNT", "MAX_ORDER_TOTAL", "MAX_QUANTITY"]  # with the schemas below

class Schema(NinjaSchema):
    """A django-ninja schema whose bodies are plain dicts: JSON coming in, the dicts the
    endpoints build going out. ninja wraps every (nested) input in a ``DjangoGetter`` to
    read model instances, managers and files as attributes; for a dict that changes
    nothing and cost about as much Python as the rest of an order POST's validation, so a
    dict is validated directly, anything else as ninja does."""

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values, handler, info: ValidationInfo):
        if type(values) is dict:
            return handler(values)
        return super()._run_root_validator(values, handler, info)


#: No NUL characters: PostgreSQL text cannot hold them.
_NO_NUL = r"^[^\x00]*$"

#: Dates outside this range are typing mistakes (and year 1 or 9999 with an offset does not
#: even convert to UTC).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _iso_text(value):
    """Dates and times come as ISO 8601 text: an integer epoch is not coerced."""
    if isinstance(value, str | datetime):
        return value
    raise PydanticCustomError(
        "datetime_type", "Input should be a date and time as an ISO 8601 string with an offset"
    )


def _iso_date(value):
    if isinstance(value, str | date):
        return value
    raise PydanticCustomError("date_type", "Input should be a date as an ISO 8601 string")


def _amount(value):
    """An amount is a string or a JSON number (parsed as Decimal); never a boolean."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise PydanticCustomError(
            "decimal_type", "Input should be an amount: a decimal number or a string"
        )
    return value


def _in_range(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError("must be between 1970-01-01 and 2100-01-01")
    return value


def Text(max_length: int, min_length: int = 0):  # noqa: N802 - a type factory
    return Annotated[
        str, StringConstraints(min_length=min_length, max_length=max_length, pattern=_NO_NUL)
    ]


Moment = Annotated[AwareDatetime, AfterValidator(_in_range), BeforeValidator(_iso_text)]
Day = Annotated[date, BeforeValidator(_iso_date)]
Money = Annotated[
    Decimal, Field(ge=0, le=MAX_AMOUNT, decimal_places=2), BeforeValidator(_amount)
]
PositiveMoney = Annotated[
    Decimal, Field(gt=0, le=MAX_AMOUNT, decimal_places=2), BeforeValidator(_amount)
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Quantity = Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]
Flag = StrictBool
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
    is_active: Flag = True
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
    paid_in_full: Flag = False
    shipping_method: Text(64) = ""
    shipping_cost: Money = Decimal(0)
    delivery_city: Text(120) = ""
    lines: list[LineIn] = Field(
        min_length=1, max_length=500,
        description=f"Goods total (units x price - discount, summed) at most {MAX_ORDER_TOTAL}.",
    )

    @field_validator("lines")
    @classmethod
    def _goods_within_maximum(cls, lines: list[LineIn]) -> list[LineIn]:
        goods = sum((ln.unit_price * ln.quantity - ln.discount for ln in lines), Decimal(0))
        if goods > MAX_ORDER_TOTAL:
            raise PydanticCustomError(
                "order_total", "The order's goods total is above the maximum of {maximum}.",
                {"maximum": f"{MAX_ORDER_TOTAL:,}"},
            )
        return lines


class OrderChangeIn(Schema):
    status: OrderStatusName | None = None
    paid_in_full: Flag | None = None


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
