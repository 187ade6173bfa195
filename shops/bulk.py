"""Plain-row bulk inserts, for loads where building model instances costs more than the write.

`rows_insert(Model, rows)` writes dicts of field name → value with one `executemany` per batch.
Every concrete column except an auto primary key is written: the value given, or the field's
default; values are converted per field, so money, dates and booleans
are stored as the ORM stores them (plain types pass as they are, dates and decimals through
the backend's adapters, anything else through `get_db_prep_save`). Nothing model-level runs
(no `save()`, no `pre_save`, no validation): callers hand over rows they have already checked.
Table and column names come from the model's metadata, never from input.
"""

from collections.abc import Iterable

from django.db import connections, models, router


def rows_insert(model: type[models.Model], rows: Iterable[dict], *, batch_size: int = 5_000) -> int:
    """Insert the rows; returns how many were written."""
    using = router.db_for_write(model)
    connection = connections[using]
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (names from model metadata)
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    defaults = {f.attname: f.get_default() for f in fields if _optional(f)}
    prepare = [_preparer(f, connection) for f in fields]
    written = 0
    batch: list[tuple] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(tuple(
                prep(_value(row, f, defaults)) for f, prep in zip(fields, prepare, strict=True)
            ))
            if len(batch) >= batch_size:
                cursor.executemany(sql, batch)
                written += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            written += len(batch)
    return written


def _optional(field: models.Field) -> bool:
    """A column the ORM would fill by itself: a default, NULL, or a blank string."""
    return field.has_default() or field.null or (field.blank and field.empty_strings_allowed)


def _value(row: dict, field: models.Field, defaults: dict):
    if field.attname in row:
        return row[field.attname]
    if field.name in row:
        return row[field.name]
    if field.attname in defaults:
        return defaults[field.attname]
    raise KeyError(f"{field.model.__name__}.{field.name} has no value and no default")


PLAIN = {
    "CharField", "TextField", "EmailField", "SlugField", "BooleanField", "IntegerField",
    "BigIntegerField", "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
    "PositiveSmallIntegerField", "ForeignKey", "OneToOneField",
}


def _preparer(field: models.Field, connection):
    """The cheapest correct conversion of one field's values (called a million times)."""
    kind = field.get_internal_type()
    if kind in PLAIN:
        return _same
    ops = connection.ops
    if kind == "DateTimeField":
        return ops.adapt_datetimefield_value
    if kind == "DecimalField":
        digits, places = field.max_digits, field.decimal_places

        def decimal(value):
            return ops.adapt_decimalfield_value(getattr(value, "amount", value), digits, places)
        return decimal
    return lambda value: field.get_db_prep_save(value, connection)


def _same(value):
    return value


def rows_copy(model: type[models.Model], rows: Iterable[dict]) -> int:
    """`rows_insert`, with PostgreSQL's COPY where the database is PostgreSQL (one stream
    instead of one round trip per row: what a large import needs); the same values, the
    same conversions. Elsewhere it is `rows_insert`."""
    using = router.db_for_write(model)
    connection = connections[using]
    if connection.vendor != "postgresql":
        return rows_insert(model, rows)
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
    quote = connection.ops.quote_name
    sql = "COPY {} ({}) FROM STDIN".format(
        quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields))
    defaults = {f.attname: f.get_default() for f in fields if _optional(f)}
    prepare = [_preparer(f, connection) for f in fields]
    written = 0
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(tuple(
                prep(_value(row, f, defaults)) for f, prep in zip(fields, prepare, strict=True)
            ))
            written += 1
    return written
