"""Admin pages: bulk send (recipients and cost before confirming, progress after),
messages (resend failed), channel settings, consent on the customer page."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from loyalty import services as loyalty
from notifications import delivery
from notifications.defaults import LANGUAGES
from notifications.models import BulkSend, ChannelSettings, Consent, Message, MessageTemplate
from tests.factories import CustomerFactory

from .conftest import use_sms

pytestmark = pytest.mark.django_db

TEXT_150 = ("Знижка 20% для вас! " * 8)[:150]


def bulk_post(shop, category, channel="sms", body=TEXT_150, **extra):
    data = {"shop": shop.pk, "category": category.pk, "channel": channel, "subject_en": ""}
    for lang in LANGUAGES:
        data[f"body_{lang}"] = body
    data.update(extra)
    return data


def silver_customer(ladder, **fields):
    customer = CustomerFactory(shop=ladder.shop, **fields)
    loyalty.customer_move(customer=customer, category=ladder.silver, staff_user=None)
    return customer


def test_e12_bulk_sms_shows_3_03_uah_for_a_150_character_cyrillic_text_before_sending(
    admin_client, ladder, django_capture_on_commit_callbacks,
):
    use_sms(ladder.shop)  # the default price: 1.01 UAH per segment
    silver_customer(ladder, phone="+380671111111")
    Message.objects.all().delete()

    response = admin_client.post(
        reverse("admin:notifications_bulksend_add"), bulk_post(ladder.shop, ladder.silver)
    )

    bulk = BulkSend.objects.get()
    assert response.url == reverse("admin:notifications_bulksend_change", args=[bulk.pk])
    page = admin_client.get(response.url).content.decode().replace("\xa0", " ")
    assert '<strong class="bulk-recipients">1</strong>' in page
    assert '<strong class="bulk-cost">3.03 UAH</strong>' in page
    assert "Confirm and send to 1 customer" in page
    assert (bulk.status, bulk.recipients, bulk.total_cost.amount) == ("draft", 1, Decimal("3.03"))
    assert not Message.objects.exists()  # nothing sent before confirming

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(response.url, bulk_post(ladder.shop, ladder.silver, _confirm="1"))

    (message,) = Message.objects.all()
    assert (message.event, message.segments, message.cost.amount) == ("bulk", 3, Decimal("3.03"))
    bulk.refresh_from_db()
    assert (bulk.status, bulk.queued) == ("queued", 1)
    page = admin_client.get(response.url).content.decode()
    assert "1 of 1 queued: 0 sent, 0 failed, 1 waiting" in page


def test_bulk_send_counts_only_consenting_reachable_customers(admin_client, ladder):
    use_sms(ladder.shop, sms_price=Decimal("0.50"))
    silver_customer(ladder, phone="+380671111111")
    silver_customer(ladder, phone="+380672222222", language="en")
    silver_customer(ladder, phone="")  # no number
    opted_out = silver_customer(ladder, phone="+380673333333")
    Consent.objects.create(customer=opted_out, sms=False)
    CustomerFactory(shop=ladder.shop, phone="+380674444444")  # not in the category

    admin_client.post(
        reverse("admin:notifications_bulksend_add"),
        bulk_post(ladder.shop, ladder.silver, body="Hello {{ customer_name }}"),
    )

    bulk = BulkSend.objects.get()
    assert (bulk.recipients, bulk.total_cost.amount) == (2, Decimal("1.00"))


def test_bulk_send_refuses_a_hidden_category_and_bad_syntax(admin_client, ladder):
    response = admin_client.post(
        reverse("admin:notifications_bulksend_add"),
        bulk_post(ladder.shop, ladder.blacklist, body="{% if %}"),
    )

    errors = response.context["adminform"].form.errors
    assert errors["category"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]  # hidden categories are not offered
    assert errors["body_en"] == ["Template error: Unexpected end of expression in if tag."]
    assert not BulkSend.objects.exists()


def test_editing_a_draft_then_confirming_counts_again_instead_of_sending(admin_client, ladder):
    use_sms(ladder.shop)
    silver_customer(ladder, phone="+380671111111")
    admin_client.post(reverse("admin:notifications_bulksend_add"),
                      bulk_post(ladder.shop, ladder.silver, body="short"))
    bulk = BulkSend.objects.get()
    url = reverse("admin:notifications_bulksend_change", args=[bulk.pk])

    admin_client.post(url, bulk_post(ladder.shop, ladder.silver, _confirm="1"))

    bulk.refresh_from_db()
    assert (bulk.status, bulk.total_cost.amount) == ("draft", Decimal("3.03"))


def test_staff_resend_failed_messages(admin_client, ladder, settings):
    settings.SMS_PROVIDER_URL = ""
    use_sms(ladder.shop, email_enabled=False)
    silver_customer(ladder, phone="+380671111111")
    delivery.deliver_due()
    failed = list(Message.objects.filter(status="failed"))
    assert len(failed) == 2  # welcome and category change

    listing = admin_client.get(reverse("admin:notifications_message_changelist"),
                               {"status__exact": "failed"})
    assert "The SMS provider is not configured" in listing.content.decode()
    admin_client.post(reverse("admin:notifications_message_changelist"), {
        "action": "resend_selected", ACTION_CHECKBOX_NAME: [m.pk for m in failed],
    })

    for message in failed:
        message.refresh_from_db()
        assert (message.status, message.attempts, message.last_error) == (
            "pending", 0, "The SMS provider is not configured (SMS_PROVIDER_URL)."
        )


def test_message_detail_is_read_only(admin_client, ladder):
    customer = CustomerFactory(shop=ladder.shop)
    message = Message.objects.get(customer=customer)
    url = reverse("admin:notifications_message_change", args=[message.pk])

    page = admin_client.get(url).content.decode()

    assert message.subject in page
    assert 'name="_save"' not in page


def test_channel_settings_need_a_secret_for_a_webhook(admin_client, ladder):
    response = admin_client.post(reverse("admin:notifications_channelsettings_add"), {
        "shop": ladder.shop.pk, "email_enabled": "on", "sms_price": "1.01",
        "sms_billing": "characters", "sms_billing_characters": "70",
        "webhook_url": "https://bot.example.com/hook", "webhook_secret": "",
    })

    assert response.context["adminform"].form.errors == {
        "webhook_secret": ["A webhook needs a secret to sign its posts."]
    }


def test_consent_is_edited_on_the_customer_page(admin_client, ladder):
    customer = CustomerFactory(shop=ladder.shop)
    Consent.objects.create(customer=customer, sms=False)

    page = admin_client.get(reverse("admin:shops_customer_change", args=[customer.pk]))

    assert page.status_code == 200
    formset = next(f for f in page.context["inline_admin_formsets"]
                   if f.formset.model is Consent)
    assert formset.formset.forms[0].instance.sms is False
    assert ChannelSettings.objects.count() == 0


def test_template_and_bulk_send_pages_open(admin_client, ladder):
    template = MessageTemplate.objects.get(shop=None, event="registered", channel="sms")
    change = admin_client.get(
        reverse("admin:notifications_messagetemplate_change", args=[template.pk])
    )
    add = admin_client.get(reverse("admin:notifications_bulksend_add"))

    assert change.status_code == add.status_code == 200
    page = change.content.decode()
    assert 'name="preview_customer"' in page and 'name="_preview"' in page
    assert 'id="id_body_uk"' in page  # a tab per language
    assert "Count recipients and cost" in add.content.decode()
