"""`field__in_ids`: membership in a long list of ids, one array parameter on PostgreSQL."""

import pytest
from django.db import connection

from shops.lookups import array_literal, text_array_literal
from shops.models import Customer
from tests.factories import CustomerFactory, ShopFactory


def test_the_array_is_written_in_postgresqls_text_form():
    assert array_literal([3, 1, 2]) == "{3,1,2}"
    assert array_literal([]) == "{}"


def test_a_value_that_is_not_an_id_is_refused():
    with pytest.raises(ValueError):
        array_literal(["1}, {2"])


@pytest.mark.django_db
def test_in_ids_finds_exactly_the_listed_rows():
    shop, other = ShopFactory(code="pl"), ShopFactory(code="ua")
    mine = [CustomerFactory(shop=shop) for _ in range(3)]
    theirs = CustomerFactory(shop=other)
    wanted = [mine[0].pk, mine[2].pk, theirs.pk, 10**12]  # an unknown id matches nothing

    found = Customer.objects.filter(shop=shop, pk__in_ids=wanted)

    assert sorted(found.values_list("pk", flat=True)) == [mine[0].pk, mine[2].pk]
    assert not Customer.objects.filter(pk__in_ids=[]).exists()
    assert Customer.objects.filter(pk__in_ids=range(1, 10**4)).count() == 4


@pytest.mark.django_db
def test_text_and_nullable_arrays_reach_postgresql_as_the_values_they_hold():
    if connection.vendor != "postgresql":
        pytest.skip("array parameters are PostgreSQL's")
    texts = ['{"window_spend": "4571.10"}', "back\\slash", 'a,b} {c', "", None, "ż"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[], %s::bigint[]",
                       [text_array_literal(texts), array_literal([7, None, 9])])
        assert cursor.fetchone() == (texts, [7, None, 9])
