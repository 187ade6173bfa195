"""SPEC [E15] and issue 16 item 6: the SMS billing rule is a channel setting ("per N
characters", the default with N = 70, or "per SMS segment"), shown on the bulk-send page;
the default price follows the shop's currency (only UAH has one)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from loyalty import services as loyalty
from notifications import services
from notifications.defaults import LANGUAGES
from notifications.models import BulkSend, ChannelSettings, Message
from notifications.sms import PER_CHARACTERS, PER_SEGMENT, Tariff, tariff_cost
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory

from .conftest import use_sms

CYRILLIC_140 = ("Знижка для вас! " * 9)[:140]
LATIN_100 = ("Your discount is waiting! " * 4)[:100]
CYRILLIC_150 = ("Знижка 20% для вас! " * 8)[:150]


def test_e15_per_70_characters_140_cyrillic_and_100_latin_cost_2_02_uah():
    assert (len(CYRILLIC_140), len(LATIN_100)) == (140, 100)
    per_70 = Tariff(PER_CHARACTERS, Decimal("1.01"), 70)
    assert tariff_cost(CYRILLIC_140, per_70) == (3, 2, Decimal("2.02"))  # sent as 3 segments
    assert tariff_cost(LATIN_100, per_70) == (1, 2, Decimal("2.02"))  # sent as 1 segment


def test_e15_per_segment_140_cyrillic_is_3_segments_3_03_uah():
    per_segment = Tariff(PER_SEGMENT, Decimal("1.01"))
    assert tariff_cost(CYRILLIC_140, per_segment) == (3, 3, Decimal("3.03"))
    assert tariff_cost(LATIN_100, per_segment) == (1, 1, Decimal("1.01"))


@pytest.mark.parametrize("rule", [PER_CHARACTERS, PER_SEGMENT])
def test_e12_150_cyrillic_characters_cost_3_03_uah_under_either_rule(rule):
    # 150 / 70 -> 3 started blocks; UCS-2 67 + 67 + 16 -> 3 segments.
    assert tariff_cost(CYRILLIC_150, Tariff(rule, Decimal("1.01"))) == (3, 3, Decimal("3.03"))


@pytest.mark.parametrize(("length", "units"), [(0, 1), (1, 1), (70, 1), (71, 2), (140, 2),
                                               (141, 3)])
def test_a_started_block_of_n_characters_is_a_whole_unit(length, units):
    assert tariff_cost("ж" * length, Tariff(PER_CHARACTERS, Decimal("1")))[1] == units


def test_per_n_characters_counts_what_the_customer_sees_and_n_is_a_setting():
    assert tariff_cost("😀" * 70, Tariff(PER_CHARACTERS, Decimal("1"), 70))[1] == 1
    assert tariff_cost("a" * 100, Tariff(PER_CHARACTERS, Decimal("0.10"), 160)) == (
        1, 1, Decimal("0.10"))


# --- the setting, the bulk-send page, the default price -----------------------------------


def bulk_post(shop, category, body):
    data = {"shop": shop.pk, "category": category.pk, "channel": "sms", "subject_en": ""}
    for lang in LANGUAGES:
        data[f"body_{lang}"] = body
    return data


def draft_page(admin_client, shop, category, body):
    response = admin_client.post(reverse("admin:notifications_bulksend_add"),
                                 bulk_post(shop, category, body))
    assert response.status_code == 302, response.context["adminform"].form.errors
    return admin_client.get(response.url).content.decode().replace("\xa0", " ")


@pytest.mark.django_db
def test_e15_bulk_send_page_shows_the_billing_rule_its_cost_uses(admin_client, ladder):
    use_sms(ladder.shop)  # defaults: per 70 characters, 1.01 UAH
    customer = CustomerFactory(shop=ladder.shop, phone="+380671111111")
    loyalty.customer_move(customer=customer, category=ladder.silver, staff_user=None)

    page = draft_page(admin_client, ladder.shop, ladder.silver, CYRILLIC_140)
    assert '<strong class="bulk-cost">2.02 UAH</strong>' in page
    assert '<span class="bulk-billing">1.01 UAH per 70 characters</span>' in page

    ChannelSettings.objects.filter(shop=ladder.shop).update(sms_billing=PER_SEGMENT)
    page = draft_page(admin_client, ladder.shop, ladder.silver, CYRILLIC_140)
    assert '<strong class="bulk-cost">3.03 UAH</strong>' in page
    assert ('<span class="bulk-billing">1.01 UAH per SMS segment (GSM-7 160/153, UCS-2 70/67 '
            'characters)</span>') in page


@pytest.mark.django_db
def test_a_confirmed_bulk_send_is_billed_as_its_draft_was_counted(ladder):
    use_sms(ladder.shop)
    customer = CustomerFactory(shop=ladder.shop, phone="+380671111111")
    loyalty.customer_move(customer=customer, category=ladder.silver, staff_user=None)
    bulk = services.bulk_send_prepare(bulk=BulkSend(
        shop=ladder.shop, category=ladder.silver, channel="sms", body=CYRILLIC_140))
    assert bulk.total_cost.amount == Decimal("2.02")
    ChannelSettings.objects.filter(shop=ladder.shop).update(sms_billing=PER_SEGMENT)

    services.bulk_send_confirm(bulk=bulk, staff_user=None)
    services.bulk_send_queue(bulk_id=bulk.pk)

    message = Message.objects.get(bulk_send=bulk)
    assert (message.segments, message.cost.amount) == (3, Decimal("2.02"))


@pytest.fixture
def pln_shop(db):
    shop = ShopFactory(code="pl", currency="PLN", default_language="pl")
    CategoryFactory(shop=shop, name="Member", rank=1, is_default=True, sms_welcome=True)
    return shop


@pytest.mark.django_db
def test_a_pln_shop_without_a_price_sends_no_sms_instead_of_charging_1_01_pln(pln_shop):
    use_sms(pln_shop)
    customer = CustomerFactory(shop=pln_shop, phone="+48600100200")

    assert not Message.objects.filter(customer=customer, channel="sms").exists()
    assert Message.objects.filter(customer=customer, channel="email").exists()


@pytest.mark.django_db
def test_a_pln_shop_with_its_own_price_is_billed_in_pln(pln_shop):
    use_sms(pln_shop, sms_price=Decimal("0.16"))
    customer = CustomerFactory(shop=pln_shop, phone="+48600100200")

    (message,) = Message.objects.filter(customer=customer, channel="sms")
    assert (message.cost.amount, str(message.cost.currency)) == (Decimal("0.16"), "PLN")


@pytest.mark.django_db
def test_sms_cannot_be_switched_on_without_a_price_in_a_currency_without_a_default(
    admin_client, pln_shop, ladder,
):
    def post(shop, price=""):
        return admin_client.post(reverse("admin:notifications_channelsettings_add"), {
            "shop": shop.pk, "sms_enabled": "on", "sms_billing": "characters",
            "sms_billing_characters": "70", "sms_price": price,
        })

    response = post(pln_shop)
    assert response.context["adminform"].form.errors == {"sms_price": [
        "This shop's SMS have no price: set the price per billed unit in its channel "
        "settings (there is no default price in PLN)."]}
    assert post(ladder.shop).status_code == 302  # UAH: the default 1.01 applies
    assert post(pln_shop, "0.16").status_code == 302


@pytest.mark.django_db
def test_a_bulk_sms_in_a_currency_without_a_price_is_refused(pln_shop):
    member = pln_shop.categories.get()
    with pytest.raises(ValidationError) as refused:
        services.bulk_send_prepare(bulk=BulkSend(
            shop=pln_shop, category=member, channel="sms", body="Hello"))
    assert refused.value.message_dict == {"channel": [
        "This shop's SMS have no price: set the price per billed unit in its channel "
        "settings (there is no default price in PLN)."]}
    assert not BulkSend.objects.exists()
