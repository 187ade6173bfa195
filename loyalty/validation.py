"""Pure validation of rule conditions, shared by admin forms and the API."""

from datetime import date

from django.utils.translation import gettext as _

from . import conditions as c

#: Which inputs each kind of condition needs.
REQUIRED = {
    c.CLIENT_TYPE: ("client_type",),
    c.ACTIVE: (),
    c.WINDOW_SPEND: ("days", "amount"),
    c.WINDOW_ORDERS: ("days", "count"),
    c.LARGEST_ORDER: ("amount",),
    c.LIFETIME_SPEND: ("amount",),
    c.DAYS_SINCE_LAST_ORDER: ("count",),
    c.BOUGHT_PRODUCT: ("product",),
    c.BOUGHT_COLLECTION: ("collection",),
    c.SHIPPING_METHOD_USED: ("text", "count"),
    c.DELIVERY_CITY: ("text",),
    c.POINTS_EARNED: ("days", "count"),
    c.POINTS_BALANCE: ("count",),
    c.LIFETIME_ORDERS: ("count",),
    c.DISABLED: (),
    c.PERIOD_SPEND: ("period", "amount"),
    c.PERIOD_ORDERS: ("period", "count"),
}
#: Kinds whose operator may be "<"; the others always mean ">=" or "is".
TWO_WAY = {
    c.WINDOW_SPEND, c.WINDOW_ORDERS, c.LIFETIME_SPEND, c.DAYS_SINCE_LAST_ORDER, c.LIFETIME_ORDERS,
    c.POINTS_EARNED, c.POINTS_BALANCE, c.PERIOD_SPEND, c.PERIOD_ORDERS,
}


def condition_errors(
    *, kind: str, operator: str, amount, count, days, client_type, text, product, collection,
    shop_id: int | None = None, period: str = "",
) -> dict[str, str]:
    """Field name -> message for every problem with one condition (empty when valid)."""
    given = {
        "amount": amount, "count": count, "days": days, "client_type": client_type,
        "text": text, "product": product, "collection": collection, "period": period,
    }
    errors: dict[str, str] = {}
    if kind not in REQUIRED:
        return {"kind": _("Unknown condition.")}
    for name in REQUIRED[kind]:
        if given[name] in (None, ""):
            errors[name] = _("This condition needs a value here.")
    if operator == c.LT and kind not in TWO_WAY:
        errors["operator"] = _("This condition only supports “≥”.")
    if amount is not None and amount < 0:
        errors["amount"] = _("Must not be negative.")
    if days is not None and days < 1:
        errors["days"] = _("A window is at least one day.")
    if period and period not in c.PERIODS:
        errors["period"] = _("Unknown calendar period.")
    if shop_id is not None:
        for name in ("product", "collection"):
            obj = given[name]
            if obj is not None and obj.shop_id != shop_id:
                errors[name] = _("This belongs to another shop.")
    return errors


def reevaluation_dates(text: str) -> tuple[tuple[int, int], ...]:
    """Month-day dates ("01-01, 07-01") as sorted (month, day) pairs; raises ValueError with
    a message for the merchant. 29 February is refused: it would wait four years."""
    dates = set()
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            month, day = (int(x) for x in part.split("-"))
            date(2001, month, day)  # a common year: 29 February is not a date in it
        except ValueError:
            raise ValueError(_("“%(value)s” is not a month-day date such as 01-01 (29 February "
                               "is not allowed).") % {"value": part}) from None
        dates.add((month, day))
    return tuple(sorted(dates))


def reevaluation_text(dates: tuple[tuple[int, int], ...]) -> str:
    return ", ".join(f"{m:02d}-{d:02d}" for m, d in dates)


def until_error(until: date, today: date) -> str | None:
    """Why a temporary move's or lock's end date is refused (None when it is fine)."""
    if until <= today:
        return _("The end date must be in the future (after %(today)s).") % {
            "today": today.isoformat()}
    if (until - today).days > 3653:
        return _("The end date must be within ten years; lock without an end date instead.")
    return None
