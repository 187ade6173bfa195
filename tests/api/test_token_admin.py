"""API tokens in the admin: created with the key shown once, revoked by an action."""

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.urls import reverse

from shops.models import ApiToken
from shops.tokens import hash_key
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db


def test_creating_a_token_shows_the_key_once_and_keeps_only_its_hash(admin_client, client,
                                                                    admin_user, shop):
    response = admin_client.post(reverse("admin:shops_apitoken_add"),
                                 {"shop": shop.pk, "name": "web storefront"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = response.context["key"]
    assert key in response.content.decode()
    token = ApiToken.objects.get()
    assert (token.shop, token.name, token.created_by) == (shop, "web storefront", admin_user)
    assert token.key_hash == hash_key(key)
    page = admin_client.get(reverse("admin:shops_apitoken_change", args=[token.pk]))
    assert key not in page.content.decode()
    assert LogEntry.objects.get().action_flag == ADDITION
    assert Api(client, key).put("/customers/C1", {"name": "Anna"}).status_code == 201


def test_revoking_stops_the_key_and_is_in_the_history(admin_client, client, shop):
    admin_client.post(reverse("admin:shops_apitoken_add"), {"shop": shop.pk, "name": "web"})
    token = ApiToken.objects.get()
    key = admin_client.post(reverse("admin:shops_apitoken_add"),
                            {"shop": shop.pk, "name": "app"}).context["key"]
    app_token = ApiToken.objects.get(name="app")

    admin_client.post(reverse("admin:shops_apitoken_changelist"), {
        "action": "revoke_selected", "_selected_action": [app_token.pk]})

    app_token.refresh_from_db()
    assert app_token.revoked_at is not None
    token.refresh_from_db()
    assert token.revoked_at is None
    assert Api(client, key).get("/customers/C1").status_code == 401
    entry = LogEntry.objects.get(action_flag=CHANGE)
    assert (entry.object_id, entry.get_change_message()) == (str(app_token.pk), "Revoked.")


def test_the_shop_of_a_token_cannot_be_changed(admin_client, shop, other_shop):
    admin_client.post(reverse("admin:shops_apitoken_add"), {"shop": shop.pk, "name": "web"})
    token = ApiToken.objects.get()

    admin_client.post(reverse("admin:shops_apitoken_change", args=[token.pk]),
                      {"shop": other_shop.pk, "name": "renamed"})

    token.refresh_from_db()
    assert (token.shop, token.name) == (shop, "renamed")
