"""PUT /customers/{external_id}: create or update by the storefront's id; GET reads."""

import pytest

from loyalty.models import CategoryChange
from shops.models import Customer
from tests.api.conftest import fields
from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def test_a_new_customer_is_created_and_placed_in_the_default_category(api, shop):
    member = CategoryFactory(shop=shop, name="Member", rank=1, is_default=True)

    response = api.put("/customers/C1", {
        "name": "Anna Nowak", "email": "anna@example.com", "language": "pl",
        "client_type": "wholesale", "city": "Kraków", "registered_at": "2026-01-05T09:00:00Z",
    })

    assert response.status_code == 201
    body = response.json()
    assert (body["external_id"], body["name"], body["client_type"], body["language"]) == (
        "C1", "Anna Nowak", "wholesale", "pl")
    assert body["registered_at"] == "2026-01-05T09:00:00Z"
    customer = Customer.objects.get()
    assert (customer.shop, customer.category) == (shop, member)
    assert CategoryChange.objects.get().reason == "registered"


def test_putting_again_updates_only_the_fields_sent(api, customer):
    response = api.put("/customers/C1", {"name": "Anna K.", "city": "Gdańsk"})

    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.name, customer.city, customer.email) == (
        "Anna K.", "Gdańsk", "c1@example.com")
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(("body", "field", "message"), [
    ({}, "name", "Field required"),
    ({"name": ""}, "name", "String should have at least 1 character"),
    ({"name": "A", "email": "not-an-email"}, "email", "Enter a valid email address."),
    ({"name": "A", "client_type": "vip"}, "client_type", "Input should be 'retail' or "
                                                          "'wholesale'"),
    ({"name": "A", "language": "de"}, "language", "Value 'de' is not a valid choice."),
    ({"name": "A", "registered_at": "yesterday"}, "registered_at",
     "Input should be a valid datetime or date, input is too short"),
    ({"name": "A", "registered_at": "2026-01-05T09:00:00"}, "registered_at",
     "Input should have timezone info"),
    ({"name": "x" * 201}, "name", "String should have at most 200 characters"),
])
def test_bad_customer_fields_are_named_and_nothing_is_saved(api, shop, body, field, message):
    response = api.put("/customers/C1", body)

    assert response.status_code == 422
    assert fields(response) == {field: message}
    assert not Customer.objects.exists()


def test_a_bad_update_leaves_the_customer_as_it_was(api, customer):
    response = api.put("/customers/C1", {"name": "Anna", "email": "broken"})

    assert response.status_code == 422
    customer.refresh_from_db()
    assert customer.email == "c1@example.com"


def test_reading_a_customer(api, customer):
    response = api.get("/customers/C1")

    assert response.status_code == 200
    assert response.json()["name"] == "Anna"


def test_reading_an_unknown_customer_is_404(api, shop):
    response = api.get("/customers/NOPE")

    assert response.status_code == 404
    assert response.json() == {"detail": "No customer with this external id.", "errors": []}
