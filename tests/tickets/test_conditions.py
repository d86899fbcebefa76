"""Ticket conditions: validation, the NULL cases, and SQL and Python agreeing on every ticket.

The agreement test builds ~40 varied tickets through the real actions, then lets hypothesis
write random condition sets over every registered field and checks that the SQL filter and
the Python evaluation pick exactly the same tickets (on SQLite, and on PostgreSQL with
``KEFU_TEST_DATABASE_URL=postgres://...``).
"""

import datetime as dt
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.accounts import actions as accounts
from kefu.accounts.choices import Role
from kefu.core import clock
from kefu.core.conditions import HOUR, ConditionError, bind, compile_q, evaluate
from kefu.tickets.actions import (
    NewComment,
    TicketData,
    create_custom_status,
    create_ticket,
    create_ticket_field,
    update_ticket,
)
from kefu.tickets.choices import PRIORITY_ORDER, STATUS_ORDER, Channel, TicketType
from kefu.tickets.conditions import (
    parse_ticket_conditions,
    ticket_conditions,
    ticket_filter,
    ticket_matches,
)
from kefu.tickets.models import Ticket, TicketField
from tests.conftest import Personas

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def sql_and_python(conditions: dict[str, Any], ticket: Ticket) -> tuple[bool, bool]:
    """Whether the SQL filter finds ``ticket``, and whether Python says it matches."""
    in_sql = Ticket.objects.filter(ticket_filter(conditions, now=NOW), pk=ticket.pk).exists()
    fresh = Ticket.objects.get(pk=ticket.pk)
    return in_sql, ticket_matches(conditions, fresh, now=NOW)


def new_ticket(personas: Personas, *, at: dt.datetime = NOW - HOUR, **data: Any) -> Ticket:
    with clock.frozen_at(at):
        return create_ticket(
            actor=personas.alice,
            data=TicketData(requester=personas.bob, subject=data.pop("subject", "Help"), **data),
            comment=NewComment(body="Hello"),
        )


# --- Validation -------------------------------------------------------------------------------


def test_unknown_field_operator_and_value_are_rejected_naming_them(db: None) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_ticket_conditions(
            {
                "all": [
                    {"field": "statuss", "operator": "is", "value": "open"},
                    {"field": "status", "operator": "contains", "value": "open"},
                    {"field": "status", "operator": "is", "value": "opened"},
                    {"field": "group_id", "operator": "is", "value": "support"},
                    {"field": "NEW", "operator": "greater_than", "value": "a day"},
                ]
            }
        )

    assert caught.value.descriptions == [
        "all[0]: Unknown field: statuss",
        "all[1]: Unknown operator: contains",
        'all[2]: Invalid value "opened" for field status',
        'all[3]: Invalid value "support" for field group_id',
        'all[4]: Invalid value "a day" for field NEW',
    ]


def test_custom_field_conditions_check_the_field_exists_and_its_type(db: None) -> None:
    product = create_ticket_field(type="tagger", title="产品", options=[("Phone", "phone")])
    when = create_ticket_field(type="date", title="Purchase date")

    with pytest.raises(ConditionError) as caught:
        parse_ticket_conditions(
            {
                "all": [
                    {"field": f"custom_fields_{product.pk}", "operator": "is", "value": "fax"},
                    {"field": f"custom_fields_{when.pk}", "operator": "is", "value": "2026-01-01"},
                    {"field": "custom_fields_1", "operator": "present"},
                    {"field": "custom_fields_x1", "operator": "present"},
                ]
            }
        )

    assert caught.value.descriptions == [
        f'all[0]: Invalid value "fax" for field custom_fields_{product.pk}',
        f"all[1]: Field custom_fields_{when.pk} (date) cannot be used in conditions yet",
        "all[2]: Unknown field: custom_fields_1",
        "all[3]: Unknown field: custom_fields_x1",
    ]


# --- The NULL cases, on both sides ------------------------------------------------------------


def test_is_not_matches_tickets_without_a_value(personas: Personas) -> None:
    ticket = new_ticket(personas, priority=None, type=None)

    assert sql_and_python(
        {"all": [{"field": "priority", "operator": "is_not", "value": "high"}]}, ticket
    ) == (True, True)
    assert sql_and_python(
        {"all": [{"field": "type", "operator": "is_not", "value": "incident"}]}, ticket
    ) == (True, True)


def test_less_and_greater_than_never_match_a_ticket_without_priority(personas: Personas) -> None:
    ticket = new_ticket(personas, priority=None)

    assert sql_and_python(
        {"any": [{"field": "priority", "operator": "less_than", "value": "urgent"}]}, ticket
    ) == (False, False)
    assert sql_and_python(
        {"any": [{"field": "priority", "operator": "greater_than", "value": "low"}]}, ticket
    ) == (False, False)


@pytest.mark.parametrize("empty", ["", None])
def test_assignee_empty_value_means_unassigned(personas: Personas, empty: str | None) -> None:
    unassigned = new_ticket(personas, group=personas.support)
    assigned = new_ticket(personas, assignee=personas.alice)
    is_empty = {"all": [{"field": "assignee_id", "operator": "is", "value": empty}]}
    is_not_empty = {"all": [{"field": "assignee_id", "operator": "is_not", "value": empty}]}

    assert sql_and_python(is_empty, unassigned) == (True, True)
    assert sql_and_python(is_empty, assigned) == (False, False)
    assert sql_and_python(is_not_empty, assigned) == (True, True)


def test_tags_conditions_read_the_tag_rows_and_the_tag_list(personas: Personas) -> None:
    ticket = new_ticket(personas, tags=["vip", "退货"])

    assert sql_and_python(
        {"all": [{"field": "current_tags", "operator": "includes", "value": "refund 退货"}]},
        ticket,
    ) == (True, True)
    assert sql_and_python(
        {"all": [{"field": "current_tags", "operator": "not_includes", "value": "VIP refund"}]},
        ticket,
    ) == (False, False)


def test_a_custom_field_the_ticket_lacks_counts_as_not_present(personas: Personas) -> None:
    quantity = create_ticket_field(type="integer", title="Quantity")
    gift = create_ticket_field(type="checkbox", title="Gift", tag="gift")
    ticket = new_ticket(personas, custom_fields={})
    field = f"custom_fields_{quantity.pk}"

    assert sql_and_python({"all": [{"field": field, "operator": "not_present"}]}, ticket) == (
        True,
        True,
    )
    assert sql_and_python(
        {"all": [{"field": field, "operator": "is_not", "value": 3}]}, ticket
    ) == (True, True)
    assert sql_and_python(
        {"all": [{"field": field, "operator": "less_than", "value": 3}]}, ticket
    ) == (False, False)
    assert sql_and_python(
        {"all": [{"field": f"custom_fields_{gift.pk}", "operator": "is", "value": False}]}, ticket
    ) == (True, True)


def test_hours_since_open_counts_only_while_the_ticket_is_open(personas: Personas) -> None:
    ticket = new_ticket(personas, at=NOW - 30 * HOUR, status="open")
    over_a_day = {"all": [{"field": "OPEN", "operator": "greater_than", "value": 24}]}

    opened = sql_and_python(over_a_day, ticket)
    with clock.frozen_at(NOW - 2 * HOUR):
        update_ticket(ticket, actor=personas.alice, data=TicketData(status="pending"))

    assert opened == (True, True)
    assert sql_and_python(over_a_day, ticket) == (False, False)
    assert sql_and_python(
        {"all": [{"field": "PENDING", "operator": "is", "value": 2}]}, ticket
    ) == (True, True)


def test_hours_since_created_is_the_floor_of_the_elapsed_hours(personas: Personas) -> None:
    exactly = new_ticket(personas, at=NOW - 24 * HOUR)
    just_under = new_ticket(personas, at=NOW - 24 * HOUR + MINUTE)
    is_24 = {"all": [{"field": "NEW", "operator": "is", "value": "24"}]}

    assert sql_and_python(is_24, exactly) == (True, True)
    assert sql_and_python(is_24, just_under) == (False, False)


def test_ticket_filter_uses_the_clock_when_no_now_is_given(personas: Personas) -> None:
    ticket = new_ticket(personas, at=NOW - 5 * HOUR)
    five_hours = {"all": [{"field": "NEW", "operator": "is", "value": 5}]}

    with clock.frozen_at(NOW):
        found = list(Ticket.objects.filter(ticket_filter(five_hours)))
        matched = ticket_matches(five_hours, ticket)

    assert found == [ticket]
    assert matched is True


# --- SQL and Python agree (property test) -----------------------------------------------------


SUBJECTS = [
    "Printer jammed",
    "PRINTER on fire 打印机",
    "退货申请 refund",
    "Ärger mit der Lieferung",
    "ärger again",
    "Discount 50% off?",
    "under_score name",
    "Refund for order 1234",
    "login problem",
]
TAGS = ["vip", "退货", "refund", "printer", "b2b"]
PRODUCT_OPTIONS = [("Phone", "phone"), ("Laptop", "laptop"), ("Tablet", "tablet")]
# The updates that take a ticket created new/open to a status.
STATUS_STEPS = {
    "pending": ["pending"],
    "hold": ["hold"],
    "solved": ["solved"],
    "closed": ["solved", "closed"],
}
TIME_COLUMNS = [
    "created_at",
    "status_updated_at",
    "assigned_at",
    "updated_at",
    "requester_updated_at",
    "assignee_updated_at",
    "due_at",
]


@dataclass
class Pool:
    tickets: list[Ticket]
    product: TicketField
    order_number: TicketField
    gift: TicketField
    quantity: TicketField
    amount: TicketField
    unused_custom_status_id: int


def _build_pool(personas: Personas) -> Pool:
    """~40 tickets with every nullable value both set and empty, times on and off whole hours,
    every status (reached through updates, as in real life), tags, and custom fields."""
    rng = random.Random(20260302)  # fixed: the pool is the same on every run
    billing = accounts.create_group(name="Billing 账单")
    dave = accounts.create_user(
        name="Dave", email="dave@kefu.test", role=Role.AGENT, groups=[billing]
    )
    erin = accounts.create_user(name="Erin", email="erin@example.test")
    parts = create_custom_status(status_category="open", agent_label="Waiting for parts")
    unused = create_custom_status(status_category="hold", agent_label="Never used")
    pool_fields = {
        "product": create_ticket_field(type="tagger", title="产品", options=PRODUCT_OPTIONS),
        "order_number": create_ticket_field(type="text", title="Order number"),
        "gift": create_ticket_field(type="checkbox", title="Gift", tag="gift"),
        "quantity": create_ticket_field(type="integer", title="Quantity"),
        "amount": create_ticket_field(type="decimal", title="Amount"),
    }
    requesters = [personas.bob, personas.carol, erin]
    # (assignee, group): unassigned, in a group or not, and assigned in two groups.
    assignments = [
        (None, None),
        (None, personas.support),
        (personas.alice, personas.support),
        (dave, billing),
        (None, billing),
    ]
    statuses = itertools.cycle(STATUS_ORDER)
    for index in range(40):
        status = next(statuses)
        assignee, group = rng.choice(assignments)
        if status == "new":
            assignee = None  # assigning a new ticket opens it
        if status in ("solved", "closed") and assignee is None:
            assignee, group = personas.alice, personas.support  # solving needs an assignee
        requester = rng.choice(requesters)
        # Half the tickets on whole hours before NOW, so "is N" boundaries are exercised.
        created = NOW - rng.randrange(1, 72) * HOUR - rng.choice([0, 0, 1, 59]) * MINUTE
        kind = rng.choice([None, *TicketType.values])
        data: dict[str, Any] = {
            "subject": rng.choice(SUBJECTS),
            "requester": requester,
            "status": "new" if status == "new" else "open",
            "priority": rng.choice([None, *PRIORITY_ORDER]),
            "type": kind,
            "group": group,
            "assignee": assignee,
            "tags": rng.sample(TAGS, rng.randrange(0, 3)),
            "via_channel": rng.choice(["web", "email", "api", "chat", "portal"]),
            "external_id": rng.choice([None, "crm-1", "crm-2", "CRM-1"]),
            "custom_fields": {
                pool_fields["product"].pk: rng.choice([None, "phone", "laptop"]),
                pool_fields["order_number"].pk: rng.choice([None, "A-100", "a-100", "B 200"]),
                pool_fields["gift"].pk: rng.choice([None, True, False]),
                pool_fields["quantity"].pk: rng.choice([None, 0, 3, -2, 10]),
                pool_fields["amount"].pk: rng.choice([None, 1.5, 2.25, 0.1, 3]),
            },
        }
        if kind == "task":
            data["due_at"] = NOW + rng.choice([-5 * HOUR, -30 * MINUTE, 3 * HOUR, 50 * MINUTE])
        if status == "open" and rng.random() < 0.4:
            data["custom_status"] = parts
        with clock.frozen_at(created):
            ticket = create_ticket(
                actor=rng.choice([personas.alice, personas.admin]),
                data=TicketData(**data),
                comment=NewComment(body=f"Ticket {index}", public=rng.random() < 0.8),
            )
        moment = created
        if rng.random() < 0.5:
            moment += rng.randrange(1, 180) * MINUTE
            with clock.frozen_at(moment):
                update_ticket(ticket, actor=requester, comment=NewComment(body="Any news?"))
        for step in STATUS_STEPS.get(status, []):
            moment += rng.choice([60, 61, 120, 600]) * MINUTE
            with clock.frozen_at(moment):
                update_ticket(ticket, actor=assignee, data=TicketData(status=step))
    return Pool(
        tickets=list(Ticket.objects.order_by("pk")),
        product=pool_fields["product"],
        order_number=pool_fields["order_number"],
        gift=pool_fields["gift"],
        quantity=pool_fields["quantity"],
        amount=pool_fields["amount"],
        unused_custom_status_id=unused.pk,
    )


@pytest.fixture
def pool(personas: Personas) -> Pool:
    return _build_pool(personas)


@dataclass(frozen=True)
class Domain:
    """Conditions on one field: each of ``operators`` with each of ``values``."""

    operators: tuple[str, ...]
    values: tuple[Any, ...]


EQUALITY = ("is", "is_not")
PRESENCE = ("present", "not_present")
ORDERING = ("less_than", "greater_than")
HOURS = ("is", "less_than", "greater_than")


def _ids(tickets: list[Ticket], attname: str) -> tuple[Any, ...]:
    return tuple(sorted({getattr(t, attname) for t in tickets} - {None}))


def _hours(tickets: list[Ticket]) -> tuple[int, ...]:
    """Hour counts around every moment in the pool, where off-by-one errors would show."""
    spans = [
        abs((getattr(ticket, column) - NOW) // HOUR)
        for ticket in tickets
        for column in TIME_COLUMNS
        if getattr(ticket, column) is not None
    ]
    return tuple(sorted({hours + delta for hours in spans for delta in (-1, 0, 1)} - {-1}))


def _cases(words: Sequence[str]) -> tuple[str, ...]:
    """Each word as written, upper- and title-cased (ASCII case must not matter), and a few
    space-separated combinations ("at least one of these")."""
    variants = {variant for word in words for variant in (word, word.upper(), word.title())}
    pairs = {f"{a} {b}" for a, b in itertools.pairwise(words)}
    return tuple(sorted(variants | pairs))


def field_domains(pool: Pool) -> dict[str, list[Domain]]:
    """For every ticket condition field, the conditions to try: values that occur in the
    pool and values that do not ("", null, unknown ids, options nobody picked, ...)."""
    tickets = pool.tickets
    hours = _hours(tickets)
    subject_words = sorted({word for subject in SUBJECTS for word in subject.split()})
    domains: dict[str, list[Domain]] = {
        "status": [Domain((*EQUALITY, *ORDERING), tuple(STATUS_ORDER))],
        "priority": [
            Domain(EQUALITY, (*PRIORITY_ORDER, "", None)),
            Domain(ORDERING, tuple(PRIORITY_ORDER)),
            Domain(PRESENCE, (None,)),
        ],
        "type": [Domain(EQUALITY, (*TicketType.values, "", None)), Domain(PRESENCE, (None,))],
        "via_id": [Domain(EQUALITY, tuple(Channel.values))],
        "external_id": [
            Domain(EQUALITY, ("crm-1", "CRM-1", "crm-9", "", None)),
            Domain(PRESENCE, (None,)),
        ],
        "subject": [
            Domain(("includes", "not_includes"), _cases([*subject_words, "ärger", "zzz"])),
            Domain(EQUALITY, (*SUBJECTS, SUBJECTS[0].upper(), "Printer", "")),
            Domain(PRESENCE, (None,)),
        ],
        "is_public": [Domain(EQUALITY, (True, False, "true", "false"))],
        "custom_status_id": [
            Domain(EQUALITY, (*_ids(tickets, "custom_status_id"), pool.unused_custom_status_id))
        ],
        "current_tags": [
            Domain(("includes", "not_includes"), _cases([*TAGS, "gift", "phone", "nosuchtag"]))
        ],
    }
    for name in ("requester_id", "submitter_id"):
        domains[name] = [Domain(EQUALITY, (*_ids(tickets, name), 999_999))]
    for name in ("assignee_id", "group_id", "organization_id"):
        domains[name] = [
            # Ids in the pool, "none" both ways, and an id nothing has.
            Domain(EQUALITY, (*_ids(tickets, name), "", None, 999_999)),
            Domain(PRESENCE, (None,)),
        ]
    for name in ("NEW", "OPEN", "PENDING", "HOLD", "SOLVED", "CLOSED", "assigned_at",
                 "updated_at", "requester_updated_at", "assignee_updated_at", "due_date",
                 "until_due_date"):  # fmt: skip
        domains[name] = [Domain(HOURS, hours)]
    # Registered by the sla app (tests/sla/test_conditions.py runs them on tickets with SLAs;
    # here every ticket has none, which must also agree).
    domains["hours_until_next_sla_breach"] = [Domain(HOURS, hours)]
    domains["sla_breached"] = [Domain(EQUALITY, (True, False, "true", "false"))]
    domains[f"custom_fields_{pool.product.pk}"] = [
        Domain(EQUALITY, ("phone", "laptop", "tablet", "", None)),
        Domain(PRESENCE, (None,)),
    ]
    domains[f"custom_fields_{pool.order_number.pk}"] = [
        Domain(EQUALITY, ("A-100", "a-100", "B 200", "", None)),
        Domain(PRESENCE, (None,)),
    ]
    domains[f"custom_fields_{pool.gift.pk}"] = [Domain(EQUALITY, (True, False, "true", "false"))]
    for field in (pool.quantity, pool.amount):
        domains[f"custom_fields_{field.pk}"] = [
            Domain((*EQUALITY, *ORDERING), (-2, 0, 0.1, 1.5, "2.25", 3, "3", 10, 100)),
            Domain(PRESENCE, (None,)),
        ]
    return domains


def every_single_condition(domains: dict[str, list[Domain]]) -> list[dict[str, Any]]:
    return [
        {"field": name, "operator": operator, "value": value}
        for name, field_domains in domains.items()
        for domain in field_domains
        for operator, value in itertools.product(domain.operators, domain.values)
    ]


def condition_sets(domains: dict[str, list[Domain]]) -> Any:
    """Random ``{"all": [...], "any": [...]}`` sets over every field."""
    one = st.sampled_from(every_single_condition(domains))
    return st.fixed_dictionaries(
        {"all": st.lists(one, max_size=3), "any": st.lists(one, max_size=3)}
    )


def selected(conditions: dict[str, Any], tickets: list[Ticket]) -> tuple[set[int], set[int]]:
    """(ids the SQL filter finds, ids the Python evaluation accepts) among ``tickets``."""
    bound = bind(conditions, ticket_conditions)  # once: custom fields are looked up here
    in_sql = set(Ticket.objects.filter(bound.q(now=NOW)).values_list("pk", flat=True))
    in_python = {ticket.pk for ticket in tickets if bound.matches(ticket, now=NOW)}
    return in_sql, in_python


def test_the_agreement_tests_cover_every_registered_field(pool: Pool) -> None:
    custom = {
        f"custom_fields_{field.pk}"
        for field in (pool.product, pool.order_number, pool.gift, pool.quantity, pool.amount)
    }

    assert set(field_domains(pool)) == {spec.name for spec in ticket_conditions} | custom


def test_the_pool_has_empty_and_set_values_for_every_nullable_column(pool: Pool) -> None:
    # Without both kinds of row the agreement tests could not catch a NULL mistake.
    nullable = ["priority", "type", "assignee_id", "group_id", "organization_id", "external_id",
                "requester_updated_at", "assignee_updated_at", "due_at", "assigned_at"]  # fmt: skip

    assert {name: {getattr(t, name) is None for t in pool.tickets} for name in nullable} == {
        name: {True, False} for name in nullable
    }
    assert {t.status for t in pool.tickets} == set(STATUS_ORDER)


def test_every_single_condition_selects_the_same_tickets_in_sql_and_python(pool: Pool) -> None:
    conditions = every_single_condition(field_domains(pool))

    disagreements = [
        (condition, *selected({"all": [condition]}, pool.tickets)) for condition in conditions
    ]

    assert [case for case in disagreements if case[1] != case[2]] == []
    # Not vacuous: plenty of the conditions select some tickets and leave others out.
    assert sum(0 < len(case[1]) < len(pool.tickets) for case in disagreements) > 300


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_condition_sets_select_the_same_tickets_in_sql_and_python(
    pool: Pool, data: Any
) -> None:
    # The pool fixture is built once for all the examples of this test.
    conditions = data.draw(condition_sets(field_domains(pool)))

    in_sql, in_python = selected(conditions, pool.tickets)

    assert in_sql == in_python


def test_compile_q_and_evaluate_are_the_same_as_binding_once(pool: Pool) -> None:
    conditions = {
        "all": [{"field": "status", "operator": "less_than", "value": "solved"}],
        "any": [
            {"field": "priority", "operator": "is_not", "value": "high"},
            {"field": "current_tags", "operator": "includes", "value": "vip"},
        ],
    }

    in_sql = set(
        Ticket.objects.filter(compile_q(conditions, ticket_conditions, now=NOW)).values_list(
            "pk", flat=True
        )
    )
    in_python = {t.pk for t in pool.tickets if evaluate(conditions, t, ticket_conditions, now=NOW)}

    assert in_sql == in_python
    assert 0 < len(in_sql) < len(pool.tickets)
