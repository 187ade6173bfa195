"""The customer page explains the category in sentences, in the admin's language, and the
history shows the figures of each move as sentences, not JSON."""

import re
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse
from django.utils import translation

from loyalty import services
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, add_rule, order

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


@pytest.fixture
def gold_candidate(django_capture_on_commit_callbacks):
    # A request in another test may have left Polish active; names are written in English.
    translation.activate("en")
    shop = ShopFactory(currency="PLN")
    CategoryFactory(shop=shop, rank=1, is_default=True, name="Member")
    silver = CategoryFactory(shop=shop, rank=2, name="Silver")
    add_rule(silver, {"kind": "window_spend", "days": 365, "amount": Decimal("1000.00")},
             name="Spent 1000 in a year")
    gold = CategoryFactory(shop=shop, rank=3, name="Gold")
    add_rule(gold, {"kind": "window_spend", "days": 60, "amount": Decimal("5000.00")},
             name="Spent 5000 in 60 days")
    customer = CustomerFactory(shop=shop)
    with django_capture_on_commit_callbacks(execute=True):
        order(customer, "1986.21", days_ago=10)
    services.categories_recalculate(shop=shop)
    return customer


def test_why_this_category_is_a_sentence_with_currency_and_gap(admin_client, gold_candidate):
    url = reverse("admin:shops_customer_change", args=[gold_candidate.pk])
    text = page_text(admin_client.get(url))
    assert ("✘ Spend in the last 60 days: 1,986.21 PLN of 5,000.00 PLN — 3,013.79 PLN to go"
            in text)
    assert "✔ Spend in the last 365 days: 1,986.21 PLN (at least 1,000.00 PLN)" in text
    assert "Spent 5000 in 60 days" in text
    assert "window_spend" not in text


def test_why_this_category_in_polish(admin_client, gold_candidate):
    admin_client.cookies["django_language"] = "pl"
    url = reverse("admin:shops_customer_change", args=[gold_candidate.pk])
    text = page_text(admin_client.get(url))
    assert ("Wydatki w ciągu ostatnich 60 dni: 1 986,21 PLN z 5 000,00 PLN"
            " — brakuje 3 013,79 PLN") in text  # page_text folds no-break spaces


def test_history_row_reads_as_sentences(admin_client, gold_candidate):
    url = reverse("admin:shops_customer_change", args=[gold_candidate.pk])
    text = page_text(admin_client.get(url))
    assert "Spend in the last 365 days: 1,986.21 PLN" in text
    assert "Member → Silver" in text
    assert '{"window_spend' not in text


def test_customer_page_lists_latest_orders_counted_or_not_and_segments(
    admin_client, gold_candidate
):
    from loyalty import segments

    order(gold_candidate, "120.00", days_ago=3, status="new", paid=False, number="LATE-1")
    segments.segments_refresh(shop=gold_candidate.shop)
    url = reverse("admin:shops_customer_change", args=[gold_candidate.pk])
    text = page_text(admin_client.get(url))
    latest = text[text.index("Latest orders"):]
    # newest first: the unpaid new order (3 days ago) above the counted one (10 days ago)
    assert latest.index("LATE-1") < latest.index("1,986.21 PLN")
    assert "LATE-1" in latest and "120.00 PLN no (not completed and paid)" in latest
    assert "1,986.21 PLN ✔" in latest
    assert "All 2 orders" in latest
    assert "Customers" in text[text.index("Segments:"):][:200]  # the built-in "customers"
