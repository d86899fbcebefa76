"""Writing many rows of one model in one statement, for the batch write paths.

Django's ``bulk_create`` compiles a multi-row statement value by value and ``bulk_update``
builds a ``CASE`` per column and row; both cost more than the work they replace at a few
hundred rows (bench/RESULTS.md, routing). Here the values are prepared by the fields
themselves (``get_db_prep_save``, so JSON, dates and foreign keys are stored exactly as
``save()`` stores them) and sent as:

- PostgreSQL: one statement over ``UNNEST`` of one array per column, which the server plans
  once (per-row statements in a pipeline cost ~0.15 ms each there);
- SQLite (and others): one ``executemany``, which SQLite runs as one prepared statement.

The rows' primary keys must be set (ids come from ``kefu.core.ids``). Callers are the apps'
actions; this is how they write, not a way around them.
"""

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models
from django.db.models import Field, Model


def _fields(model: type[Model], names: Sequence[str]) -> list[Field]:
    return [model._meta.get_field(name) for name in names]  # type: ignore[misc]


def _array_type(field: Field) -> str:
    # Without the length (varchar(50) → varchar), as Django's own UNNEST insert does.
    return str(field.db_type(connection)).split("(")[0]


# Fields whose database value is the Python value itself when it has exactly this type (no
# subclass: a choices enum member still goes through the field). Other values, and every
# other field (JSON, dates, decimals...), are prepared by the field as save() would.
_PLAIN_TYPES: dict[type[Field], type] = {
    models.AutoField: int,
    models.BigAutoField: int,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
}


def _preparer(field: Field, *, add: bool) -> Callable[[Model], Any]:
    """row → the value to send for ``field``: ``get_db_prep_save(pre_save(row, add))``."""
    attname = field.attname
    stamps = add and (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
    target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]
    plain = _PLAIN_TYPES.get(type(target))
    prep = field.get_db_prep_save

    if stamps:
        return lambda row: prep(field.pre_save(row, add=True), connection)
    if plain is None:
        return lambda row: prep(getattr(row, attname), connection)

    def prepare(row: Model) -> Any:
        value = getattr(row, attname)
        if value is None or value.__class__ is plain:
            return value
        return prep(value, connection)

    return prepare


def insert(model: type[Model], rows: Sequence[Model]) -> None:
    """INSERT every concrete column of ``rows`` (primary keys set); marks them saved."""
    if not rows:
        return
    fields: list[Field] = list(model._meta.concrete_fields)
    preparers = [_preparer(f, add=True) for f in fields]
    values = [[prepare(row) for prepare in preparers] for row in rows]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)  # type: ignore[arg-type]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{_array_type(f)}[]" for f in fields)
            sql = f"INSERT INTO {table} ({columns}) SELECT * FROM UNNEST({arrays})"  # noqa: S608 - quoted names
            cursor.execute(sql, [list(column) for column in zip(*values, strict=True)])
        else:
            marks = ", ".join(["%s"] * len(fields))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - quoted names
            cursor.executemany(sql, values)
    for row in rows:
        row._state.adding = False
        row._state.db = connection.alias


def update(model: type[Model], rows: Sequence[Model], names: Sequence[str]) -> None:
    """UPDATE the fields ``names`` of ``rows`` (by primary key) to their values in memory."""
    if not rows:
        return
    fields = _fields(model, names)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = model._meta.pk
    assert pk is not None
    pk_column = quote(str(pk.column))
    preparers = [_preparer(f, add=False) for f in fields]
    values: list[list[Any]] = [[prepare(row) for prepare in preparers] + [row.pk] for row in rows]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names_v = [f"v{n}" for n in range(len(fields))]
            arrays = ", ".join(f"%s::{_array_type(f)}[]" for f in [*fields, pk])
            assignments = ", ".join(
                f"{quote(f.column)} = u.{v}"  # type: ignore[arg-type]
                for f, v in zip(fields, names_v, strict=True)
            )
            sql = (
                f"UPDATE {table} SET {assignments} "  # noqa: S608 - quoted names
                f"FROM UNNEST({arrays}) AS u({', '.join([*names_v, 'pk'])}) "
                f"WHERE {table}.{pk_column} = u.pk"
            )
            cursor.execute(sql, [list(column) for column in zip(*values, strict=True)])
        else:
            assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)  # type: ignore[arg-type]
            sql = f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s"  # noqa: S608 - quoted names
            cursor.executemany(sql, values)
