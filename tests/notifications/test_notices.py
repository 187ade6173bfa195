"""The notices "category at risk" and "close to the next category" (notifications.notices):
worked examples of docs/notices.md."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from loyalty.keeping_text import day_text
from notifications.models import Consent, Message, NoticeEpisode
from notifications.notices import notices_send
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory, add_rule, order

pytestmark = pytest.mark.django_db


def spend(amount, days=60):
    return {"kind": "window_spend", "days": days, "amount": Decimal(amount)}


@pytest.fixture
def shop():
    """Member (default), Gold (1,000.00 PLN in 60 days, warn 14 days before), Platinum
    (2,000.00 PLN in 60 days, close within 10%), and a hidden VIP above."""
    shop = ShopFactory(code="pl1", name="Sklep", currency="PLN", default_language="pl",
                       timezone="Europe/Warsaw")
    CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)
    add_rule(CategoryFactory(shop=shop, name="Gold", name_pl="Złoty", rank=2), spend("1000"))
    add_rule(CategoryFactory(shop=shop, name="Platinum", name_pl="Platynowy", rank=3),
             spend("2000"))
    add_rule(CategoryFactory(shop=shop, name="VIP", rank=4, visible_to_customer=False),
             spend("2300"))
    return shop


def counts(sent: dict) -> dict:
    """The scan's counts, without how many customers it examined."""
    return {k: v for k, v in sent.items() if k != "examined"}


def notices(customer, event):
    return list(Message.objects.filter(customer=customer, event=event, channel="email"))


def test_n2_at_risk_sent_once(shop):
    anna = CustomerFactory(shop=shop, name="Anna", language="")
    order(anna, "600.00", days_ago=50)
    order(anna, "500.00", days_ago=20)
    anna.refresh_from_db()
    assert anna.category.name == "Gold"
    today = shop.today()

    sent = notices_send(shop=shop, as_of=today)

    assert counts(sent) == {"at_risk": 1, "close_to_next": 0, "ended": 0, "messages": 1}
    (message,) = notices(anna, "category_at_risk")
    with translation.override("pl"):
        until = day_text(today + timedelta(days=10))
    assert message.language == "pl"  # the shop's language: Anna has none
    assert message.subject == "Zachowaj kategorię Złoty w sklepie Sklep"
    assert (f"Twoja kategoria Złoty obowiązuje do {until} włącznie.\n"
            "Aby ją zachować, brakuje Ci jeszcze: 500,00 PLN.") in message.body
    episode = NoticeEpisode.objects.get(customer=anna)
    assert episode.keeps_until == today + timedelta(days=10)

    # The next nights: the same episode, no new message.
    assert notices_send(shop=shop, as_of=today)["messages"] == 0
    assert notices_send(shop=shop, as_of=today + timedelta(days=1))["messages"] == 0
    assert len(notices(anna, "category_at_risk")) == 1

    # She buys 600.00 today: she keeps Gold until today + 40, not at risk: the episode ends.
    order(anna, "600.00", days_ago=0)
    assert notices_send(shop=shop, as_of=today)["ended"] == 1
    assert not NoticeEpisode.objects.filter(customer=anna, ended_on__isnull=True).exists()
    # 30 days later, 10 days before her new last day: a new episode, a new message.
    later = notices_send(shop=shop, as_of=today + timedelta(days=30))
    assert later["at_risk"] == 1 and later["messages"] == 1
    assert len(notices(anna, "category_at_risk")) == 2


def test_at_risk_waits_for_the_warning_period_and_can_be_off(shop):
    bob = CustomerFactory(shop=shop, language="en")
    order(bob, "1000.00", days_ago=45)  # keeps Gold until today + 15
    today = shop.today()
    assert notices_send(shop=shop, as_of=today)["at_risk"] == 0
    shop.categories.filter(name="Gold").update(at_risk_days=0)
    assert notices_send(shop=shop, as_of=today + timedelta(days=1))["at_risk"] == 0
    shop.categories.filter(name="Gold").update(at_risk_days=14)
    assert notices_send(shop=shop, as_of=today + timedelta(days=1))["at_risk"] == 1
    (message,) = notices(bob, "category_at_risk")
    assert "To keep it after that, you still need: 1,000.00 PLN." in message.body


def test_n3_close_to_next_sent_once(shop):
    ewa = CustomerFactory(shop=shop, name="Ewa", language="pl")
    order(ewa, "1850.00", days_ago=5)
    ewa.refresh_from_db()
    assert ewa.category.name == "Gold"
    today = shop.today()

    sent = notices_send(shop=shop, as_of=today)

    # 150.00 PLN missing of 2,000.00: within 10% (200.00).
    assert counts(sent) == {"at_risk": 0, "close_to_next": 1, "ended": 0, "messages": 1}
    (message,) = notices(ewa, "close_to_next")
    assert message.subject == "Niewiele brakuje Ci do kategorii Platynowy w sklepie Sklep"
    assert "Do kategorii Platynowy brakuje Ci już tylko: 150,00 PLN." in message.body
    assert notices_send(shop=shop, as_of=today)["messages"] == 0

    # She buys 200.00 and moves up to Platinum: the episode ends; the category above is
    # hidden, so no new "close" notice although 250.00 is all VIP would take.
    order(ewa, "200.00", days_ago=0)
    ewa.refresh_from_db()
    assert ewa.category.name == "Platinum"
    assert counts(notices_send(shop=shop, as_of=today)) == {
        "at_risk": 0, "close_to_next": 0, "ended": 1, "messages": 0}
    assert len(notices(ewa, "close_to_next")) == 1


def test_close_needs_the_customer_within_the_setting(shop):
    far = CustomerFactory(shop=shop, language="en")
    order(far, "1799.99", days_ago=5)  # 200.01 missing: just outside 10%
    assert notices_send(shop=shop)["close_to_next"] == 0
    shop.categories.filter(name="Platinum").update(close_amount=Decimal("250.00"),
                                                   close_percent=None)
    assert notices_send(shop=shop)["close_to_next"] == 1
    (message,) = notices(far, "close_to_next")
    assert "you are almost Platinum: only 200.01 PLN to go." in message.body


def test_hidden_category_never_gets_notices(shop):
    shop.categories.filter(name="Gold").update(visible_to_customer=False)
    cid = CustomerFactory(shop=shop, language="en")
    order(cid, "1000.00", days_ago=50)  # Gold until today + 10, at risk
    order(cid, "900.00", days_ago=50)   # 100.00 from Platinum: close
    cid.refresh_from_db()
    assert cid.category.name == "Gold"
    assert counts(notices_send(shop=shop)) == {
        "at_risk": 0, "close_to_next": 0, "ended": 0, "messages": 0}


def test_no_consent_no_message_and_no_resend_later(shop):
    dan = CustomerFactory(shop=shop, language="en")
    Consent.objects.create(customer=dan, email=False)
    order(dan, "1850.00", days_ago=5)
    sent = notices_send(shop=shop)
    assert sent["close_to_next"] == 1 and sent["messages"] == 0
    assert not Message.objects.filter(customer=dan, event="close_to_next").exists()


def test_the_scan_costs_the_same_queries_for_more_customers(shop):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def scan_with(n):
        for _ in range(n):
            customer = CustomerFactory(shop=shop, language="en")
            order(customer, "1100.00", days_ago=50)
        NoticeEpisode.objects.all().delete()
        with CaptureQueriesContext(connection) as queries:
            sent = notices_send(shop=shop)
        return sent, len(queries)

    (few, few_queries), (more, more_queries) = scan_with(2), scan_with(4)
    assert (few["at_risk"], more["at_risk"]) == (2, 6)
    assert more["messages"] == 6
    assert more_queries == few_queries
