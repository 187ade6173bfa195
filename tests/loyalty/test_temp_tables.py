"""The snapshot tables of full recalculations and segment refreshes."""

import pytest
from django.db import DatabaseError, connection, transaction

from loyalty import temp_tables
from loyalty.temp_tables import TempTable

pytestmark = pytest.mark.django_db


def rows(name):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT customer_id FROM {name} ORDER BY customer_id")  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def test_a_snapshot_left_by_an_interrupted_run_is_replaced_and_dropped_at_the_end():
    name = "loyalty_test_snapshot"
    temp_tables.create(TempTable(name, "SELECT 1 AS customer_id", unique=True))
    temp_tables.create(TempTable(name, "SELECT %s AS customer_id UNION SELECT %s", (2, 3),
                                 unique=True))
    assert rows(name) == [2, 3]
    temp_tables.drop(name)
    with pytest.raises(DatabaseError), transaction.atomic():
        rows(name)


def test_a_unique_snapshot_refuses_two_rows_for_one_customer():
    with pytest.raises(DatabaseError), transaction.atomic():
        temp_tables.create(TempTable("loyalty_test_twice", "SELECT 1 AS customer_id UNION ALL "
                                     "SELECT 1", unique=True))
