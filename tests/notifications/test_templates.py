"""Shipped templates render in every language; the admin shows syntax errors and previews."""

import pytest
from django.urls import reverse

from loyalty import services as loyalty
from notifications.defaults import LANGUAGES
from notifications.models import TEMPLATE_EVENTS, Channel, MessageTemplate
from notifications.rendering import Variables, render
from shops.languages import translated
from tests.factories import CustomerFactory

from .conftest import use_sms

pytestmark = pytest.mark.django_db

SAMPLE = Variables(
    customer_name="Zoë", shop_name="ShopX", old_category="OldCat", new_category="NewCat",
    points_earned=30, balance=250, order_number="N-77",
)


@pytest.mark.parametrize("event", TEMPLATE_EVENTS)
@pytest.mark.parametrize("channel", Channel.values)
def test_every_default_template_renders_in_every_language(event, channel):
    template = MessageTemplate.objects.get(shop=None, event=event, channel=channel)
    bodies = set()
    for lang in LANGUAGES:
        body = render(translated(template, "body", [lang, "en"]), SAMPLE)
        subject = render(translated(template, "subject", [lang, "en"]), SAMPLE)
        assert getattr(template, f"body_{lang}"), f"no {lang} text"
        assert "{" not in body + subject and "}" not in body + subject
        assert "ShopX" in body or "Zoë" in body
        if event.startswith("category_"):
            assert "NewCat" in body
        if event == "order_completed":
            assert "N-77" in subject + body
            assert "30" in body and "250" in body
        if channel == Channel.SMS:
            assert subject == ""
        else:
            assert subject
        bodies.add(body)
    assert len(bodies) == len(LANGUAGES)  # really translated, not copies


def test_order_template_leaves_out_points_when_there_are_none():
    template = MessageTemplate.objects.get(shop=None, event="order_completed", channel="sms")
    body = render(template.body_en, Variables(shop_name="S", order_number="1"))
    assert body == "S: thank you for order 1!"


def template_post(**fields):
    data = {"shop": "", "event": "category_up", "channel": "email", "enabled": "on"}
    for lang in LANGUAGES:
        data[f"subject_{lang}"] = "Hi {{ customer_name }}"
        data[f"body_{lang}"] = "You are {{ new_category }}"
    data.update(fields)
    return data


def test_syntax_errors_are_shown_on_the_field_and_nothing_is_saved(admin_client, ladder):
    url = reverse("admin:notifications_messagetemplate_add")
    data = template_post(shop=ladder.shop.pk, body_pl="{% if new_category %}Brak końca")

    response = admin_client.post(url, data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["body_pl"]
    assert "Template error: Unclosed tag" in errors["body_pl"][0]
    assert not MessageTemplate.objects.filter(shop=ladder.shop).exists()


def test_preview_renders_for_the_chosen_customer_in_their_language(admin_client, ladder):
    use_sms(ladder.shop)
    customer = CustomerFactory(shop=ladder.shop, name="Ірина", language="uk")
    loyalty.customer_move(customer=customer, category=ladder.silver, staff_user=None)
    template = MessageTemplate.objects.get(shop=None, event="category_down", channel="sms")
    url = reverse("admin:notifications_messagetemplate_change", args=[template.pk])
    data = template_post(
        event="category_down", channel="sms", preview_customer=customer.pk, _preview="1",
        body_uk="{{ customer_name }}: {{ old_category }} → {{ new_category }}",
    )

    response = admin_client.post(url, data)

    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.language == "uk"
    assert preview.body == "Ірина: Клієнт → Срібний"
    assert (preview.segments, str(preview.cost)) == (1, "UAH1.01")
    assert "Ірина: Клієнт → Срібний" in response.content.decode()
    template.refresh_from_db()
    assert template.body_uk.startswith("{{ shop_name }}")  # unchanged: nothing saved


def test_preview_asks_for_a_customer(admin_client, ladder):
    template = MessageTemplate.objects.get(shop=None, event="registered", channel="email")
    url = reverse("admin:notifications_messagetemplate_change", args=[template.pk])

    response = admin_client.post(url, template_post(event="registered", _preview="1"))

    assert response.context["adminform"].form.errors == {
        "preview_customer": ["Choose a customer to preview for."]
    }
