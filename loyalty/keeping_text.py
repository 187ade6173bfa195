"""`to_keep` / `to_next` and `keeps_until` said in the active language (admin, messages)."""

from __future__ import annotations

from datetime import date

from django.utils.formats import date_format
from django.utils.translation import ngettext

from .explain_text import money
from .keeping import Need


def orders_text(n: int) -> str:
    return ngettext("%(n)s order", "%(n)s orders", n) % {"n": n}


def need_text(need: Need | None, currency: str) -> str:
    """ "200.00 PLN", "1 order", "200.00 PLN in 2 orders"; empty for None or nothing."""
    if need is None or need.nothing:
        return ""
    if need.amount > 0 and need.orders > 1:
        return ngettext("%(amount)s in %(n)s order", "%(amount)s in %(n)s orders",
                        need.orders) % {"amount": money(need.amount, currency),
                                        "n": need.orders}
    if need.amount > 0:
        return money(need.amount, currency)
    return orders_text(need.orders)


def day_text(day: date | None) -> str:
    return "" if day is None else date_format(day, "DATE_FORMAT")
