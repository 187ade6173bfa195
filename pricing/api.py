"""Storefront API: quote a cart (SPEC section 3) and record a quote's discounts on an order.

Wiring only: ``pricing.services.cart_quote`` prices, ``order_confirm_discounts`` records.
Reasons are given as a stable code (``reason``) and a message in the request's language
(``?lang=`` or Accept-Language).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from shops.api import ERRORS
from shops.api_base import check_currency, conflict, invalid, invalid_from, order_or_404, shop_of
from shops.api_lookups import quote_lookup
from shops.models import Product

from . import services
from .api_schemas import ConfirmIn, ConfirmOut, QuoteIn, QuoteOut
from .messages import reason_message
from .models import OrderDiscount, OrderGift

router = Router(tags=["pricing"])


def quote_out(result: services.CartQuote) -> dict:
    quote = result.quote
    names = {e.discount_id: e.name for e in quote.breakdown}
    # The gifts' query is built only when there are gifts (a queryset costs Python to build).
    gifts = (Product.objects.filter(shop=result.shop, pk__in=quote.gift_product_ids)
             .order_by("sku") if quote.gift_product_ids else [])
    return {
        "currency": result.currency, "client_type": result.client_type, "date": result.today,
        "goods_total": quote.goods_total, "discount_total": quote.discount_total,
        "total": quote.total, "free_shipping": quote.free_shipping,
        "points_to_earn": quote.points_to_earn, "promo_code": quote.promo_code,
        "gifts": [{"id": p.pk, "sku": p.sku, "name": p.name} for p in gifts],
        "lines": [
            {
                "sku": line.sku, "name": product.name, "quantity": line.quantity,
                "free_quantity": line.free_quantity, "unit_price": line.unit_price,
                "undiscounted_total": line.undiscounted_total,
                "discount": line.discount_amount, "total": line.line_total,
                "final_unit_price": line.final_unit_price,
                "minimum_price_applied": line.minimum_price_applied,
                "discounts": [{"kind": str(d.kind), "name": d.name, "amount": d.amount}
                              for d in line.discounts],
                "rejected": [{"name": names.get(r.discount_id, str(r.discount_id)),
                              "reason": str(r.reason), "message": reason_message(r.reason)}
                             for r in line.rejected],
            }
            for line, product in zip(quote.lines, result.products, strict=True)
        ],
        "discounts": [
            {"kind": str(e.kind), "name": e.name, "status": str(e.status), "amount": e.amount,
             "percent": e.percent, "reason": str(e.reason) if e.reason else None,
             "message": reason_message(e.reason)}
            for e in quote.breakdown
        ],
    }


def _cart(lines, products: dict[str, Product]) -> list[tuple[Product, int]]:
    for index, line in enumerate(lines):
        if line.sku not in products:
            raise invalid(f"lines.{index}.sku",
                          _("No product with SKU %(sku)s in this shop.") % {"sku": line.sku})
    return [(products[line.sku], line.quantity) for line in lines]


def _lang(request, lang: str | None) -> str:
    """``?lang=`` when it is a known language, else the request's (Accept-Language)."""
    return lang if lang in dict(settings.LANGUAGES) else translation.get_language()


@router.post("/quotes", response={200: QuoteOut, **ERRORS}, summary="Quote a cart")
def quote_post(request, payload: QuoteIn, lang: Query[str | None] = None):
    shop = shop_of(request)
    if payload.currency is not None:
        check_currency(shop, payload.currency)
    if payload.customer is None and payload.client_type is None:
        raise invalid("client_type", _("Give a customer or a client type."))
    # The customer and the products in one read (shops.api_lookups).
    found = quote_lookup(shop=shop, customer=payload.customer,
                         skus=[line.sku for line in payload.lines])
    customer = found.customer
    if payload.customer is not None and customer is None:
        raise invalid("customer", _("No customer with this external id in this shop."))
    cart = _cart(payload.lines, found.products)
    with translation.override(_lang(request, lang)):
        try:
            result = services.cart_quote(
                shop=shop, customer=customer, client_type=payload.client_type, lines=cart,
                promo_code=payload.promo_code or None, today=payload.date,
            )
        except ValidationError as exc:
            raise invalid_from(exc) from exc
        return quote_out(result)


@router.post("/orders/{number}/discounts", response={201: ConfirmOut, **ERRORS},
             summary="Quote an order's lines and record the discounts on the order")
def order_discounts_post(request, number: str, payload: ConfirmIn,
                         lang: Query[str | None] = None):
    """Prices the order's products and quantities for its customer as a cart (with the promo
    code, if any), records the applied discounts on the order and counts the promo code use.
    An order's discounts are recorded once: a second call is a 409, and so is a promo code
    that can no longer be used (limit reached meanwhile). ``gift_product_id`` records the gift
    the customer picked; a product that is not one of the reached tier's gifts, or is no
    longer active, is a 422 on that field."""
    shop = shop_of(request)
    order = order_or_404(shop, number)
    order.customer.shop = shop
    if OrderDiscount.objects.filter(order=order).exists():
        raise conflict(_("This order's discounts are already recorded."), ["number"])
    cart = [(line.product, line.quantity)
            for line in order.lines.select_related("product").order_by("pk")]
    with translation.override(_lang(request, lang)):
        try:
            result = services.cart_quote(shop=shop, customer=order.customer, lines=cart,
                                         promo_code=payload.promo_code or None)
            rows = services.order_confirm_discounts(
                order=order, quote=result, gift_product_id=payload.gift_product_id
            )
        except services.PromoCodeUnavailable as exc:
            raise conflict(exc.messages[0], ["promo_code"]) from exc
        except ValidationError as exc:
            if "order" in getattr(exc, "error_dict", {}):  # recorded meanwhile
                raise conflict(exc.message_dict["order"][0], ["number"]) from exc
            raise invalid_from(exc) from exc
        return Status(201, {
            "order": order.number, "quote": quote_out(result),
            "discounts": [
                {"kind": r.kind, "name": r.name, "code": r.code, "percent": r.percent,
                 "line_number": r.line_number, "sku": r.sku, "amount": r.amount.amount}
                for r in rows
            ],
            "gift": _gift_out(order),
        })


def _gift_out(order) -> dict | None:
    gift = OrderGift.objects.filter(order=order).first()
    if gift is None:
        return None
    return {"id": gift.product_id, "sku": gift.sku, "name": gift.name,
            "discount": gift.discount_name}

