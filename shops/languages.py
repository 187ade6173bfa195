"""The language a customer reads, and a translated field in it: one fallback chain for the
storefront API and for messages.

The chain, best first: the language asked for (the API's ``?lang=``), the customer's, the
shop's default, then the project's default (``MODELTRANSLATION_DEFAULT_LANGUAGE``, English).
Empty and unknown codes are left out, and each language appears once. A text left empty in
one language is taken from the next one that has it.
"""

from __future__ import annotations

from django.conf import settings

from .models import Customer, Shop


def languages(
    *, customer: Customer, shop: Shop | None = None, requested: str | None = None
) -> list[str]:
    """The languages to show `customer` texts in, best first (`shop` saves a query when the
    caller has it)."""
    shop = shop or customer.shop
    known = {code for code, _ in settings.LANGUAGES}
    wanted = (requested, customer.language, shop.default_language,
              settings.MODELTRANSLATION_DEFAULT_LANGUAGE)
    chain: list[str] = []
    for code in wanted:
        if code and code in known and code not in chain:
            chain.append(code)
    return chain


def translated(obj, field: str, langs: list[str]) -> str:
    """`field` of a modeltranslation model in the first of `langs` that has it, else ""."""
    for code in langs:
        value = getattr(obj, f"{field}_{code}", None)
        if value:
            return value
    return ""
