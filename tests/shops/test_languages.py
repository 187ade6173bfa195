"""One fallback chain for texts a customer reads (API answers and messages)."""

from types import SimpleNamespace

import pytest

from shops.languages import languages, translated
from shops.models import Customer, Shop


def customer(language="", shop_language="pl"):
    return Customer(language=language, shop=Shop(default_language=shop_language))


@pytest.mark.parametrize(("requested", "language", "shop_language", "chain"), [
    ("fr", "uk", "pl", ["fr", "uk", "pl", "en"]),
    (None, "uk", "pl", ["uk", "pl", "en"]),
    (None, "", "pl", ["pl", "en"]),
    ("xx", "", "pl", ["pl", "en"]),  # an unknown requested language is skipped
    ("en", "en", "en", ["en"]),  # each language once
])
def test_chain_is_requested_then_customer_then_shop_then_english(
    requested, language, shop_language, chain
):
    who = customer(language, shop_language)
    assert languages(customer=who, requested=requested) == chain


def test_a_text_empty_in_one_language_comes_from_the_next():
    category = SimpleNamespace(name_uk="", name_pl="Złoty", name_en="Gold")
    assert translated(category, "name", ["uk", "pl", "en"]) == "Złoty"
    assert translated(category, "name", ["fr"]) == ""
