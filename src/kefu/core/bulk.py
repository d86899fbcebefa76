"""Writing many rows of one model in one statement, for the batch write paths.

Django's ``bulk_create`` compiles a multi-row statement value by value and ``bulk_update``
builds a ``CASE`` per column and row; both cost more than the work they replace at a few
hundred rows (bench/RESULTS.md, routing). Here the values are prepared by the fields
themselves (``get_db_prep_save``, so JSON, dates and foreign keys are stored exactly as
``save()`` stores them) and sent as:

- PostgreSQL: one statement over the rows sent as one JSON document (``jsonb_array_elements``,
  each column cast from its text), which the server plans once. Per-row statements in a
  pipeline cost ~0.15 ms each there, and ``UNNEST`` of one array per column spent ~13 ms of
  client CPU per 1,000 rows of 9 columns in psycopg's array dumping, against ~4 ms to build
  the JSON (bench/RESULTS.md, routing);
- SQLite (and others): one ``executemany``, which SQLite runs as one prepared statement.

The rows' primary keys must be set (ids come from ``kefu.core.ids``). Callers are the apps'
actions; this is how they write, not a way around them.
"""

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models
from django.db.models import Field, Model


def _fields(model: type[Model], names: Sequence[str]) -> list[Field]:
    return [model._meta.get_field(name) for name in names]  # type: ignore[misc]


def _cast(field: Field, n: int) -> str:
    """The SQL reading column ``n`` of a JSON row ``r`` as ``field``'s database type."""
    target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]
    if isinstance(target, models.JSONField):
        # Carried as [value] (JSON null is a value) or null (SQL NULL): see _json_value.
        return f"NULLIF(r -> {n}, 'null') -> 0"
    # Without a length (varchar(50) → varchar): an explicit cast to varchar(50) would cut a
    # longer text silently, where storing it must fail as save() fails.
    return f"(r ->> {n})::{str(field.db_type(connection)).split('(')[0]}"


def _scalar(value: Any) -> Any:
    """A prepared (``get_db_prep_save``) value → its JSON form, read back by ``_cast``."""
    if value is None or value.__class__ in (int, str, bool, float):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return f"{value.days} days {value.seconds} seconds {value.microseconds} microseconds"
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    return str(value)  # Decimal, UUID, int and str subclasses: their text is their SQL input


_JSON_TYPES = (dict, list, str, int, bool, float)


def _json_preparer(field: Field, *, add: bool) -> Callable[[Model], Any]:
    """row → what the JSON document carries for ``field`` (PostgreSQL): the value
    ``_preparer`` gives, as JSON; the common cases without the field's preparation."""
    prepare = _preparer(field, add=add)
    attname = field.attname
    target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]
    if isinstance(target, models.JSONField):
        encoder = target.encoder

        def as_json(row: Model) -> Any:
            value = getattr(row, attname)
            if value is None:
                return None  # SQL NULL, as get_db_prep_save gives for None
            if encoder is None and value.__class__ in _JSON_TYPES:
                return [value]
            prepared = prepare(row)  # psycopg's Jsonb around the value (JSON null included)
            if prepared is None:
                return None
            obj = prepared.obj
            return [obj if encoder is None else json.loads(json.dumps(obj, cls=encoder))]

        return as_json
    if isinstance(target, models.DateTimeField) and not (
        add and (target.auto_now or target.auto_now_add)
    ):

        def as_text(row: Model) -> Any:
            value = getattr(row, attname)
            # An aware datetime is what get_db_prep_save gives back on PostgreSQL.
            if value.__class__ is dt.datetime and value.tzinfo is not None:
                return value.isoformat()
            return _scalar(prepare(row))

        return as_text
    return lambda row: _scalar(prepare(row))


def _rows_json(preparers: Sequence[Callable[[Model], Any]], rows: Sequence[Model]) -> str:
    return json.dumps(
        [[prepare(row) for prepare in preparers] for row in rows],
        ensure_ascii=False,
        separators=(",", ":"),
    )


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


def _insert_sql(fields: Sequence[Field], *, ignore_conflicts: bool = False) -> str:
    """The INSERT of ``fields``' columns: over one JSON document of rows on PostgreSQL, one
    row of parameters elsewhere (for ``executemany``)."""
    quote = connection.ops.quote_name
    table = quote(fields[0].model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)  # type: ignore[arg-type]
    conflicts = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    if connection.vendor == "postgresql":
        casts = ", ".join(_cast(f, n) for n, f in enumerate(fields))
        return (
            f"INSERT INTO {table} ({columns}) "  # noqa: S608 - quoted names
            f"SELECT {casts} FROM jsonb_array_elements(%s::jsonb) r{conflicts}"
        )
    marks = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {table} ({columns}) VALUES ({marks}){conflicts}"  # noqa: S608 - quoted names


def insert(model: type[Model], rows: Sequence[Model]) -> None:
    """INSERT every concrete column of ``rows`` (primary keys set); marks them saved."""
    if not rows:
        return
    fields: list[Field] = list(model._meta.concrete_fields)
    sql = _insert_sql(fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(sql, [_rows_json([_json_preparer(f, add=True) for f in fields], rows)])
        else:
            preparers = [_preparer(f, add=True) for f in fields]
            cursor.executemany(sql, [[prepare(row) for prepare in preparers] for row in rows])
    for row in rows:
        row._state.adding = False
        row._state.db = connection.alias


def insert_values(
    model: type[Model],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
) -> None:
    """INSERT ``rows`` given as values, not model objects: each row the values of the fields
    ``names`` (primary key included), as the fields hold them in Python (numbers, strings,
    booleans, aware datetimes, JSON documents; no defaults are filled in). For the batches
    whose rows are many and plain (a re-evaluation's metric events: building model objects
    was a tenth of its CPU). ``ignore_conflicts``: a row a unique constraint refuses is
    skipped (``ON CONFLICT DO NOTHING``)."""
    if not rows:
        return
    fields = _fields(model, names)
    sql = _insert_sql(fields, ignore_conflicts=ignore_conflicts)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            json_fields = [isinstance(f, models.JSONField) for f in fields]

            def as_json(value: Any, is_json: bool) -> Any:
                if is_json:
                    return None if value is None else [value]  # as _cast reads it
                if isinstance(value, dt.datetime | dt.date):
                    return value.isoformat()
                return value

            document = [
                [as_json(v, j) for v, j in zip(row, json_fields, strict=True)] for row in rows
            ]
            cursor.execute(sql, [json.dumps(document, ensure_ascii=False, separators=(",", ":"))])
        else:
            cursor.executemany(
                sql,
                [
                    [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)]
                    for row in rows
                ],
            )


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
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            every = [*fields, pk]
            names_v = [f"v{n}" for n in range(len(every))]
            casts = ", ".join(
                f"{_cast(f, n)} AS {v}" for n, (f, v) in enumerate(zip(every, names_v, strict=True))
            )
            assignments = ", ".join(
                f"{quote(f.column)} = u.{v}"  # type: ignore[arg-type]
                for f, v in zip(fields, names_v[:-1], strict=True)
            )
            sql = (
                f"UPDATE {table} SET {assignments} "  # noqa: S608 - quoted names
                f"FROM (SELECT {casts} FROM jsonb_array_elements(%s::jsonb) r) AS u "
                f"WHERE {table}.{pk_column} = u.{names_v[-1]}"
            )
            cursor.execute(sql, [_rows_json([_json_preparer(f, add=False) for f in every], rows)])
        else:
            assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)  # type: ignore[arg-type]
            sql = f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s"  # noqa: S608 - quoted names
            preparers = [_preparer(f, add=False) for f in fields]
            values = [[prepare(row) for prepare in preparers] + [row.pk] for row in rows]
            cursor.executemany(sql, values)
