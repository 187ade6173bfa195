"""Quoting carts with the shop's discount configurations, and recording what an order got.

``cart_quote`` loads everything with ``pricing.selectors`` (a fixed number of queries),
converts Money to Decimal at the edge, calls the pure ``pricing.engine.quote`` and wraps its
result in a ``CartQuote`` that gives amounts back as Money in the shop's currency.
``order_confirm_discounts`` records a quote's discounts on an order and counts the promo code
use atomically.

Points: ``cart_quote(points=n)`` redeems up to ``n`` of the customer's points at the shop's
value per point (loyalty.programs.redeem: never beyond the balance or the order's total);
the quote keeps the redemption beside the engine's breakdown and ``to_pay`` is the total
less its value. ``order_confirm_discounts`` spends them (loyalty.points.points_spend, a
conditional UPDATE of the balance) in the same transaction as the other records, and keeps
the points the quote granted for when the order counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _
from djmoney.money import Money
from moneyed import get_currency

from loyalty import points as loyalty_points
from loyalty import programs
from shops.models import Customer, Order, Product, Shop

from . import engine, selectors
from .messages import reason_message
from .models import (
    EVERY_CUSTOMER,
    DiscountKind,
    OrderDiscount,
    OrderGift,
    PromoCode,
    PromoCodeUse,
)

CartLines = Sequence[tuple[Product, int]]


@dataclass(frozen=True, kw_only=True)
class CartQuote:
    """A priced cart: the engine's ``quote`` (Decimals) and what it was priced for."""

    shop: Shop
    customer: Customer | None
    client_type: str
    today: date
    products: tuple[Product, ...]  # one per quote line, in cart order
    quote: engine.Quote
    #: Points redeemed on this cart (None when none were asked for).
    redemption: programs.Redemption | None = None

    @property
    def points_redeemed(self) -> int:
        return self.redemption.points if self.redemption else 0

    @property
    def points_value(self) -> Money:
        return self.money(self.redemption.value if self.redemption else Decimal(0))

    @property
    def to_pay(self) -> Money:
        """The goods total less the value of the points redeemed."""
        return self.total - self.points_value

    @property
    def currency(self) -> str:
        return self.shop.currency

    def money(self, amount: Decimal) -> Money:
        return Money(amount, self.shop.currency)

    @property
    def goods_total(self) -> Money:
        return self.money(self.quote.goods_total)

    @property
    def discount_total(self) -> Money:
        return self.money(self.quote.discount_total)

    @property
    def total(self) -> Money:
        return self.money(self.quote.total)

    @property
    def applied(self) -> tuple[engine.BreakdownEntry, ...]:
        return tuple(
            e for e in self.quote.breakdown if e.status is engine.DiscountStatus.APPLIED
        )


def currency_exponent(code: str) -> int:
    """Minor-unit digits of the currency (at most 2: what MoneyFields store)."""
    sub_unit = get_currency(code).sub_unit or 1
    return min(2, len(str(sub_unit)) - 1)


def _check_lines(shop: Shop, lines: CartLines) -> None:
    if not lines:
        raise ValidationError({"lines": _("A cart needs at least one line.")})
    for product, quantity in lines:
        if product.shop_id != shop.pk:
            raise ValidationError({"lines": _("Product %(sku)s belongs to another shop.")
                                   % {"sku": product.sku}})
        if str(product.price.currency) != shop.currency:
            raise ValidationError({"lines": _("Product %(sku)s is not priced in %(currency)s.")
                                   % {"sku": product.sku, "currency": shop.currency}})
        if not isinstance(quantity, int) or quantity < 1:
            raise ValidationError({"lines": _("Quantity must be at least 1.")})


@dataclass(frozen=True, kw_only=True)
class QuoteInputs:
    """Everything the engine needs for one quote, loaded from the database."""

    shop: Shop
    customer: Customer | None
    client_type: str
    today: date
    products: tuple[Product, ...]
    cart: engine.Cart
    context: engine.CustomerContext
    configurations: tuple[engine.Discount, ...]
    points_balance: int = 0
    point_value: Decimal = Decimal(0)


def cart_inputs(
    *,
    shop: Shop,
    customer: Customer | None = None,
    client_type: str | None = None,
    lines: CartLines,
    promo_code: str | None = None,
    today: date | None = None,
) -> QuoteInputs:
    """Load and convert (Money -> Decimal) what ``cart_quote`` prices; a fixed number of
    queries (see pricing.selectors). Raises ValidationError on invalid input."""
    if customer is not None and customer.shop_id != shop.pk:
        raise ValidationError({"customer": _("The customer belongs to another shop.")})
    if customer is None and not client_type:
        raise ValidationError({"client_type": _("Choose a customer or a client type.")})
    _check_lines(shop, lines)
    today = today or shop.today()

    if customer is not None:
        client_type = customer.client_type
    assert client_type is not None  # for the type checker: checked above

    data = selectors.pricing_data(
        shop=shop, client_type=client_type, product_ids=[p.pk for p, _ in lines],
        promo_code=promo_code, customer_id=customer.pk if customer is not None else None,
    )
    cart_lines = tuple(
        engine.CartLine(
            product_id=product.pk,
            sku=product.sku,
            name=product.name,
            quantity=quantity,
            unit_price=product.price.amount,
            minimum_price=product.min_price.amount,
            collections=data.collections.get(product.pk, frozenset()),
            quantity_profile=data.profiles.get(product.pk),
        )
        for product, quantity in lines
    )
    facts = data.customer
    configurations = list(data.discounts)
    if data.promo_code is not None:
        configurations.append(data.promo_code)

    context = engine.CustomerContext(
        client_type=client_type,
        today=today,
        lifetime_spend=facts.lifetime_spend if facts else Decimal(0),
        category_percent=facts.category_percent if facts else None,
        loyalty_card_percent=facts.loyalty_card_percent if facts else None,
        bonus_percent=facts.bonus_percent if facts else None,
        segment_ids=frozenset({EVERY_CUSTOMER}) | (facts.segment_ids if facts else frozenset()),
        promo_code_uses_total=data.promo_code_uses_total,
        promo_code_uses_by_customer=data.promo_code_uses_by_customer,
    )
    cart = engine.Cart(
        lines=cart_lines, currency_exponent=currency_exponent(shop.currency),
        promo_code=promo_code,
    )
    return QuoteInputs(
        shop=shop, customer=customer, client_type=client_type, today=today,
        products=tuple(product for product, _ in lines), cart=cart, context=context,
        configurations=tuple(configurations),
        points_balance=facts.points_balance if facts else 0,
        point_value=facts.point_value if facts else Decimal(0),
    )


def cart_quote(
    *,
    shop: Shop,
    customer: Customer | None = None,
    client_type: str | None = None,
    lines: CartLines,
    promo_code: str | None = None,
    today: date | None = None,
    points: int = 0,
) -> CartQuote:
    """Price ``lines`` (product, quantity) for a customer, or for a client type.

    A customer's own client type wins over ``client_type``. ``today`` defaults to the shop's
    local date (promo code validity). ``points``: how many of the customer's points to
    redeem (capped by the balance and the total). Reads only: one query (see selectors),
    so no transaction of its own: a single statement reads one snapshot.
    """
    if not isinstance(points, int) or points < 0:
        raise ValidationError({"points": _("Points to redeem must be a whole number, 0 or more.")})
    if points and customer is None:
        raise ValidationError({"points": _("Only a customer can redeem points.")})
    inputs = cart_inputs(shop=shop, customer=customer, client_type=client_type, lines=lines,
                         promo_code=promo_code, today=today)
    priced = engine.quote(inputs.cart, inputs.context, inputs.configurations)
    redemption = None
    if points:
        redemption = programs.redeem(
            requested=points, balance=inputs.points_balance, point_value=inputs.point_value,
            total=priced.total, exponent=inputs.cart.currency_exponent,
        )
    return CartQuote(
        shop=inputs.shop,
        customer=inputs.customer,
        client_type=inputs.client_type,
        today=inputs.today,
        products=inputs.products,
        quote=priced,
        redemption=redemption,
    )


class PromoCodeUnavailable(ValidationError):
    """The promo code of a quote can no longer be used (limit, dates, disabled)."""

    def __init__(self, reason: engine.Reason):
        self.reason = reason
        super().__init__({"promo_code": reason_message(reason)}, code=str(reason))


def _promo_code_use(*, code_id: int, order: Order, today: date) -> PromoCode:
    """Count one use, or raise PromoCodeUnavailable. The conditional UPDATE is the lock: of
    two concurrent checkouts taking the last use, the second one's UPDATE waits for the
    first to commit, then matches no row. The row stays locked until our commit, so the
    per-customer count below is serialized as well."""
    taken = (
        PromoCode.objects.filter(pk=code_id, shop_id=order.shop_id, enabled=True)
        .filter(Q(usage_limit__isnull=True) | Q(times_used__lt=F("usage_limit")))
        .update(times_used=F("times_used") + 1)
    )
    if not taken:
        enabled = PromoCode.objects.filter(pk=code_id, enabled=True).exists()
        raise PromoCodeUnavailable(
            engine.Reason.CODE_LIMIT_REACHED if enabled else engine.Reason.DISABLED
        )
    code = PromoCode.objects.get(pk=code_id)
    if code.valid_from is not None and today < code.valid_from:
        raise PromoCodeUnavailable(engine.Reason.CODE_NOT_YET_VALID)
    if code.valid_until is not None and today > code.valid_until:
        raise PromoCodeUnavailable(engine.Reason.CODE_EXPIRED)
    if code.usage_limit_per_customer is not None:
        used = PromoCodeUse.objects.filter(code=code, customer_id=order.customer_id).count()
        if used >= code.usage_limit_per_customer:
            raise PromoCodeUnavailable(engine.Reason.CODE_CUSTOMER_LIMIT_REACHED)
    PromoCodeUse.objects.create(code=code, customer_id=order.customer_id, order=order)
    return code


def _chosen_gift(
    *, quote: CartQuote, gift_product_id: int | None
) -> tuple[Product, engine.BreakdownEntry] | None:
    """The gift the customer picked, checked against what the quote offers: one of the
    gifts of the reached threshold tier (the engine lists only an applied discount's), and
    still an active product of the shop. Raises ValidationError on ``gift_product_id``."""
    if gift_product_id is None:
        return None
    if gift_product_id not in quote.quote.gift_product_ids:
        if not quote.quote.gift_product_ids:
            message = _("No gift is on offer for this order.")
        else:
            message = _("This product is not one of the gifts on offer for this order.")
        raise ValidationError({"gift_product_id": message})
    product = selectors.gift_available(shop_id=quote.shop.pk, product_id=gift_product_id)
    if product is None:
        raise ValidationError({"gift_product_id": _("This gift is no longer available.")})
    offered_by = next(
        (e for e in quote.applied if e.kind is engine.DiscountKind.THRESHOLD), None
    )
    return product, offered_by


@transaction.atomic
def order_confirm_discounts(
    *, order: Order, quote: CartQuote, today: date | None = None,
    gift_product_id: int | None = None,
) -> list[OrderDiscount]:
    """Record on ``order`` the discounts ``quote`` applied, and count its promo code use.

    Rows copy each discount's kind, name, code and percent and the amount per line, so that
    later configuration changes never alter the order. Raises ValidationError when the quote
    is for another shop or customer, when the order already has discounts recorded, and
    PromoCodeUnavailable (nothing recorded) when the code can no longer be used. The points
    the quote redeems are spent, and PointsUnavailable (nothing recorded) is raised when
    the balance no longer covers them.

    ``gift_product_id``: the gift the customer picked from those the quote offers (see
    ``_chosen_gift``); it is recorded as the order's ``OrderGift``. ValidationError on
    ``gift_product_id`` (nothing recorded) for a product not on offer or no longer active.
    """
    if order.shop_id != quote.shop.pk:
        raise ValidationError({"order": _("The order belongs to another shop.")})
    if quote.customer is not None and order.customer_id != quote.customer.pk:
        raise ValidationError({"order": _("The quote was made for another customer.")})
    if OrderDiscount.objects.filter(order=order).exists():
        raise ValidationError({"order": _("This order's discounts are already recorded.")})
    chosen = _chosen_gift(quote=quote, gift_product_id=gift_product_id)
    if chosen is not None:
        gift, offered_by = chosen
        configuration_id = (
            selectors.parse_engine_id(offered_by.discount_id)[1] if offered_by else None
        )
        try:
            with transaction.atomic():
                OrderGift.objects.create(
                    order=order, product=gift, sku=gift.sku, name=gift.name,
                    discount_name=offered_by.name if offered_by else "",
                    configuration_id=configuration_id,
                )
        except IntegrityError as exc:  # a concurrent confirmation recorded it first
            raise ValidationError(
                {"order": _("This order's discounts are already recorded.")}
            ) from exc

    entries: Mapping[int | str | None, engine.BreakdownEntry] = {
        e.discount_id: e for e in quote.applied
    }
    code_text = ""
    for entry in entries.values():
        kind, pk = selectors.parse_engine_id(entry.discount_id)
        if kind == DiscountKind.PROMO_CODE and entry.amount:
            code = _promo_code_use(code_id=pk, order=order, today=today or quote.today)
            code_text = code.code
    if quote.points_redeemed:
        loyalty_points.points_spend(order=order, points=quote.points_redeemed)
    loyalty_points.order_terms_record(
        order=order, granted_points=quote.quote.points_granted,
        earns_percent=quote.quote.earns_percent_points,
    )

    rows = []

    def row(entry: engine.BreakdownEntry, amount: Decimal, **fields) -> OrderDiscount:
        kind, pk = selectors.parse_engine_id(entry.discount_id)
        return OrderDiscount(
            order=order, kind=kind, configuration_id=pk, name=entry.name,
            code=code_text if kind == DiscountKind.PROMO_CODE else "",
            percent=entry.percent, amount=quote.money(amount), **fields,
        )

    for number, (line, product) in enumerate(
        zip(quote.quote.lines, quote.products, strict=True), start=1
    ):
        for applied in line.discounts:
            if applied.amount:
                rows.append(row(entries[applied.discount_id], applied.amount,
                                line_number=number, product=product, sku=line.sku))
    for entry in entries.values():
        if not entry.amount:  # applied for a gift, points or free shipping only
            rows.append(row(entry, Decimal(0)))
    return OrderDiscount.objects.bulk_create(rows)
