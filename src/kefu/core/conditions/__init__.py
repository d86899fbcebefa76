"""The one condition language (ARCHITECTURE.md rule 8), shared by views, triggers,
automations and SLA policies.

Zendesk's format: ``{"all": [{"field", "operator", "value"}, ...], "any": [...]}`` — every
``all`` condition matches, and at least one ``any`` condition if there are any. A ``Registry``
holds one ``FieldSpec`` per field (registered by the app that owns the model): which operators
the field allows and what they mean, both as an ORM filter (``compile_q``, for lists) and in
Python (``evaluate``, for rules). The two agree on every row, NULLs included.

This package is generic: it imports no domain app. See docs/conditions.md.
"""

from .engine import (
    BoundConditions,
    Clause,
    ConditionsInput,
    Context,
    Registry,
    bind,
    compile_q,
    evaluate,
    parse_conditions,
)
from .schema import Condition, ConditionError, Conditions
from .sources import AsciiLower, Column, JsonKey, JsonValue, Source, ascii_lower
from .specs import (
    HOUR,
    BooleanSpec,
    ChoiceSpec,
    FieldSpec,
    ForeignKeySpec,
    HoursSpec,
    InvalidValue,
    NumberSpec,
    Op,
    OrderedChoiceSpec,
    Placeholder,
    TagsSpec,
    TextSpec,
    ValueSpec,
)

__all__ = [
    "HOUR",
    "AsciiLower",
    "BooleanSpec",
    "BoundConditions",
    "ChoiceSpec",
    "Clause",
    "Column",
    "Condition",
    "ConditionError",
    "Conditions",
    "ConditionsInput",
    "Context",
    "FieldSpec",
    "ForeignKeySpec",
    "HoursSpec",
    "InvalidValue",
    "JsonKey",
    "JsonValue",
    "NumberSpec",
    "Op",
    "OrderedChoiceSpec",
    "Placeholder",
    "Registry",
    "Source",
    "TagsSpec",
    "TextSpec",
    "ValueSpec",
    "ascii_lower",
    "bind",
    "compile_q",
    "evaluate",
    "parse_conditions",
]
