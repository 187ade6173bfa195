"""What the outbox records: which messages, in which language, in which transaction."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from loyalty import services as loyalty
from loyalty.models import CategoryChange
from notifications import services
from notifications.models import Consent, Message, MessageTemplate
from shops import services as shops
from tests.factories import CustomerFactory, add_rule, order

from .conftest import use_sms

pytestmark = pytest.mark.django_db


def category_messages(customer):
    return Message.objects.filter(customer=customer, event__startswith="category_")


def test_moving_up_records_an_email_in_the_customers_language(ladder):
    customer = CustomerFactory(shop=ladder.shop, name="Anna Nowak", language="pl")
    loyalty.customer_move(customer=customer, category=ladder.silver, staff_user=None)

    (message,) = category_messages(customer)
    assert (message.event, message.channel, message.language) == ("category_up", "email", "pl")
    assert message.recipient == customer.email
    assert message.subject == "Twoja nowa kategoria w sklepie Крамниця: Srebrny"
    assert "Dzień dobry, Anna Nowak!" in message.body
    assert message.status == "pending" and message.cost is None


def test_a_customer_without_a_language_gets_the_shops(ladder):
    customer = CustomerFactory(shop=ladder.shop, name="Олена", language="")
    loyalty.customer_move(customer=customer, category=ladder.silver, staff_user=None)

    (message,) = category_messages(customer)
    assert message.language == "uk"
    assert message.subject == "Ваша нова категорія в Крамниця: Срібний"


def test_moving_down_names_both_categories(ladder):
    customer = CustomerFactory(shop=ladder.shop, language="en", name="Ann")
    loyalty.customer_move(customer=customer, category=ladder.silver, staff_user=None)
    loyalty.customer_move(customer=customer, category=ladder.member, staff_user=None)

    down = category_messages(customer).get(event="category_down")
    assert "your category has changed from Silver to Member." in down.body


def test_a_recalculation_records_one_message_per_move(ladder):
    add_rule(ladder.silver, {"kind": "window_spend", "days": 30, "amount": Decimal(100)})
    movers = [CustomerFactory(shop=ladder.shop, language="fr") for _ in range(3)]
    stayer = CustomerFactory(shop=ladder.shop)
    for customer in movers:
        order(customer, "150.00")

    loyalty.categories_recalculate(shop=ladder.shop)

    moved = Message.objects.filter(event="category_up")
    assert sorted(m.customer_id for m in moved) == sorted(c.pk for c in movers)
    assert {m.subject for m in moved} == {"Vous êtes désormais Argent chez Крамниця"}
    assert not category_messages(stayer).exists()


def test_hidden_category_sends_nothing_either_way(ladder):
    customer = CustomerFactory(shop=ladder.shop)
    loyalty.customer_move(customer=customer, category=ladder.blacklist, staff_user=None)
    loyalty.customer_move(customer=customer, category=ladder.silver, staff_user=None)

    assert CategoryChange.objects.filter(customer=customer, reason="manual").count() == 2
    assert not category_messages(customer).exists()


def test_opted_out_channel_is_not_used(ladder):
    use_sms(ladder.shop)
    customer = CustomerFactory(shop=ladder.shop, phone="+380671234567")
    Consent.objects.create(customer=customer, sms=False)
    loyalty.customer_move(customer=customer, category=ladder.silver, staff_user=None)

    assert [m.channel for m in category_messages(customer)] == ["email"]


def test_opted_out_of_everything_gets_nothing(ladder):
    use_sms(ladder.shop)
    customer = CustomerFactory(shop=ladder.shop, phone="+380671234567")
    Consent.objects.create(customer=customer, email=False, sms=False, webhook=False)
    loyalty.customer_move(customer=customer, category=ladder.silver, staff_user=None)

    assert not category_messages(customer).exists()


def test_a_channel_without_an_address_is_skipped(ladder):
    use_sms(ladder.shop)
    customer = CustomerFactory(shop=ladder.shop, email="", phone="+380671234567")
    loyalty.customer_move(customer=customer, category=ladder.silver, staff_user=None)

    (message,) = category_messages(customer)
    assert (message.channel, message.recipient) == ("sms", "+380671234567")
    assert message.segments == 1 and message.cost.amount == Decimal("1.01")
    assert str(message.cost.currency) == "UAH"


def test_rolled_back_category_change_leaves_no_message(ladder):
    customer = CustomerFactory(shop=ladder.shop)
    with pytest.raises(RuntimeError), transaction.atomic():
        loyalty.customer_move(customer=customer, category=ladder.silver, staff_user=None)
        assert category_messages(customer).count() == 1  # written with the change...
        raise RuntimeError("the change fails after the message was recorded")

    assert not CategoryChange.objects.filter(customer=customer, reason="manual").exists()
    assert not category_messages(customer).exists()  # ...and gone with it


def test_registration_sends_a_welcome_not_a_category_change(ladder):
    customer = CustomerFactory(shop=ladder.shop, name="Taras", language="uk")

    (welcome,) = Message.objects.filter(customer=customer)
    assert welcome.event == "registered"
    assert welcome.subject == "Ласкаво просимо до Крамниця"
    assert customer.category_changes.get().reason == "registered"


def test_rolled_back_registration_leaves_no_welcome(ladder):
    with pytest.raises(RuntimeError), transaction.atomic():
        shops.customer_upsert(shop=ladder.shop, external_id="X1", name="X", email="x@x.test")
        raise RuntimeError

    assert not Message.objects.filter(event="registered").exists()


def test_a_counted_order_is_thanked_once(ladder):
    customer = CustomerFactory(shop=ladder.shop, language="en", name="Ann")
    counted = order(customer, "200.00", number="UA-1")
    shops.order_update(order=counted, paid_in_full=False)  # stops counting...
    shops.order_update(order=counted, paid_in_full=True)  # ...and counts again
    order(customer, "50.00", status="new", paid=False)  # never counted

    (thanks,) = Message.objects.filter(customer=customer, event="order_completed")
    assert thanks.subject == "Thank you for your order UA-1"
    assert "Your category: Member." in thanks.body
    assert thanks.order_id == counted.pk


def test_a_shop_template_replaces_the_default_and_can_switch_it_off(ladder):
    MessageTemplate.objects.create(
        shop=ladder.shop, event="category_up", channel="email",
        subject_en="Up!", body_en="{{ customer_name }} is {{ new_category }} now",
    )
    first = CustomerFactory(shop=ladder.shop, language="pl", name="Ola")
    loyalty.customer_move(customer=first, category=ladder.silver, staff_user=None)
    (message,) = category_messages(first)
    # No Polish text in the shop's template: the shop's language, then English.
    assert (message.subject, message.body) == ("Up!", "Ola is Srebrny now")

    MessageTemplate.objects.filter(shop=ladder.shop).update(enabled=False)
    second = CustomerFactory(shop=ladder.shop)
    loyalty.customer_move(customer=second, category=ladder.silver, staff_user=None)
    assert not category_messages(second).exists()


def test_recording_a_batch_takes_the_same_queries_for_5_or_25_moves(ladder):
    use_sms(ladder.shop)

    def queries_for(n):
        customers = [CustomerFactory(shop=ladder.shop, phone="+380500000000") for _ in range(n)]
        for customer in customers[::2]:
            Consent.objects.create(customer=customer, sms=False)
        ids = [loyalty.customer_move(customer=c, category=ladder.silver, staff_user=None).pk
               for c in customers]
        Message.objects.filter(category_change_id__in=ids).delete()
        with CaptureQueriesContext(connection) as ctx:
            written = services.messages_for_category_changes(
                shop_id=ladder.shop.pk, change_ids=ids
            )
        assert written == n + n // 2  # every email, the SMS of those who did not opt out
        return len(ctx)

    # (25: SQLite's 999 parameters per statement would split a larger bulk INSERT in two.)
    assert queries_for(5) == queries_for(25)
