"""Temporary snapshot tables for set-based recalculations (category ladder, segments).

A snapshot is a SELECT compiled by the ORM and materialised once as a temporary table
(``CREATE TEMPORARY TABLE ... AS``), indexed on the columns later statements join on and
analysed, so that PostgreSQL plans those joins with the table's real size (a fresh temporary
table has no statistics; autovacuum never sees it). A table left by an interrupted run in the
same connection is dropped first. Temporary tables live only in their connection: `drop` at
the end, or the connection's end, removes them. Names and columns are ours, never input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class TempTable:
    name: str
    #: The SELECT that fills the table, and its parameters.
    sql: str
    params: Sequence = ()
    #: Columns of the table's index, and whether they identify a row.
    index: tuple[str, ...] = ("customer_id",)
    unique: bool = False


def create(*tables: TempTable) -> None:
    """Create, index and analyse each table (replacing a leftover of the same name)."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DROP TABLE IF EXISTS {table.name}")
            cursor.execute(f"CREATE TEMPORARY TABLE {table.name} AS {table.sql}", table.params)
            unique = "UNIQUE " if table.unique else ""
            cursor.execute(f"CREATE {unique}INDEX {table.name}_index "
                           f"ON {table.name} ({', '.join(table.index)})")
            cursor.execute(f"ANALYZE {table.name}")


def drop(*names: str) -> None:
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
