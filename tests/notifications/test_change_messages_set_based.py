"""The set-based category-change messages are the messages rendered one by one: same
recipients, languages, texts (names printed as typed, nothing escaped), balances, channels,
consent and dedup keys, on a fixed world with email, SMS and webhook on."""

import pytest

from loyalty import services as loyalty
from loyalty.events import Move
from loyalty.models import CategoryChange, PointsAccount
from notifications import services
from notifications.change_messages import qualifying
from notifications.models import ChannelSettings, Consent, Message, MessageTemplate
from tests.factories import CustomerFactory

from .conftest import use_sms

pytestmark = pytest.mark.django_db

FIELDS = ("customer__name", "event", "channel", "language", "recipient", "subject", "body",
          "segments", "cost", "cost_currency", "status", "last_error", "dedup_key",
          "category_change_id", "attempts")


def outbox(ids):
    rows = Message.objects.filter(category_change_id__in=ids).values_list(*FIELDS)
    return sorted(rows, key=lambda r: (r[-3], r[2]))


@pytest.fixture
def world(ladder):
    shop = ladder.shop
    use_sms(shop)
    ChannelSettings.objects.filter(shop=shop).update(webhook_url="https://hooks.example.com/x")
    MessageTemplate.objects.create(  # a filter on the name: rendered per message
        shop=shop, event="category_down", channel="email", subject_pl="W dół",
        body_pl="{{ customer_name|upper }}: teraz {{ new_category }}, {{ balance }} pkt",
        body_en="{{ customer_name }} is now {{ new_category }} ({{ balance }})",
    )
    MessageTemplate.objects.create(shop=shop, event="category_up", channel="webhook",
                                   enabled=False)
    people = [
        CustomerFactory(shop=shop, name="Anna Nowak", language="pl"),
        CustomerFactory(shop=shop, name="O'Brien & <Sons> \"Ltd\"", language="en",
                        phone="+380501112236"),
        CustomerFactory(shop=shop, name="{{ balance }} Олег", language="uk", phone="+380501112233"),
        CustomerFactory(shop=shop, name="Без мови", language="", phone="+380501112234"),
        CustomerFactory(shop=shop, name="Marie", language="fr", email=""),
        CustomerFactory(shop=shop, name="Ivan", language="ru", phone="+380501112235"),
    ]
    Consent.objects.create(customer=people[1], email=False)
    Consent.objects.create(customer=people[2], sms=False, webhook=False)
    PointsAccount.objects.create(customer=people[0], shop=shop, balance=1250)
    PointsAccount.objects.create(customer=people[2], shop=shop, balance=-40)
    ids = []
    for person in people:
        ids.append(loyalty.customer_move(customer=person, category=ladder.silver,
                                         staff_user=None).pk)
    for person in people[::2]:
        ids.append(loyalty.customer_move(customer=person, category=ladder.member,
                                         staff_user=None).pk)
    ids.append(loyalty.customer_move(customer=people[1], category=ladder.blacklist,
                                     staff_user=None).pk)
    Message.objects.filter(category_change_id__in=ids).delete()
    return shop, ids


def test_set_based_messages_equal_the_messages_rendered_one_by_one(world):
    shop, ids = world
    one_by_one = services.messages_rendered_each(
        shop=shop, changes=qualifying(shop.pk, ids, (1, -1)))
    expected = outbox(ids)
    Message.objects.filter(category_change_id__in=ids).delete()

    written = services.messages_for_category_changes(shop_id=shop.pk, change_ids=ids)

    assert outbox(ids) == expected
    assert written == one_by_one == len(expected) == 11
    assert CategoryChange.objects.filter(pk__in=ids).count() == 10
    by_key = {row[FIELDS.index("dedup_key")]: row for row in expected}
    anna_up = by_key[f"change:{ids[0]}:email"]
    assert anna_up[FIELDS.index("subject")] == "Twoja nowa kategoria w sklepie Крамниця: Srebrny"
    assert "Dzień dobry, Anna Nowak!" in anna_up[FIELDS.index("body")]
    assert "1250" in anna_up[FIELDS.index("body")]
    obrien_sms = by_key[f"change:{ids[1]}:sms"]
    assert "O'Brien & <Sons> \"Ltd\"" in obrien_sms[FIELDS.index("body")]
    oleg_email = by_key[f"change:{ids[2]}:email"][FIELDS.index("body")]
    assert "{{ balance }} Олег" in oleg_email and "-40" in oleg_email
    assert by_key[f"change:{ids[6]}:email"][FIELDS.index("body")] == \
        "ANNA NOWAK: teraz Klient, 1250 pkt"
    assert by_key[f"change:{ids[7]}:email"][FIELDS.index("body")] == \
        "{{ balance }} Олег is now Клієнт (-40)"
    assert f"change:{ids[0]}:webhook" not in by_key  # the shop switched it off
    assert not [k for k in by_key if k.startswith(f"change:{ids[-1]}:")]  # hidden category


def test_nothing_to_send_reads_no_change(ladder, django_assert_max_num_queries):
    shop = ladder.shop
    customer = CustomerFactory(shop=shop)
    change = loyalty.customer_move(customer=customer, category=ladder.silver, staff_user=None)
    ChannelSettings.objects.update_or_create(shop=shop, defaults={"email_enabled": False})
    with django_assert_max_num_queries(3):  # the shop, its channels, its templates
        assert services.messages_for_category_changes(shop_id=shop.pk,
                                                      change_ids=[change.pk]) == 0


def test_moves_handed_over_by_the_writer_give_the_messages_read_from_the_history(world):
    """A recalculation batch hands its moves (with each customer's language) to the hook,
    which then groups them without reading the changes back: the same outbox, hidden
    category and switched-off channel included."""
    shop, ids = world
    services.messages_for_category_changes(shop_id=shop.pk, change_ids=ids)
    expected = outbox(ids)
    Message.objects.filter(category_change_id__in=ids).delete()
    moves = [
        Move(c.pk, c.customer_id, c.from_category_id, c.to_category_id, c.direction, c.reason,
             c.customer.language)
        for c in CategoryChange.objects.filter(pk__in=ids).select_related("customer")
        .order_by("pk")
    ]

    written = services.messages_for_category_changes(shop_id=shop.pk, change_ids=ids,
                                                     moves=moves)

    assert outbox(ids) == expected
    assert written == len(expected) == 11
