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


# --- one order, its lines and its event in one statement (PostgreSQL) ------------------------


_COLUMNS: dict[tuple, tuple[list[models.Field], list[str], list[str]]] = {}


def _insert_columns(model: type[models.Model], skip: frozenset[str],
                    connection) -> tuple[list[models.Field], list[str], list[str]]:
    """The fields, quoted columns and typed placeholders of ``model``'s inserts, but the auto
    primary key and ``skip`` (attnames): the same for every row, so built once per vendor."""
    key = (model, skip, connection.vendor)
    if key not in _COLUMNS:
        _COLUMNS[key] = _build_columns(model, skip, connection)
    return _COLUMNS[key]


def _build_columns(model, skip, connection):
    quote = connection.ops.quote_name
    fields = [f for f in model._meta.local_concrete_fields
              if f is not model._meta.auto_field and not f.generated and f.attname not in skip]
    return (fields, [quote(f.column) for f in fields],
            [f"CAST(%s AS {f.cast_db_type(connection)})" for f in fields])


def _insert_values(obj: models.Model, connection, skip: set[str]) -> tuple[list[str], list[str],
                                                                            list]:
    """The columns, typed placeholders and values the ORM would insert for ``obj`` (its
    fields' ``pre_save`` and ``get_db_prep_save``, as Django's insert compiler does), but
    the auto primary key and ``skip`` (attnames)."""
    fields, columns, marks = _insert_columns(type(obj), frozenset(skip), connection)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    return columns, marks, params


def order_insert(order: models.Model, lines: list[models.Model],
                 event: models.Model | None, connection) -> None:
    """Insert ``order`` (unsaved), its ``lines`` (unsaved, ``order`` theirs) and its intake
    ``event`` (unsaved, or None) in one PostgreSQL statement: data-modifying CTEs, so one
    round trip, atomic by itself (no BEGIN / COMMIT needed around it). Sets ``order.pk``.
    Nothing model-level runs beyond the fields' ``pre_save`` (no ``save()``, no signals:
    the models have no receivers); callers validate first. A duplicate order number raises
    IntegrityError and writes nothing."""
    quote = connection.ops.quote_name
    order_columns, order_marks, params = _insert_values(order, connection, set())
    pk = quote(order._meta.pk.column)
    # Names come from the models' metadata, values are parameters (hence the noqa: S608).
    sql = [f"WITH o AS (INSERT INTO {quote(order._meta.db_table)} "  # noqa: S608
           f"({', '.join(order_columns)}) VALUES ({', '.join(order_marks)}) RETURNING {pk})"]
    if lines:
        fk = lines[0]._meta.get_field("order")
        rows = [_insert_values(line, connection, {fk.attname}) for line in lines]
        columns = rows[0][0]
        values = ", ".join(f"({', '.join(marks)})" for _c, marks, _p in rows)
        names = ", ".join(f"c{i}" for i in range(len(columns)))
        sql.append(
            f"l AS (INSERT INTO {quote(lines[0]._meta.db_table)} ({quote(fk.column)}, "  # noqa: S608
            f"{', '.join(columns)}) SELECT o.{pk}, v.* FROM o CROSS JOIN (VALUES {values}) "
            f"AS v ({names}))"
        )
        for _c, _m, line_params in rows:
            params += line_params
    if event is not None:
        fk = event._meta.get_field("order")
        columns, marks, event_params = _insert_values(event, connection, {fk.attname})
        sql.append(
            f"e AS (INSERT INTO {quote(event._meta.db_table)} ({quote(fk.column)}, "  # noqa: S608
            f"{', '.join(columns)}) SELECT o.{pk}, {', '.join(marks)} FROM o)"
        )
        params += event_params
    with connection.cursor() as cursor:
        cursor.execute(", ".join(sql) + f" SELECT {pk} FROM o", params)  # noqa: S608
        order.pk = cursor.fetchone()[0]
    order._state.adding = False
    order._state.db = connection.alias
