"""The shop's API key: required, hashed, revocable, and good for its own shop only."""

import pytest

from shops.models import ApiToken, Customer, Order
from shops.tokens import api_token_create, api_token_revoke, hash_key
from tests.api.conftest import Api, order_body
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Bearer abc.def",
                                    "Basic dXNlcjpwdw=="])
def test_a_request_without_a_valid_key_is_401_and_writes_nothing(client, shop, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.put("/api/v1/customers/C9", '{"name": "Eve"}',
                          content_type="application/json", **extra)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json() == {
        "detail": "A valid API token is required: Authorization: Bearer <key>.", "errors": []}
    assert not Customer.objects.exists()


def test_the_key_is_stored_only_as_its_hash(shop):
    token, key = api_token_create(shop=shop, name="web")

    stored = ApiToken.objects.get()
    assert key.startswith(f"{stored.prefix}.")
    assert stored.key_hash == hash_key(key) != key
    assert key not in {str(v) for v in ApiToken.objects.values().get().values()}


def test_a_revoked_key_stops_working_at_once(client, shop):
    token, key = api_token_create(shop=shop, name="web")
    api = Api(client, key)
    assert api.put("/customers/C1", {"name": "Anna"}).status_code == 201

    assert api_token_revoke(token=token)
    response = api.put("/customers/C2", {"name": "Ben"})

    assert response.status_code == 401
    assert list(Customer.objects.values_list("external_id", flat=True)) == ["C1"]


def test_a_key_with_the_right_prefix_and_a_wrong_secret_is_refused(client, shop):
    _, key = api_token_create(shop=shop, name="web")
    forged = key[:-3] + ("aaa" if not key.endswith("aaa") else "bbb")

    assert Api(client, forged).get("/customers/C1").status_code == 401


def test_use_is_recorded_on_the_token(api, shop):
    api.put("/customers/C1", {"name": "Anna"})

    assert ApiToken.objects.get().last_used_at is not None


def test_another_shops_key_sees_none_of_this_shops_objects(api, other_api, customer, tee, cap):
    assert api.post("/orders", order_body()).status_code == 201
    api.post("/orders/A-1/returns", {"reference": "R1", "value": "10.00", "currency": "PLN"})

    assert other_api.get("/customers/C1").status_code == 404
    assert other_api.get("/customers/C1/loyalty").status_code == 404
    assert other_api.get("/orders/A-1").status_code == 404
    assert other_api.patch("/orders/A-1", {"status": "cancelled"}).status_code == 404
    returned = other_api.post("/orders/A-1/returns",
                              {"reference": "R2", "value": "10.00", "currency": "UAH"})
    assert returned.status_code == 404
    assert other_api.post("/orders/A-1/discounts", {}).status_code == 404
    order = Order.objects.get()
    assert (order.status, order.returns.count()) == ("completed", 1)


def test_another_shops_key_cannot_use_this_shops_customer_or_products(
        api, other_api, other_shop, customer, tee, cap):
    CustomerFactory(shop=other_shop, external_id="UA1")

    response = other_api.post("/orders", order_body(customer="C1", currency="UAH"))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "customer", "message": "No customer with this external id in this shop."}]

    response = other_api.post("/orders", order_body(customer="UA1", currency="UAH"))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "lines.0.sku", "message": "No product with SKU TEE in this shop."}]

    quote = other_api.post("/quotes", {"customer": "UA1", "lines": [{"sku": "TEE",
                                                                     "quantity": 1}]})
    assert quote.status_code == 422
    assert not Order.objects.exists()


def test_the_same_external_id_in_two_shops_is_two_customers(api, other_api, customer):
    response = other_api.put("/customers/C1", {"name": "Олена"})

    assert response.status_code == 201
    assert api.get("/customers/C1").json()["name"] == "Anna"
    assert other_api.get("/customers/C1").json()["name"] == "Олена"
    assert Customer.objects.filter(external_id="C1").count() == 2
