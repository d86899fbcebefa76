"""Where a condition field's value comes from — one value, readable in SQL *and* in Python.

Every source gives an SQL expression (for ``compile_q``) and a Python reader (for ``evaluate``)
that must return the same value for the same row, NULL/None included. Keeping both halves in
one small class is what lets the operators above them be written once per field kind.

The SQL is written per backend where Django's own expressions differ between SQLite and
PostgreSQL in ways that would make the two halves disagree (see ``JsonKey`` and ``AsciiLower``).
"""

import json
import re
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from django.db import NotSupportedError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, F, FloatField, Func, TextField
from django.db.models.expressions import Expression
from django.db.models.sql.compiler import SQLCompiler

type JsonType = Literal["string", "number", "boolean"]

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_ASCII_LOWER = str.maketrans(_UPPER, _LOWER)
_KEY = re.compile(r"[A-Za-z0-9_]+", re.ASCII)


def ascii_lower(text: str) -> str:
    """Lower-case A–Z only. This is the case folding SQLite's ``lower()`` and ``LIKE`` do, and
    the one ``AsciiLower`` reproduces on PostgreSQL, so "case-insensitive" means the same thing
    in the database and in Python (Chinese has no case; "Ä"/"ä" stay distinct everywhere)."""
    return text.translate(_ASCII_LOWER)


class Source(Protocol):
    def expression(self) -> Expression | F: ...

    def read(self, obj: Any) -> Any: ...


@dataclass(frozen=True)
class Column:
    """A plain column of the model, read from the attribute of the same name."""

    attname: str

    def expression(self) -> F:
        return F(self.attname)

    def read(self, obj: Any) -> Any:
        return getattr(obj, self.attname)


@dataclass(frozen=True)
class JsonKey:
    """One top-level key of a JSON column, as an SQL value of one JSON type.

    NULL (Python ``None``) when the key is absent, holds ``null``, or holds another JSON type.
    Django's key transforms are not used because they disagree across backends (SQLite's
    returns the text ``'null'``/``'true'`` for those JSON values, PostgreSQL's ``->>`` returns
    NULL/``'true'``) and would compare a stored string ``"5"`` with a number differently.
    """

    column: str
    key: str
    json_type: JsonType

    def __post_init__(self) -> None:
        # The key ends up inside an SQLite JSON path; keep it to characters that need no quoting.
        if not _KEY.fullmatch(self.key):
            raise ValueError(f"JSON key must match [A-Za-z0-9_]+: {self.key!r}")

    def expression(self) -> "JsonValue":
        return JsonValue(F(self.column), key=self.key, json_type=self.json_type)

    def read(self, obj: Any) -> Any:
        data = getattr(obj, self.column)
        value = data.get(self.key) if isinstance(data, dict) else None
        match self.json_type:
            case "string":
                return value if isinstance(value, str) else None
            case "number":
                # bool is an int subclass in Python but a JSON boolean, not a number.
                if isinstance(value, int | float) and not isinstance(value, bool):
                    return float(value)
                return None
            case "boolean":
                return value if isinstance(value, bool) else None


class JsonValue(Func):
    """SQL side of ``JsonKey``."""

    _SQLITE_TYPES: dict[JsonType, str] = {
        "string": "'text'",
        "number": "'integer', 'real'",
        "boolean": "'true', 'false'",
    }
    _POSTGRES_CASTS: dict[JsonType, str] = {
        "string": "",
        "number": "::double precision",
        "boolean": "::boolean",
    }
    _OUTPUT_FIELDS = {"string": TextField, "number": FloatField, "boolean": BooleanField}

    def __init__(self, column: F, *, key: str, json_type: JsonType) -> None:
        super().__init__(column, output_field=self._OUTPUT_FIELDS[json_type]())
        self.key = key
        self.json_type: JsonType = json_type

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> Any:  # type: ignore[override]
        raise NotSupportedError(f"JSON conditions are not implemented for {connection.vendor}")

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        path = "$." + json.dumps(self.key)
        types = self._SQLITE_TYPES[self.json_type]
        # For true/false JSON_EXTRACT gives 1/0, which is how SQLite spells booleans.
        sql = (
            f"(CASE WHEN JSON_TYPE({column}, %s) IN ({types}) THEN JSON_EXTRACT({column}, %s) END)"
        )
        return sql, (*params, path, *params, path)

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        cast = self._POSTGRES_CASTS[self.json_type]
        sql = (
            f"(CASE WHEN jsonb_typeof({column} -> %s::text) = %s "
            f"THEN ({column} ->> %s::text){cast} END)"
        )
        return sql, (*params, self.key, self.json_type, *params, self.key)


class AsciiLower(Func):
    """SQL side of ``ascii_lower``: SQLite's ``LOWER`` already folds A–Z only; PostgreSQL's
    folds every script, so there it is spelled out with ``TRANSLATE``."""

    output_field = TextField()

    def __init__(self, expression: Expression | F) -> None:
        super().__init__(expression)

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> Any:  # type: ignore[override]
        raise NotSupportedError(f"Text conditions are not implemented for {connection.vendor}")

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"LOWER({sql})", params

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"TRANSLATE({sql}, %s, %s)", (*params, _UPPER, _LOWER)
