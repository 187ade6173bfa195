"""The one entry point for each change to commerce facts.

Every function is atomic and keeps the order's goods/returned totals in step with its lines
and returns. A change that moves a customer's figures writes one `IntakeEvent` (see
shops.intake); its effects are applied by the intake drain after commit, never here. A
change locks only the order row it changes (`of=("self",)`), never the shop.
"""

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from . import bulk, events, intake, validation
from .models import Customer, IntakeKind, Order, OrderLine, Product, Return, Shop


@dataclass(frozen=True)
class LineInput:
    product: Product
    quantity: int
    unit_price: Decimal
    discount: Decimal = Decimal(0)


def _intake_kind(order: Order, *, was_counted: bool, old_value: Decimal | None) -> str | None:
    """The kind of intake event a change writes: when it moves the customer's figures."""
    now_counted = order.is_counted
    if now_counted and not was_counted:
        return IntakeKind.COUNTED
    if was_counted and not now_counted:
        return IntakeKind.UNCOUNTED
    if now_counted and old_value is not None and old_value != order.net_value.amount:
        return IntakeKind.VALUE
    return None


def _report(order: Order, *, was_counted: bool, old_value: Decimal | None) -> None:
    """Write the intake event of a change that moves the customer's figures, if any. Its
    effects (points, category, segments, messages) are applied by the drain after commit."""
    what = _intake_kind(order, was_counted=was_counted, old_value=old_value)
    if what:
        intake.record(order, what)


#: A customer's own fields that loyalty rules read: a change stamps `orders_changed_at`, so
#: that an incremental night (loyalty.incremental) re-examines the customer.
RULE_FIELDS = frozenset({"client_type", "is_active", "city"})


@transaction.atomic
def customer_upsert(*, shop: Shop, external_id: str, **fields) -> tuple[Customer, bool]:
    """Create or update a customer by external id. Returns (customer, created)."""
    customer, created = Customer.objects.select_for_update().get_or_create(
        shop=shop, external_id=external_id, defaults=fields
    )
    if not created:
        changed = [k for k, v in fields.items() if getattr(customer, k) != v]
        for key in changed:
            setattr(customer, key, fields[key])
        if changed:
            if RULE_FIELDS.intersection(changed):  # loyalty must look at them again
                customer.orders_changed_at = timezone.now()
                changed.append("orders_changed_at")
            customer.full_clean()
            customer.save(update_fields=changed)
    else:
        customer.full_clean()
        events.figures_changed(
            events.FiguresChanged(
                shop_id=shop.pk, customer_id=customer.pk, order_id=None, what="registered"
            )
        )
    return customer, created


def _money(shop: Shop, amount: Decimal) -> Money:
    return Money(amount, shop.currency)


def order_record(
    *,
    shop: Shop,
    number: str,
    customer: Customer,
    placed_at: datetime,
    lines: list[LineInput],
    status: str = "new",
    paid_in_full: bool = False,
    shipping_method: str = "",
    shipping_cost: Decimal = Decimal(0),
    delivery_city: str = "",
) -> Order:
    """Record a new order with its lines (and its intake event when it counts), atomically."""
    if customer.shop_id != shop.pk:
        raise ValidationError({"customer": _("The customer belongs to another shop.")})
    if not lines:
        raise ValidationError({"lines": _("An order needs at least one line.")})
    validation.check_not_negative(amount=shipping_cost, field="shipping_cost")
    for line in lines:
        if line.product.shop_id != shop.pk:
            raise ValidationError({"lines": _("Product %(sku)s belongs to another shop.")
                                   % {"sku": line.product.sku}})
        if line.quantity < 1:
            raise ValidationError({"lines": _("Quantity must be at least 1.")})
        validation.check_not_negative(amount=line.unit_price, field="unit_price")
        validation.check_not_negative(amount=line.discount, field="discount")
        if line.discount > line.unit_price * line.quantity:
            raise ValidationError({"lines": _("A line's discount cannot exceed its value.")})
    goods = sum((ln.unit_price * ln.quantity - ln.discount for ln in lines), Decimal(0))
    order = Order(
        shop=shop, number=number, customer=customer, placed_at=placed_at, status=status,
        paid_in_full=paid_in_full, shipping_method=shipping_method,
        shipping_cost=_money(shop, shipping_cost), delivery_city=delivery_city,
        goods_total=_money(shop, goods), returned_total=_money(shop, Decimal(0)),
    )
    # The shop and customer were checked above (no existence query per foreign key); the
    # number's uniqueness is the database's constraint (callers handle the IntegrityError).
    order.full_clean(exclude=["shop", "customer"], validate_unique=False,
                     validate_constraints=False)
    order_lines = [
        OrderLine(
            order=order, product=ln.product, quantity=ln.quantity,
            unit_price=_money(shop, ln.unit_price), discount=_money(shop, ln.discount),
        )
        for ln in lines
    ]
    what = _intake_kind(order, was_counted=False, old_value=None)
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        # The storefront's hot path: order, lines and event in one statement, atomic by
        # itself, so outside a transaction no BEGIN / COMMIT round trips (docs/intake.md).
        # Inside one, a savepoint keeps a duplicate number's IntegrityError from breaking
        # the caller's transaction, as the atomic block below does.
        event = intake.event_for(order, what) if what else None
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            bulk.order_insert(order, order_lines, event, connection)
            if event is not None:
                intake.schedule_drain()
        return order
    with transaction.atomic():
        order.save()
        OrderLine.objects.bulk_create(order_lines)
        if what:
            intake.record(order, what)
    return order


@transaction.atomic
def order_update(
    *, order: Order, status: str | None = None, paid_in_full: bool | None = None
) -> Order:
    """Change an order's status and/or payment."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    was_counted, old_value = order.is_counted, order.net_value.amount
    if status is not None:
        order.status = status
    if paid_in_full is not None:
        order.paid_in_full = paid_in_full
    order.full_clean(validate_unique=False, validate_constraints=False)
    order.save(update_fields=["status", "paid_in_full"])
    _report(order, was_counted=was_counted, old_value=old_value)
    return order


@transaction.atomic
def return_record(
    *, order: Order, value: Decimal, returned_at: datetime | None = None, reference: str = ""
) -> Return:
    """Record a return of goods; the order's value drops retroactively."""
    order = Order.objects.select_for_update(of=("self",)).select_related("shop").get(pk=order.pk)
    if value <= 0:
        raise ValidationError({"value": _("A returned value must be above zero.")})
    validation.check_returns_within_goods(
        goods_total=order.goods_total.amount, returns=[order.returned_total.amount, value]
    )
    ret = Return.objects.create(
        order=order, value=_money(order.shop, value),
        returned_at=returned_at or timezone.now(), reference=reference,
    )
    old_value = order.net_value.amount
    order.returned_total = _money(order.shop, order.returned_total.amount + value)
    order.save(update_fields=["returned_total"])
    _report(order, was_counted=order.is_counted, old_value=old_value)
    return ret


@transaction.atomic
def order_edit(*, order: Order, save_lines_and_returns: Callable[[], None]) -> Order:
    """Save an order edited as a whole (the admin's order form with its lines and returns):
    its own fields, then `save_lines_and_returns` (which writes the edited lines and returns
    of this order), then the goods and returned totals recomputed from what is stored, and
    the change of the customer's figures reported, as one atomic step."""
    if order.pk is None:
        was_counted, old_value = False, None
    else:
        before = Order.objects.select_for_update().get(pk=order.pk)
        was_counted, old_value = before.is_counted, before.net_value.amount
    order.save()
    save_lines_and_returns()
    return _totals_refresh(order=order, was_counted=was_counted, old_value=old_value)


def _totals_refresh(*, order: Order, was_counted: bool, old_value: Decimal | None) -> Order:
    """Recompute goods and returned totals from the order's stored lines and returns."""
    order = Order.objects.select_for_update(of=("self",)).select_related("shop").get(pk=order.pk)
    goods = Decimal(0)
    for ln in order.lines.all():
        goods += ln.unit_price.amount * ln.quantity - ln.discount.amount
    returned = order.returns.aggregate(s=Sum("value"))["s"] or Decimal(0)
    validation.check_returns_within_goods(goods_total=goods, returns=[returned])
    order.goods_total = _money(order.shop, goods)
    order.returned_total = _money(order.shop, returned)
    order.save(update_fields=["goods_total", "returned_total"])
    _report(order, was_counted=was_counted, old_value=old_value)
    return order



# --- the shop itself ---------------------------------------------------------------------------


def shop_data(shop: Shop) -> list[str]:
    """What the shop already holds in its currency and time zone, as labels (empty: none).
    One EXISTS query per kind: products, orders, and what other apps registered."""
    found = []
    if Product.objects.filter(shop=shop).exists():
        found.append(_("products"))
    if Order.objects.filter(shop=shop).exists():
        found.append(_("orders"))
    for label, check in events.shop_data_checks():
        if check(shop.pk):
            found.append(str(label))
    return found


#: The fields `shop_update` may change.
SHOP_FIELDS = ("code", "name", "currency", "default_language", "timezone")


@transaction.atomic
def shop_update(*, shop: Shop, confirm_timezone: bool = False, **fields) -> Shop:
    """Change a shop's settings. Its currency is fixed once it has data (see `shop_data`);
    its time zone changes only with `confirm_timezone` then (day boundaries move). The
    shop's row is locked, so the check and the write see the same shop. On PostgreSQL a
    trigger also refuses a currency change of a shop with products or orders."""
    unknown = set(fields) - set(SHOP_FIELDS)
    if unknown:
        raise TypeError(f"shop_update() cannot change {sorted(unknown)}")
    current = Shop.objects.select_for_update().get(pk=shop.pk)
    changed = {name: value for name, value in fields.items() if getattr(current, name) != value}
    if not changed:
        return current
    validation.check_shop_change(
        currency_changes="currency" in changed, timezone_changes="timezone" in changed,
        confirm_timezone=confirm_timezone,
        data=shop_data(current) if {"currency", "timezone"} & set(changed) else [],
    )
    for name, value in changed.items():
        setattr(current, name, value)
    current.full_clean()
    current.save(update_fields=list(changed))
    return current
