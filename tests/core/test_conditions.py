"""The condition language's machinery on a tiny in-memory registry (no models, no SQL).

SQL and Python agreeing is tested against real tickets in tests/tickets/test_conditions.py.
"""

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.db.models import Exists

from kefu.core.conditions import (
    HOUR,
    BooleanSpec,
    ChoiceSpec,
    Column,
    ConditionError,
    Conditions,
    FieldSpec,
    ForeignKeySpec,
    HoursSpec,
    InvalidValue,
    JsonKey,
    NumberSpec,
    Op,
    OrderedChoiceSpec,
    Registry,
    TagsSpec,
    TextSpec,
    bind,
    evaluate,
    parse_conditions,
)

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _no_sql(tags: list[str]) -> Exists:
    raise AssertionError("these tests never build SQL")


def _extra(rest: str) -> FieldSpec | None:
    if rest == "broken":
        raise InvalidValue("Field extra_broken cannot be used in conditions yet")
    if rest != "size":
        return None
    return NumberSpec(name="extra_size", source=JsonKey("extra", "size", "number"))


registry = Registry("thing")
registry.register(
    OrderedChoiceSpec(
        name="priority",
        source=Column("priority"),
        order=["low", "normal", "high", "urgent"],
        nullable=True,
    )
)
registry.register(ChoiceSpec(name="colour", source=Column("colour"), choices=["red", "blue"]))
registry.register(ForeignKeySpec(name="owner_id", source=Column("owner_id"), nullable=True))
registry.register(TextSpec(name="title", source=Column("title")))
registry.register(BooleanSpec(name="flag", source=JsonKey("extra", "flag", "boolean")))
registry.register(TagsSpec(name="tags", exists=_no_sql, read=lambda thing: thing.tags))
registry.register(HoursSpec(name="age", source=Column("created_at")))
registry.register(HoursSpec(name="left", source=Column("due_at"), until=True))
registry.register(HoursSpec(name="OPEN", source=Column("status_at"), when={"state": "open"}))
registry.register_prefix("extra_", _extra)


def thing(**values: Any) -> SimpleNamespace:
    defaults: dict[str, Any] = {
        "priority": None,
        "colour": "red",
        "owner_id": None,
        "title": "",
        "extra": {},
        "tags": [],
        "created_at": NOW,
        "due_at": None,
        "state": "open",
        "status_at": NOW,
    }
    return SimpleNamespace(**(defaults | values))


def matches(obj: SimpleNamespace, *conditions: dict[str, Any]) -> bool:
    return evaluate({"all": list(conditions)}, obj, registry, now=NOW)


def error_of(data: Any) -> ConditionError:
    with pytest.raises(ConditionError) as caught:
        parse_conditions(data, registry)
    return caught.value


# --- Validation -------------------------------------------------------------------------------


def test_unknown_field_is_rejected_naming_it() -> None:
    error = error_of({"all": [{"field": "colour_id", "operator": "is", "value": "red"}]})

    assert error.details == {
        "conditions": [{"description": "all[0]: Unknown field: colour_id", "error": "InvalidValue"}]
    }


def test_unknown_operator_is_rejected_naming_it() -> None:
    error = error_of({"any": [{"field": "colour", "operator": "equals", "value": "red"}]})

    assert str(error) == "any[0]: Unknown operator: equals"


def test_operator_the_field_does_not_allow_is_rejected_listing_the_allowed_ones() -> None:
    error = error_of({"all": [{"field": "colour", "operator": "less_than", "value": "red"}]})

    assert str(error) == (
        "all[0]: Operator less_than is not allowed for field colour "
        "(allowed: is, is_not, present, not_present)"
    )


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"field": "colour", "operator": "is", "value": "green"}, 'Invalid value "green"'),
        ({"field": "colour", "operator": "is", "value": 1}, "Invalid value 1"),
        ({"field": "colour", "operator": "is", "value": ""}, "needs a value"),
        ({"field": "priority", "operator": "less_than", "value": "Urgent"}, '"Urgent"'),
        ({"field": "priority", "operator": "less_than", "value": ""}, "needs a value"),
        ({"field": "owner_id", "operator": "is", "value": "alice"}, 'Invalid value "alice"'),
        ({"field": "owner_id", "operator": "is", "value": True}, "Invalid value true"),
        ({"field": "owner_id", "operator": "is", "value": -3}, "Invalid value -3"),
        ({"field": "owner_id", "operator": "present", "value": 5}, "takes no value, got 5"),
        ({"field": "title", "operator": "includes", "value": "  "}, "needs a value"),
        ({"field": "title", "operator": "includes", "value": ["a"]}, 'Invalid value ["a"]'),
        ({"field": "flag", "operator": "is", "value": "yes"}, 'Invalid value "yes"'),
        ({"field": "tags", "operator": "includes", "value": 7}, "Invalid value 7"),
        ({"field": "tags", "operator": "includes", "value": ""}, "needs a value"),
        ({"field": "age", "operator": "is", "value": -1}, "Invalid value -1"),
        ({"field": "age", "operator": "is", "value": "1.5"}, 'Invalid value "1.5"'),
        ({"field": "age", "operator": "is", "value": 10**9}, "Invalid value 1000000000"),
        ({"field": "extra_size", "operator": "less_than", "value": "ten"}, '"ten"'),
        ({"field": "extra_size", "operator": "is", "value": float("nan")}, "NaN"),
    ],
)
def test_a_value_of_the_wrong_type_is_rejected_naming_the_field_and_value(
    condition: dict[str, Any], message: str
) -> None:
    error = error_of({"all": [condition]})

    assert message in str(error)
    assert condition["field"] in str(error)


def test_every_problem_is_reported_at_once_with_its_position() -> None:
    error = error_of(
        {
            "all": [
                {"field": "colour", "operator": "is", "value": "red"},
                {"field": "nope", "operator": "is", "value": 1},
            ],
            "any": [{"field": "owner_id", "operator": "is", "value": "x"}],
        }
    )

    assert error.descriptions == [
        "all[1]: Unknown field: nope",
        'any[0]: Invalid value "x" for field owner_id',
    ]


@pytest.mark.parametrize(
    ("data", "description"),
    [
        ({"all": [{"field": 3, "operator": "is"}]}, "all[0].field: Input should be a valid string"),
        ({"all": [{"field": "colour"}]}, "all[0].operator: Field required"),
        ({"all": {"field": "colour"}}, "all: Input should be a valid list"),
        ([], "conditions: Input should be a valid dictionary or instance of Conditions"),
    ],
)
def test_a_malformed_condition_set_is_rejected_saying_where(data: Any, description: str) -> None:
    assert error_of(data).descriptions == [description]


def test_a_prefix_field_resolves_through_its_callback() -> None:
    unknown = error_of({"all": [{"field": "extra_colour", "operator": "is", "value": 1}]})
    refused = error_of({"all": [{"field": "extra_broken", "operator": "is", "value": 1}]})
    bound = bind({"all": [{"field": "extra_size", "operator": "is", "value": "2"}]}, registry)

    assert str(unknown) == "all[0]: Unknown field: extra_colour"
    assert str(refused) == "all[0]: Field extra_broken cannot be used in conditions yet"
    assert bound.all_of[0].spec.name == "extra_size"
    assert bound.all_of[0].value == 2.0


def test_parsed_conditions_keep_values_as_written_for_storing() -> None:
    data = {
        "all": [{"field": "owner_id", "operator": "is", "value": "12"}],
        "any": [{"field": "tags", "operator": "includes", "value": "VIP  refund"}],
    }

    parsed = parse_conditions(data, registry)

    assert isinstance(parsed, Conditions)
    assert parsed.model_dump() == data


def test_a_field_cannot_be_registered_twice_or_with_operators_its_kind_lacks() -> None:
    with pytest.raises(ValueError, match="already registered"):
        registry.register(ChoiceSpec(name="colour", source=Column("colour")))
    with pytest.raises(ValueError, match="cannot use"):
        ChoiceSpec(name="size", source=Column("size"), operators=(Op.LESS_THAN,))


def test_conditions_need_an_aware_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        evaluate({}, thing(), registry, now=dt.datetime(2026, 3, 1, 12))


# --- Semantics (Python side) ------------------------------------------------------------------


def test_all_must_all_match_and_any_needs_one_match_when_given() -> None:
    red = {"field": "colour", "operator": "is", "value": "red"}
    blue = {"field": "colour", "operator": "is", "value": "blue"}
    urgent = {"field": "priority", "operator": "is", "value": "urgent"}
    obj = thing(colour="red", priority="low")

    assert evaluate({}, obj, registry, now=NOW) is True
    assert evaluate({"all": [red], "any": []}, obj, registry, now=NOW) is True
    assert evaluate({"all": [red, blue]}, obj, registry, now=NOW) is False
    assert evaluate({"all": [red], "any": [blue, urgent]}, obj, registry, now=NOW) is False
    assert evaluate({"any": [blue, red]}, obj, registry, now=NOW) is True


@pytest.mark.parametrize(
    ("operator", "value", "low", "high", "none"),
    [
        ("is", "high", False, True, False),
        ("is_not", "high", True, False, True),
        ("less_than", "high", True, False, False),
        ("greater_than", "normal", False, True, False),
        ("is", "", False, False, True),
        ("is", None, False, False, True),
        ("is_not", "", True, True, False),
        ("present", None, True, True, False),
        ("not_present", "", False, False, True),
    ],
)
def test_ordered_field_treats_no_value_as_unranked_and_unequal(
    operator: str, value: Any, low: bool, high: bool, none: bool
) -> None:
    condition = {"field": "priority", "operator": operator, "value": value}

    assert [
        matches(thing(priority="low"), condition),
        matches(thing(priority="high"), condition),
        matches(thing(priority=None), condition),
    ] == [low, high, none]


@pytest.mark.parametrize(
    ("operator", "value", "owned_by_7", "unowned"),
    [
        ("is", 7, True, False),
        ("is", "7", True, False),
        ("is", "", False, True),
        ("is", None, False, True),
        ("is_not", 7, False, True),
        ("is_not", "", True, False),
        ("present", None, True, False),
        ("not_present", None, False, True),
    ],
)
def test_foreign_key_empty_value_means_none(
    operator: str, value: Any, owned_by_7: bool, unowned: bool
) -> None:
    condition = {"field": "owner_id", "operator": operator, "value": value}

    assert [matches(thing(owner_id=7), condition), matches(thing(), condition)] == [
        owned_by_7,
        unowned,
    ]


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("includes", "refund", True),
        ("includes", "vip other", True),
        ("includes", "other", False),
        ("includes", ["VIP", "other"], True),
        ("not_includes", "other another", True),
        ("not_includes", "other vip", False),
    ],
)
def test_tags_include_any_and_exclude_all_of_the_given_ones(
    operator: str, value: Any, expected: bool
) -> None:
    condition = {"field": "tags", "operator": operator, "value": value}

    assert matches(thing(tags=["vip", "refund"]), condition) is expected


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("includes", "PRINTER", True),
        ("includes", "scanner 卡纸", True),
        ("includes", "scanner fax", False),
        ("includes", "ärger", False),  # only A–Z fold, in SQL as in Python
        ("includes", "Ärger", True),
        ("includes", "50%", True),
        ("not_includes", "scanner fax", True),
        ("is", "the printer 卡纸 50% ärger", False),
        ("is", "THE Printer 卡纸 50% Ärger", True),
        ("is_not", "the printer", True),
        ("present", None, True),
        ("is", "", False),
    ],
)
def test_text_matches_words_case_insensitively_for_ascii_letters(
    operator: str, value: Any, expected: bool
) -> None:
    condition = {"field": "title", "operator": operator, "value": value}

    assert matches(thing(title="The Printer 卡纸 50% Ärger"), condition) is expected


@pytest.mark.parametrize(
    ("extra", "is_true", "is_false"),
    [({"flag": True}, True, False), ({"flag": False}, False, True), ({}, False, True)],
)
def test_boolean_treats_missing_as_false(
    extra: dict[str, Any], is_true: bool, is_false: bool
) -> None:
    yes = {"field": "flag", "operator": "is", "value": True}
    no = {"field": "flag", "operator": "is", "value": "false"}

    assert [matches(thing(extra=extra), yes), matches(thing(extra=extra), no)] == [
        is_true,
        is_false,
    ]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [({"size": 3}, [True, False, False, True]), ({"size": "3"}, [False, False, False, False])],
)
def test_number_reads_only_json_numbers(extra: dict[str, Any], expected: list[bool]) -> None:
    conditions: list[dict[str, Any]] = [
        {"field": "extra_size", "operator": "is", "value": "3"},
        {"field": "extra_size", "operator": "less_than", "value": 3},
        {"field": "extra_size", "operator": "greater_than", "value": 3.5},
        {"field": "extra_size", "operator": "present", "value": None},
    ]

    assert [matches(thing(extra=extra), condition) for condition in conditions] == expected


@pytest.mark.parametrize(
    ("age", "hours_is"),
    [
        (dt.timedelta(0), 0),
        (HOUR - dt.timedelta(microseconds=1), 0),
        (HOUR, 1),
        (24 * HOUR, 24),
        (25 * HOUR - dt.timedelta(microseconds=1), 24),
    ],
)
def test_hours_since_counts_whole_hours(age: dt.timedelta, hours_is: int) -> None:
    obj = thing(created_at=NOW - age)
    at = {"field": "age", "operator": "is", "value": hours_is}
    below = {"field": "age", "operator": "less_than", "value": hours_is + 1}
    above = {"field": "age", "operator": "greater_than", "value": hours_is}

    assert [matches(obj, at), matches(obj, below), matches(obj, above)] == [True, True, False]


def test_hours_since_a_moment_in_the_future_are_negative_not_zero() -> None:
    # floor(-1 minute) is -1 hour: "less than 0", not "is 0" (truncation would say 0).
    obj = thing(created_at=NOW + dt.timedelta(minutes=1))
    conditions = [
        {"field": "age", "operator": operator, "value": 0}
        for operator in ("is", "less_than", "greater_than")
    ]

    assert [matches(obj, condition) for condition in conditions] == [False, True, False]


@pytest.mark.parametrize(
    ("left", "hours_is"),
    [(dt.timedelta(0), 0), (2 * HOUR - dt.timedelta(microseconds=1), 1), (2 * HOUR, 2)],
)
def test_hours_until_counts_whole_hours_ahead(left: dt.timedelta, hours_is: int) -> None:
    obj = thing(due_at=NOW + left)

    assert matches(obj, {"field": "left", "operator": "is", "value": hours_is}) is True
    assert matches(obj, {"field": "left", "operator": "greater_than", "value": hours_is}) is False


def test_hours_of_a_missing_moment_match_nothing() -> None:
    conditions = [
        {"field": "left", "operator": operator, "value": 5}
        for operator in ("is", "less_than", "greater_than")
    ]

    assert [matches(thing(due_at=None), condition) for condition in conditions] == [False] * 3


def test_hours_in_a_status_need_the_row_to_be_in_that_status() -> None:
    condition = {"field": "OPEN", "operator": "greater_than", "value": "2"}
    opened = NOW - 5 * HOUR

    assert matches(thing(state="open", status_at=opened), condition) is True
    assert matches(thing(state="pending", status_at=opened), condition) is False


def test_a_placeholder_value_is_resolved_from_the_context_at_run_time():
    from kefu.core.conditions import Column, ForeignKeySpec, Placeholder, Registry, bind

    registry = Registry("toy")
    registry.register(
        ForeignKeySpec(
            name="owner_id", source=Column("owner_id"), nullable=True, placeholders=("me",)
        )
    )
    bound = bind({"all": [{"field": "owner_id", "operator": "is", "value": "me"}]}, registry)
    assert bound.all_of[0].value == Placeholder("me")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    class Row:
        owner_id = 7

    assert bound.matches(Row(), now=now, context={"me": 7})
    assert not bound.matches(Row(), now=now, context={"me": 8})
    # no one to stand for "me" (a system change): "is me" matches nothing
    assert not bound.matches(Row(), now=now, context={})
