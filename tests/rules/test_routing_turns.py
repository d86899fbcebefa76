"""A queue drain chooses agents through ``_Turns`` (a heap); each choice must be the one
``_pick`` (the scan single-ticket routing uses) makes for the same state, in every mode,
with capacities filling up, agents never routed to, and skills picks in between."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.rules.choices import RoutingMode
from kefu.rules.models import AgentStatus
from kefu.rules.routing import _pick, _Turns

START = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
SKILLS = ["中文", "vip"]

agents = st.lists(
    st.tuples(
        st.integers(0, 4),  # load
        st.integers(0, 6),  # capacity
        st.one_of(st.none(), st.integers(0, 3)),  # last routed, minutes after START
        st.lists(st.sampled_from(SKILLS), unique=True),
    ),
    min_size=1,
    max_size=8,
)
tickets = st.lists(st.lists(st.sampled_from(SKILLS), unique=True, max_size=2), max_size=30)


def _statuses(rows: list[tuple]) -> tuple[list[AgentStatus], dict[int, int]]:
    statuses = [
        AgentStatus(
            pk=n + 1, agent_id=100 + n, capacity=capacity, skills=skills,
            last_routed_at=None if minutes is None else START + dt.timedelta(minutes=minutes),
        )
        for n, (_load, capacity, minutes, skills) in enumerate(rows)
    ]  # fmt: skip
    return statuses, {100 + n: row[0] for n, row in enumerate(rows)}


@settings(max_examples=1000, deadline=None)
@given(agents, tickets, st.sampled_from(list(RoutingMode)))
def test_turns_choose_what_pick_chooses(rows, needs, mode) -> None:  # type: ignore[no-untyped-def]
    scanned, scanned_load = _statuses(rows)
    heaped, heaped_load = _statuses(rows)
    turns = _Turns(heaped, heaped_load, mode)
    for n, skills in enumerate(needs):
        routed_at = START + dt.timedelta(hours=1, microseconds=n)
        expected = _pick(scanned, scanned_load, mode, skills)
        chosen = turns.pick(skills)
        assert (chosen and chosen.pk) == (expected and expected.pk), (n, skills)
        if expected is None:
            continue
        scanned_load[expected.agent_id] += 1
        expected.last_routed_at = routed_at
        assert chosen is not None
        turns.took(chosen, routed_at)
        assert heaped_load == scanned_load
