"""Storefront API: customers, orders, status and payment changes, returns (SPEC section 7).

Wiring only: each endpoint checks what only the API knows (the shop of the token, SKUs and
external ids, the currency), calls one ``shops.services`` function and shapes the answer.

Idempotency: an order number is recorded once. Posting it again with the same content
(customer, date, status, payment, shipping, lines as a set) answers 200 with the recorded
order; any difference is a 409 naming the fields that differ. Status and payment change
through ``PATCH /orders/{number}``. A return is recorded once per ``reference`` the same way.
"""

from __future__ import annotations

from datetime import UTC
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from ninja import Router, Status

from . import services
from .api_base import (
    check_currency,
    conflict,
    customer_or_404,
    invalid,
    invalid_from,
    order_or_404,
    shop_of,
)
from .api_lookups import order_post_lookup
from .api_schemas import (
    CustomerIn,
    CustomerOut,
    ErrorOut,
    OrderChangeIn,
    OrderIn,
    OrderOut,
    ReturnIn,
    ReturnOut,
)
from .models import Customer, Order, OrderLine, Product, Return, Shop

router = Router(tags=["customers and orders"])
CENT = Decimal("0.01")

#: Every endpoint's error answers, in the OpenAPI schema: 400 a body that is not JSON, 422 a
#: field of the wrong type, above its documented maximum or otherwise invalid.
ERRORS = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut,
          422: ErrorOut}


# --- customers -----------------------------------------------------------------------------


def customer_out(customer: Customer) -> dict:
    return {
        "external_id": customer.external_id, "name": customer.name, "email": customer.email,
        "phone": customer.phone, "language": customer.language,
        "client_type": customer.client_type, "city": customer.city,
        "address": customer.address, "is_active": customer.is_active,
        "registered_at": customer.registered_at,
    }


@router.put("/customers/{external_id}", response={200: CustomerOut, 201: CustomerOut, **ERRORS},
            summary="Create or update a customer by external id")
def customer_put(request, external_id: str, payload: CustomerIn):
    shop = shop_of(request)
    fields = payload.model_dump(exclude_unset=True)
    if fields.get("registered_at") is None:
        fields.pop("registered_at", None)
    if not external_id or len(external_id) > 64 or "\x00" in external_id:
        raise invalid("external_id", _("An external id has 1 to 64 characters."))
    try:
        customer, created = services.customer_upsert(
            shop=shop, external_id=external_id, **fields
        )
    except ValidationError as exc:
        raise invalid_from(exc) from exc
    return Status(201 if created else 200, customer_out(customer))


@router.get("/customers/{external_id}", response={200: CustomerOut, **ERRORS},
            summary="Read a customer")
def customer_get(request, external_id: str):
    return customer_out(customer_or_404(shop_of(request), external_id))


# --- orders --------------------------------------------------------------------------------


def _order_query(shop: Shop):
    return (
        Order.objects.filter(shop=shop).select_related("customer")
        .prefetch_related(
            Prefetch("lines", OrderLine.objects.select_related("product").order_by("pk")),
            Prefetch("returns", Return.objects.order_by("returned_at", "pk")),
        )
    )


def order_out(order: Order, lines: list[dict] | None = None) -> dict:
    """The order as the API shows it; `lines` when they are known already (a new order)."""
    return {
        "number": order.number, "customer": order.customer.external_id,
        "placed_at": order.placed_at, "currency": str(order.goods_total.currency),
        "status": order.status, "paid_in_full": order.paid_in_full, "counted": order.is_counted,
        "shipping_method": order.shipping_method, "shipping_cost": order.shipping_cost.amount,
        "delivery_city": order.delivery_city, "goods_total": order.goods_total.amount,
        "returned_total": order.returned_total.amount, "net_value": order.net_value.amount,
        "lines": lines if lines is not None else [
            {"sku": ln.product.sku, "quantity": ln.quantity, "unit_price": ln.unit_price.amount,
             "discount": ln.discount.amount, "total": ln.total.amount}
            for ln in order.lines.all()
        ],
        "returns": [] if lines is not None else [return_out(r) for r in order.returns.all()],
    }


def return_out(ret: Return) -> dict:
    return {"reference": ret.reference, "value": ret.value.amount, "returned_at": ret.returned_at}


def _recorded(shop: Shop, number: str) -> Order:
    return _order_query(shop).get(number=number)


def _differences(order: Order, payload: OrderIn) -> list[str]:
    """The fields where ``payload`` differs from the recorded ``order``."""
    mine = {
        "customer": order.customer.external_id, "placed_at": order.placed_at,
        "currency": str(order.goods_total.currency), "status": order.status,
        "paid_in_full": order.paid_in_full, "shipping_method": order.shipping_method,
        "shipping_cost": order.shipping_cost.amount, "delivery_city": order.delivery_city,
        "lines": sorted(
            (ln.product.sku, ln.quantity, ln.unit_price.amount, ln.discount.amount)
            for ln in order.lines.all()
        ),
    }
    theirs = payload.model_dump(exclude={"number", "lines"})
    theirs["lines"] = sorted(
        (ln.sku, ln.quantity, ln.unit_price, ln.discount) for ln in payload.lines
    )
    return [name for name, value in mine.items() if theirs[name] != value]


def _replay(order: Order, payload: OrderIn):
    differences = _differences(order, payload)
    if differences:
        raise conflict(
            _("Order %(number)s is already recorded with other content; change its status "
              "or payment with PATCH.") % {"number": order.number},
            differences,
        )
    return Status(200, order_out(order))


def _check_skus(skus: list[str], products: dict[str, Product], field: str) -> None:
    for index, sku in enumerate(skus):
        if sku not in products:
            raise invalid(f"{field}.{index}.sku",
                          _("No product with SKU %(sku)s in this shop.") % {"sku": sku})


@router.post("/orders", response={200: OrderOut, 201: OrderOut, **ERRORS},
             summary="Record an order (idempotent on the order number)")
def order_post(request, payload: OrderIn):
    shop = shop_of(request)
    skus = [ln.sku for ln in payload.lines]
    found = order_post_lookup(shop=shop, number=payload.number, customer=payload.customer,
                              skus=skus)
    if found.recorded:
        existing = _order_query(shop).filter(number=payload.number).first()
        if existing is not None:
            return _replay(existing, payload)
    check_currency(shop, payload.currency)
    customer = found.customer
    if customer is None:
        raise invalid("customer", _("No customer with this external id in this shop."))
    products = found.products
    _check_skus(skus, products, "lines")
    lines = [
        services.LineInput(product=products[ln.sku], quantity=ln.quantity,
                           unit_price=ln.unit_price, discount=ln.discount)
        for ln in payload.lines
    ]
    try:  # the service's own transaction: BEGIN, the order, its lines, its event, COMMIT
        order = services.order_record(
            shop=shop, number=payload.number, customer=customer,
            placed_at=payload.placed_at, lines=lines, status=payload.status,
            paid_in_full=payload.paid_in_full, shipping_method=payload.shipping_method,
            shipping_cost=payload.shipping_cost, delivery_city=payload.delivery_city,
        )
    except IntegrityError:
        # The same number recorded meanwhile by a concurrent request: judge it as a replay.
        existing = _order_query(shop).filter(number=payload.number).first()
        if existing is None:
            raise
        return _replay(existing, payload)
    except ValidationError as exc:
        raise invalid_from(exc) from exc
    # Answered from what was just written, as the database keeps it (UTC, cents), without
    # reading it back.
    out = order_out(order, lines=[
        {"sku": ln.product.sku, "quantity": ln.quantity, "unit_price": _cents(ln.unit_price),
         "discount": _cents(ln.discount),
         "total": _cents(ln.unit_price * ln.quantity - ln.discount)}
        for ln in lines
    ])
    for name in ("shipping_cost", "goods_total", "returned_total", "net_value"):
        out[name] = _cents(out[name])
    out["placed_at"] = order.placed_at.astimezone(UTC)
    return Status(201, out)


def _cents(amount) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


@router.get("/orders/{number}", response={200: OrderOut, **ERRORS}, summary="Read an order")
def order_get(request, number: str):
    shop = shop_of(request)
    order = _order_query(shop).filter(number=number).first()
    if order is None:
        order_or_404(shop, number)  # raises
    return order_out(order)


@router.patch("/orders/{number}", response={200: OrderOut, **ERRORS},
              summary="Change an order's status and/or payment")
def order_patch(request, number: str, payload: OrderChangeIn):
    shop = shop_of(request)
    order = order_or_404(shop, number)
    if payload.status is None and payload.paid_in_full is None:
        raise invalid(None, _("Give a status, a payment (paid_in_full) or both."))
    try:
        services.order_update(order=order, status=payload.status,
                              paid_in_full=payload.paid_in_full)
    except ValidationError as exc:
        raise invalid_from(exc) from exc
    return order_out(_recorded(shop, number))


@router.post("/orders/{number}/returns", response={200: ReturnOut, 201: ReturnOut, **ERRORS},
             summary="Record a return of goods (idempotent on the reference)")
def return_post(request, number: str, payload: ReturnIn):
    shop = shop_of(request)
    order = order_or_404(shop, number)

    def replay(ret: Return):
        same = ret.value.amount == payload.value and (
            payload.returned_at is None or payload.returned_at == ret.returned_at)
        if not same:
            raise conflict(_("Return %(reference)s is already recorded with another value or "
                             "date.") % {"reference": ret.reference}, ["reference"])
        return Status(200, return_out(ret))

    existing = Return.objects.filter(order=order, reference=payload.reference).first()
    if existing is not None:
        return replay(existing)
    check_currency(shop, payload.currency)
    try:
        with transaction.atomic():
            ret = services.return_record(
                order=order, value=Decimal(payload.value), returned_at=payload.returned_at,
                reference=payload.reference,
            )
    except IntegrityError:
        existing = Return.objects.filter(order=order, reference=payload.reference).first()
        if existing is None:
            raise
        return replay(existing)
    except ValidationError as exc:
        # "Returned value above the order's goods value" names no field: it is the value.
        raise invalid_from(exc, rename={"__all__": "value"}) from exc
    return Status(201, return_out(ret))

