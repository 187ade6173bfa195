"""A shop with its API key, a second shop with its own, and a client that speaks JSON."""

import json
from decimal import Decimal

import pytest
from djmoney.money import Money

from shops.tokens import api_token_create
from tests.factories import CustomerFactory, ProductFactory, ShopFactory


class Api:
    """The storefront as the API sees it: every call sends the shop's key."""

    def __init__(self, client, key: str | None):
        self.client, self.key = client, key

    def _headers(self):
        return {"HTTP_AUTHORIZATION": f"Bearer {self.key}"} if self.key else {}

    def _send(self, method, path, body=None, raw=None, **extra):
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        call = getattr(self.client, method)
        kwargs = {"content_type": "application/json"} if data is not None else {}
        return call(f"/api/v1{path}", data, **kwargs, **self._headers(), **extra)

    def get(self, path, **query):
        return self.client.get(f"/api/v1{path}", query, **self._headers())

    def post(self, path, body=None, **kw):
        return self._send("post", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self._send("put", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self._send("patch", path, body, **kw)


@pytest.fixture
def shop(db):
    return ShopFactory(code="pl", currency="PLN", default_language="pl")


@pytest.fixture
def other_shop(db):
    return ShopFactory(code="ua", currency="UAH", default_language="uk", timezone="Europe/Kyiv")


@pytest.fixture
def api(client, shop):
    _, key = api_token_create(shop=shop, name="web storefront")
    return Api(client, key)


@pytest.fixture
def other_api(client, other_shop):
    _, key = api_token_create(shop=other_shop, name="UA storefront")
    return Api(client, key)


@pytest.fixture
def customer(shop):
    return CustomerFactory(shop=shop, external_id="C1", name="Anna")


@pytest.fixture
def tee(shop):
    return ProductFactory(shop=shop, sku="TEE", name="T-shirt",
                          price=Money(Decimal("50.00"), "PLN"))


@pytest.fixture
def cap(shop):
    return ProductFactory(shop=shop, sku="CAP", name="Cap", price=Money(Decimal("30.00"), "PLN"))


def order_body(number="A-1", **overrides):
    body = {
        "number": number, "customer": "C1", "placed_at": "2026-11-02T10:30:00+01:00",
        "currency": "PLN", "status": "completed", "paid_in_full": True,
        "shipping_method": "courier", "shipping_cost": "12.00", "delivery_city": "Kraków",
        "lines": [
            {"sku": "TEE", "quantity": 2, "unit_price": "50.00", "discount": "5.00"},
            {"sku": "CAP", "quantity": 1, "unit_price": "30.00"},
        ],
    }
    body.update(overrides)
    return body


def fields(response) -> dict[str | None, str]:
    """The error body as {field: message}."""
    body = response.json()
    assert set(body) == {"detail", "errors"}
    return {e["field"]: e["message"] for e in body["errors"]}
