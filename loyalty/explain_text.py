"""Conditions and measured figures said as sentences in the admin's language.

Contract
- `check_sentence(check, names)` says one evaluated condition: what it looks at, what the
  customer has, what it asks for and how far they are, with units and the shop's currency:
  "Spend in the last 60 days: 1,986.21 PLN of 5,000.00 PLN — 3,013.79 PLN to go".
- `figure_sentences(figures, names)` says the figures a history row recorded (keyed by
  `conditions.label`, e.g. ``window_spend_60d``) the same way, without a target.
- `Names` carries what the sentences need besides the figures: the currency and the names
  of products and collections a condition refers to. No ORM here: callers read those.
- Numbers and amounts are formatted for the active language (grouping, decimal sign).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import conditions as c
from .conditions import Check, ConditionSpec

MONEY_KINDS = (c.WINDOW_SPEND, c.LIFETIME_SPEND, c.LARGEST_ORDER, c.PERIOD_SPEND)
COUNT_KINDS = (c.WINDOW_ORDERS, c.LIFETIME_ORDERS, c.SHIPPING_METHOD_USED, c.PERIOD_ORDERS)
POINTS_KINDS = (c.POINTS_EARNED, c.POINTS_BALANCE)


@dataclass(frozen=True)
class Names:
    currency: str
    products: dict[int, str] = field(default_factory=dict)
    collections: dict[int, str] = field(default_factory=dict)
    client_types: dict[str, str] = field(default_factory=dict)


def money(amount, currency: str) -> str:
    return f"{number_format(Decimal(amount), 2, force_grouping=True)} {currency}"


def _spend_in(period: str) -> str:
    return {
        c.CURRENT_YEAR: _("Spend in the current calendar year"),
        c.PREVIOUS_YEAR: _("Spend in the previous calendar year"),
        c.CURRENT_QUARTER: _("Spend in the current calendar quarter"),
        c.PREVIOUS_QUARTER: _("Spend in the previous calendar quarter"),
    }.get(period, period)


def _orders_in(period: str) -> str:
    return {
        c.CURRENT_YEAR: _("Counted orders in the current calendar year"),
        c.PREVIOUS_YEAR: _("Counted orders in the previous calendar year"),
        c.CURRENT_QUARTER: _("Counted orders in the current calendar quarter"),
        c.PREVIOUS_QUARTER: _("Counted orders in the previous calendar quarter"),
    }.get(period, period)


def what(spec: ConditionSpec, names: Names) -> str:
    """What a condition looks at, e.g. "Spend in the last 60 days"."""
    kind, days = spec.kind, spec.days
    if kind == c.PERIOD_SPEND:
        return _spend_in(spec.period)
    if kind == c.PERIOD_ORDERS:
        return _orders_in(spec.period)
    if kind == c.WINDOW_SPEND:
        return ngettext("Spend in the last %(days)s day", "Spend in the last %(days)s days",
                        days or 0) % {"days": days}
    if kind == c.WINDOW_ORDERS:
        return ngettext("Counted orders in the last %(days)s day",
                        "Counted orders in the last %(days)s days", days or 0) % {"days": days}
    if kind == c.LARGEST_ORDER and days:
        return ngettext("Largest order in the last %(days)s day",
                        "Largest order in the last %(days)s days", days) % {"days": days}
    if kind == c.LARGEST_ORDER:
        return _("Largest order ever")
    if kind == c.POINTS_EARNED:
        return ngettext("Points earned in the last %(days)s day",
                        "Points earned in the last %(days)s days", days or 0) % {"days": days}
    simple = {
        c.LIFETIME_SPEND: _("Lifetime spend"),
        c.LIFETIME_ORDERS: _("Counted orders ever"),
        c.DAYS_SINCE_LAST_ORDER: _("Days since the last counted order"),
        c.POINTS_BALANCE: _("Points balance"),
        c.CLIENT_TYPE: _("Client type"),
        c.ACTIVE: _("Active customer"),
        c.DISABLED: _("Disabled customer"),
        c.DELIVERY_CITY: _("Delivery city"),
    }
    if kind in simple:
        return simple[kind]
    if kind == c.BOUGHT_PRODUCT:
        return _("Has bought %(product)s") % {
            "product": names.products.get(spec.product_id, f"#{spec.product_id}")}
    if kind == c.BOUGHT_COLLECTION:
        return _("Has bought from the collection %(collection)s") % {
            "collection": names.collections.get(spec.collection_id, f"#{spec.collection_id}")}
    if kind == c.SHIPPING_METHOD_USED:
        return _("Orders shipped by %(method)s") % {"method": spec.text}
    return kind


def value_text(kind: str, value, names: Names) -> str:
    if value is None:
        return _("no counted order yet") if kind == c.DAYS_SINCE_LAST_ORDER else "—"
    if kind in MONEY_KINDS:
        return money(value, names.currency)
    if kind in POINTS_KINDS:
        return ngettext("%(n)s point", "%(n)s points", int(value)) % {
            "n": number_format(int(value), force_grouping=True)}
    if kind == c.DAYS_SINCE_LAST_ORDER:
        return ngettext("%(n)s day", "%(n)s days", int(value)) % {"n": int(value)}
    if kind in COUNT_KINDS:
        return number_format(int(value), force_grouping=True)
    if kind == c.CLIENT_TYPE:
        return names.client_types.get(value, value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value) if value != "" else "—"


def check_sentence(check: Check, names: Names) -> str:
    spec = check.condition
    kind = spec.kind
    head = what(spec, names)
    have = value_text(kind, check.measured, names)
    want = value_text(kind, check.wanted, names)
    if kind in MONEY_KINDS + COUNT_KINDS + POINTS_KINDS + (c.DAYS_SINCE_LAST_ORDER,):
        if spec.operator == c.LT and kind not in (c.LARGEST_ORDER, c.SHIPPING_METHOD_USED):
            return _("%(what)s: %(have)s (must be under %(want)s)") % {
                "what": head, "have": have, "want": want}
        if check.met or check.gap is None:
            return _("%(what)s: %(have)s (at least %(want)s)") % {
                "what": head, "have": have, "want": want}
        return _("%(what)s: %(have)s of %(want)s — %(gap)s to go") % {
            "what": head, "have": have, "want": want,
            "gap": value_text(kind, check.gap, names)}
    if kind in (c.ACTIVE, c.DISABLED, c.BOUGHT_PRODUCT, c.BOUGHT_COLLECTION):
        return f"{head}: {value_text(kind, bool(check.measured), names)}"
    return _("%(what)s: %(have)s (must be %(want)s)") % {"what": head, "have": have, "want": want}


KINDS = {
    c.CLIENT_TYPE, c.ACTIVE, c.WINDOW_SPEND, c.WINDOW_ORDERS, c.LARGEST_ORDER, c.LIFETIME_SPEND,
    c.DAYS_SINCE_LAST_ORDER, c.BOUGHT_PRODUCT, c.BOUGHT_COLLECTION, c.SHIPPING_METHOD_USED,
    c.DELIVERY_CITY, c.POINTS_EARNED, c.POINTS_BALANCE, c.LIFETIME_ORDERS, c.DISABLED,
    c.PERIOD_SPEND, c.PERIOD_ORDERS,
}


def spec_of_label(key: str) -> ConditionSpec | None:
    """The condition a history figure's key names (the inverse of `conditions.label`)."""
    if key in KINDS:
        return ConditionSpec(kind=key)
    for kind in sorted(KINDS, key=len, reverse=True):
        if key.startswith(kind + "_"):
            rest = key[len(kind) + 1:]
            if kind in (c.WINDOW_SPEND, c.WINDOW_ORDERS, c.LARGEST_ORDER, c.POINTS_EARNED):
                match = re.fullmatch(r"(\d+)d", rest)
                return ConditionSpec(kind=kind, days=int(match[1])) if match else None
            if kind == c.SHIPPING_METHOD_USED:
                return ConditionSpec(kind=kind, text=rest)
            if kind in (c.PERIOD_SPEND, c.PERIOD_ORDERS):
                return ConditionSpec(kind=kind, period=rest) if rest in c.PERIODS else None
            if kind in (c.BOUGHT_PRODUCT, c.BOUGHT_COLLECTION) and rest.isdigit():
                key_field = "product_id" if kind == c.BOUGHT_PRODUCT else "collection_id"
                return ConditionSpec(kind=kind, **{key_field: int(rest)})
    return None


def figure_sentences(figures: dict, names: Names) -> list[str]:
    """The figures of a history row, one sentence each ("Lifetime spend: 1,200.00 PLN")."""
    lines = []
    for key, value in (figures or {}).items():
        spec = spec_of_label(key)
        if spec is None:
            lines.append(f"{key}: {value}")
            continue
        if spec.kind in MONEY_KINDS and value is not None:
            value = Decimal(str(value))
        lines.append(f"{what(spec, names)}: {value_text(spec.kind, value, names)}")
    return lines


def lifecycle_sentence(*, category: str, grace_until=None, held_until=None, next_date=None,
                       locked: bool = False) -> str | None:
    """The customer's time-driven state in one sentence, or None: "In grace in Gold until
    2027-01-15: moves down at the first recalculation on or after that date unless they
    qualify again." Dates are ISO (the admin's dates are)."""
    if locked and held_until is not None:
        return _("Held in %(category)s by hand until %(date)s: from that date the rules "
                 "apply again.") % {"category": category, "date": held_until.isoformat()}
    if grace_until is not None:
        return _("In grace in %(category)s until %(date)s: no longer qualifies, and moves "
                 "down at the first recalculation on or after that date unless they qualify "
                 "again.") % {"category": category, "date": grace_until.isoformat()}
    if next_date is not None:
        return _("No longer qualifies for %(category)s, which customers leave downwards only "
                 "on fixed dates: the next is %(date)s.") % {
                     "category": category, "date": next_date.isoformat()}
    return None
