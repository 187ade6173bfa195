"""Pure validators shared by admin forms, the CSV import and the API."""

from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


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
