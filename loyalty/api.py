"""Storefront API: a customer's category, points balance, segments and progress.

Texts are in the requested language (``?lang=``, else the customer's language), falling back
to the shop's default language and then to the default one. Hidden categories are never
shown: a customer in one reads ``category: null``.

The balance is the ledger's (``loyalty.points``); segments are the stored membership
(``loyalty.SegmentMember``, refreshed nightly and on counted orders).
"""

from __future__ import annotations

from ninja import Query, Router, Schema

from shops.api import ERRORS
from shops.api_base import customer_or_404, shop_of
from shops.languages import languages, translated
from shops.models import Customer

from . import keeping_db, points, selectors
from .api_schemas import LoyaltyOut
from .conditions import as_json
from .models import Category, SegmentMember

router = Router(tags=["loyalty"])


def points_balance(customer: Customer) -> int:
    """The customer's bonus points balance."""
    return points.balance(customer.pk)


def segment_codes(customer: Customer) -> list[str]:
    """Codes of the segments the customer is in, as last computed."""
    return list(
        SegmentMember.objects.filter(customer=customer)
        .order_by("segment__code").values_list("segment__code", flat=True)
    )


def category_out(category: Category, langs: list[str]) -> dict:
    return {
        "name": translated(category, "name", langs),
        "description": translated(category, "description", langs),
        "rank": category.rank, "program": category.program,
        "discount_percent": category.discount_percent,
    }


def _text(value) -> str | None:
    value = as_json(value)
    return None if value is None else str(value)


def next_category(customer: Customer, categories: list[Category], langs: list[str]) -> dict | None:
    """The nearest higher visible category open for automatic entry, with the customer's
    progress toward it; None when the customer is not moved automatically."""
    current = next((c for c in categories if c.pk == customer.category_id), None)
    if customer.category_locked or (current is not None and not current.auto_leave):
        return None
    floor = current.rank if current is not None else -1
    above = [c for c in categories
             if c.rank > floor and c.visible_to_customer and c.auto_enter]
    if not above:
        return None
    target = min(above, key=lambda c: c.rank)
    explained = next(e for e in selectors.customer_explain(customer)
                     if e["category"].id == target.pk)
    rules = [
        {
            "holds": rule["holds"],
            "conditions": [
                {"condition": ch.condition.kind, "days": ch.condition.days, "met": ch.met,
                 "measured": _text(ch.measured), "wanted": _text(ch.wanted),
                 "missing": _text(ch.gap)}
                for ch in rule["checks"]
            ],
        }
        for rule in explained["rules"]
    ]
    return {**category_out(target, langs), "rules": rules}


def _need(need) -> dict | None:
    if need is None or need.nothing:
        return None
    return {"amount": need.amount, "orders": need.orders}


def keeping_out(customer: Customer, shown: bool, next_shown: bool) -> dict:
    """`keeps_until`, `to_keep` and `to_next` (loyalty.keeping); nothing about a hidden
    category."""
    k = keeping_db.for_customer(customer)
    return {
        "keeps_until": k.keeps_until if shown else None,
        "to_keep": _need(k.to_keep) if shown else None,
        "to_next": _need(k.to_next) if next_shown else None,
    }


class LanguageQuery(Schema):
    lang: str | None = None


@router.get("/customers/{external_id}/loyalty", response={200: LoyaltyOut, **ERRORS},
            summary="A customer's category, points balance, segments and next category")
def customer_loyalty(request, external_id: str, query: Query[LanguageQuery]):
    shop = shop_of(request)
    customer = customer_or_404(shop, external_id)
    langs = languages(customer=customer, shop=shop, requested=query.lang)
    categories = list(Category.objects.filter(shop=shop))
    current = next((c for c in categories if c.pk == customer.category_id), None)
    return {
        "customer": customer.external_id,
        "language": langs[0],
        "category": (category_out(current, langs)
                     if current is not None and current.visible_to_customer else None),
        "points_balance": points_balance(customer),
        "segments": segment_codes(customer),
        "next_category": (following := next_category(customer, categories, langs)),
        "keeping": keeping_out(
            customer, current is not None and current.visible_to_customer,
            following is not None,
        ),
    }
