"""Explanations in plain words: each condition as a sentence with units and currency."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from loyalty import conditions as c
from loyalty.conditions import ConditionSpec, Figures, check
from loyalty.explain_text import Names, check_sentence, figure_sentences

AS_OF = date(2026, 12, 2)
PLN = Names(currency="PLN", products={7: "Running shoes"},
            client_types={"retail": "Retail", "wholesale": "Wholesale"})


def sentence(spec, figures, language="en", names=PLN):
    with translation.override(language):
        return check_sentence(check(spec, figures, AS_OF), names)


def test_spend_short_of_the_target_says_how_much_is_left():
    spec = ConditionSpec(kind=c.WINDOW_SPEND, days=60, amount=Decimal("5000.00"))
    figures = Figures(customer_id=1, window_spend={60: Decimal("1986.21")})
    assert sentence(spec, figures) == (
        "Spend in the last 60 days: 1,986.21 PLN of 5,000.00 PLN — 3,013.79 PLN to go")


def test_the_same_sentence_in_polish_uses_polish_numbers():
    spec = ConditionSpec(kind=c.WINDOW_SPEND, days=60, amount=Decimal("5000.00"))
    figures = Figures(customer_id=1, window_spend={60: Decimal("1986.21")})
    assert sentence(spec, figures, "pl") == (
        "Wydatki w ciągu ostatnich 60 dni: 1\xa0986,21 PLN z 5\xa0000,00 PLN"
        " — brakuje 3\xa0013,79 PLN")


def test_met_condition_says_what_it_asks_for():
    spec = ConditionSpec(kind=c.WINDOW_ORDERS, days=30, count=2)
    figures = Figures(customer_id=1, window_orders={30: 3})
    assert sentence(spec, figures) == "Counted orders in the last 30 days: 3 (at least 2)"


def test_client_type_is_named_not_coded():
    spec = ConditionSpec(kind=c.CLIENT_TYPE, client_type="wholesale")
    assert sentence(spec, Figures(customer_id=1, client_type="retail")) == (
        "Client type: Retail (must be Wholesale)")


@pytest.mark.parametrize(("last", "expected"), [
    (date(2026, 11, 1), "Days since the last counted order: 31 days (must be under 30 days)"),
    (None, "Days since the last counted order: no counted order yet (must be under 30 days)"),
])
def test_days_since_the_last_order(last, expected):
    spec = ConditionSpec(kind=c.DAYS_SINCE_LAST_ORDER, operator=c.LT, count=30)
    assert sentence(spec, Figures(customer_id=1, last_order_date=last)) == expected


def test_bought_product_names_the_product():
    spec = ConditionSpec(kind=c.BOUGHT_PRODUCT, product_id=7)
    assert sentence(spec, Figures(customer_id=1, products=frozenset({7}))) == (
        "Has bought Running shoes: yes")


def test_history_figures_read_as_sentences():
    figures = {"window_spend_60d": "900.00", "window_orders_60d": 2, "client_type": "retail",
               "lifetime_spend": "1200.50", "points_balance": 1500}
    assert figure_sentences(figures, PLN) == [
        "Spend in the last 60 days: 900.00 PLN",
        "Counted orders in the last 60 days: 2",
        "Client type: Retail",
        "Lifetime spend: 1,200.50 PLN",
        "Points balance: 1,500 points",
    ]


def test_unknown_history_keys_are_kept_as_they_are():
    assert figure_sentences({"something_else": 3}, PLN) == ["something_else: 3"]
