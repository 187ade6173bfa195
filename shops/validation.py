"""Pure validators shared by admin forms, the CSV import and the API."""

from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _

#: The documented maxima (docs/decisions.md, "Storefront API"), for the API and the admin:
#: units on one order line; a price, discount, shipping cost or return; an order's goods
#: total (the size of the money columns).
MAX_QUANTITY = 100_000
MAX_AMOUNT = Decimal("9999999999.99")
MAX_ORDER_TOTAL = Decimal("999999999999.99")


def check_currency(*, currency: str, shop_currency: str, field: str) -> None:
    if currency != shop_currency:
        raise ValidationError(
            {field: _("Currency %(got)s does not match the shop's currency %(want)s.")
             % {"got": currency, "want": shop_currency}}
        )


def check_not_negative(*, amount: Decimal, field: str) -> None:
    if amount < 0:
        raise ValidationError({field: _("Must not be negative.")})


def check_min_price(*, price: Decimal, min_price: Decimal) -> None:
    if min_price > price:
        raise ValidationError({"min_price": _("The minimum price cannot be above the price.")})


def check_returns_within_goods(*, goods_total: Decimal, returns: Iterable[Decimal]) -> None:
    returned = sum(returns, Decimal(0))
    if returned > goods_total:
        raise ValidationError(
            _("Returned value %(returned)s is above the order's goods value %(goods)s.")
            % {"returned": returned, "goods": goods_total}
        )


def check_at_most(*, value: Decimal | int, maximum: Decimal | int, field: str) -> None:
    if value > maximum:
        raise ValidationError({field: _("Must be at most %(maximum)s.") % {
            "maximum": number_format(maximum, force_grouping=True)}})


def check_order_total(*, goods_total: Decimal) -> None:
    if goods_total > MAX_ORDER_TOTAL:
        raise ValidationError(
            _("The order's goods total is above the maximum of %(maximum)s.")
            % {"maximum": number_format(MAX_ORDER_TOTAL, force_grouping=True)}
        )


def check_shop_change(
    *, currency_changes: bool, timezone_changes: bool, confirm_timezone: bool, data: list[str]
) -> None:
    """A shop with data (`data`: what it has, e.g. ["products", "orders"]) keeps its
    currency, and changes its time zone only when the change is confirmed."""
    if not data:
        return
    errors = {}
    if currency_changes:
        errors["currency"] = _(
            "The currency of a shop cannot change once it has data (%(data)s): its amounts "
            "would be read in the new currency.") % {"data": ", ".join(data)}
    if timezone_changes and not confirm_timezone:
        errors["timezone"] = _(
            "This shop has data: a new time zone moves every day boundary: rule windows "
            "(“in the last N days”), the day categories are recalculated as of, promo code "
            "validity and the statistics' days and weeks. The nightly schedules keep the "
            "server's time, so they run at another local hour. Tick “confirm the time zone "
            "change” to save.")
    if errors:
        raise ValidationError(errors)
