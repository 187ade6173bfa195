"""The admin speaks the staff user's language: a switcher remembered per user, titles,
buttons and counts that are grammatical in Polish, Ukrainian and Russian, and no English
left on the list pages of our models."""

import re
from html import unescape

import pytest
from django.contrib import admin
from django.urls import reverse

from shops.models import StaffPreference
from tests.factories import CategoryFactory, CustomerFactory, ShopFactory
from tests.test_admin_queries import make_rows

pytestmark = pytest.mark.django_db

OUR_APPS = ("shops", "loyalty", "pricing", "notifications")


def text(response) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def h1(response) -> str:
    return unescape(re.search(r"<h1>(.*?)</h1>", response.content.decode(), re.S)[1]).strip()


def test_polish_list_title_add_button_and_count_are_grammatical(admin_client):
    shop = ShopFactory()
    CustomerFactory.create_batch(5, shop=shop)
    admin_client.cookies["django_language"] = "pl"
    page = admin_client.get(reverse("admin:shops_customer_changelist"))
    assert h1(page) == "Wybierz klienta do zmiany"
    assert "Dodaj klienta" in text(page)
    assert "5 klientów" in text(page)
    assert "5 klienci" not in text(page)
    categories = admin_client.get(reverse("admin:loyalty_category_changelist"))
    assert "Dodaj kategorię" in text(categories)
    add = admin_client.get(reverse("admin:loyalty_category_add"))
    assert h1(add) == "Dodaj kategorię"


@pytest.mark.parametrize(("language", "title", "count"), [
    ("uk", "Виберіть клієнта для зміни", "2 клієнти"),
    ("ru", "Выберите клиента для изменения", "2 клиента"),
    ("fr", "Sélectionnez l’objet client à modifier", "2 clients"),
    ("en", "Select customer to change", "2 customers"),
])
def test_list_title_and_count_in_each_language(admin_client, language, title, count):
    CustomerFactory.create_batch(2, shop=ShopFactory())
    admin_client.cookies["django_language"] = language
    page = admin_client.get(reverse("admin:shops_customer_changelist"))
    assert h1(page) == title
    assert count in text(page)


def test_change_page_title_names_the_model_in_the_accusative(admin_client):
    category = CategoryFactory(shop=ShopFactory())
    admin_client.cookies["django_language"] = "pl"
    page = admin_client.get(reverse("admin:loyalty_category_change", args=[category.pk]))
    assert h1(page) == "Zmień kategorię"


def test_language_switch_is_remembered_for_the_user_in_a_new_browser(client, admin_user):
    client.force_login(admin_user)
    assert "Select customer to change" in text(client.get(
        reverse("admin:shops_customer_changelist")))
    switched = client.post(reverse("admin_language"), {
        "language": "pl", "next": reverse("admin:shops_customer_changelist")})
    assert switched.status_code == 302
    assert switched["Location"] == reverse("admin:shops_customer_changelist")
    assert StaffPreference.objects.get(user=admin_user).language == "pl"
    assert h1(client.get(switched["Location"])) == "Wybierz klienta do zmiany"

    from django.test import Client
    other_browser = Client(HTTP_ACCEPT_LANGUAGE="fr")
    other_browser.force_login(admin_user)
    assert h1(other_browser.get(reverse("admin:shops_customer_changelist"))) == (
        "Wybierz klienta do zmiany")


def test_language_switch_refuses_unknown_languages_and_foreign_redirects(admin_client, admin_user):
    response = admin_client.post(reverse("admin_language"), {
        "language": "xx", "next": "https://evil.example/"})
    assert response["Location"] == "/admin/"
    assert not StaffPreference.objects.filter(user=admin_user).exists()


def test_header_offers_the_five_languages_by_their_own_names(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    names = re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>',
                       page.split('id="language-form"')[1].split("</form>")[0])
    assert names == [("en", "English"), ("pl", "Polski"), ("uk", "Українська"),
                     ("ru", "Русский"), ("fr", "Français")]


# Words that are the same in English and Polish, or names that are not translated.
SAME_IN_BOTH = {
    "ID", "SKU", "E-mail", "Email", "Segment", "Status", "API", "SMS", "Webhook", "Program",
}


def column_and_filter_titles(response) -> list[str]:
    html = response.content.decode()
    heads = re.findall(r'<th scope="col"[^>]*>.*?<div class="text">(?:<a[^>]*>)?(.*?)<', html, re.S)
    filters = re.findall(r"<summary>\s*(.*?)\s*</summary>", html, re.S)
    return [unescape(t).strip() for t in heads + filters if t.strip()]


@pytest.mark.parametrize("model", [
    m for m in admin.site._registry if m._meta.app_label in OUR_APPS
], ids=lambda m: m._meta.label_lower)
def test_no_english_left_on_polish_list_pages(admin_client, model):
    make_rows(1)  # an empty list has no columns to read
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    admin_client.cookies["django_language"] = "en"
    english = column_and_filter_titles(admin_client.get(url))
    admin_client.cookies["django_language"] = "pl"
    polish = column_and_filter_titles(admin_client.get(url))
    assert len(english) == len(polish)
    untranslated = [e for e, p in zip(english, polish, strict=True)
                    if e == p and e not in SAME_IN_BOTH]
    assert untranslated == []
