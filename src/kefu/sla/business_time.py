"""Business-time arithmetic: pure functions over a :class:`Schedule`, no database.

A schedule is a time zone, weekly working intervals (minutes from Sunday 00:00, as Zendesk's
``start_time``/``end_time``), holidays (whole local dates without work) and extra working days
(a local date that is worked with its own hours, as China's 调休 Saturdays). Calendar-hours
mode (``Schedule.calendar()``) counts every minute and goes through the same functions.

How a schedule becomes instants:

* Every local date gets its working windows in local wall-clock minutes ``[start, end)`` of
  that date: the weekly intervals cut at midnight (an interval Mon 22:00 → Tue 02:00 gives
  Mon 22:00–24:00 and Tue 00:00–02:00), none on a holiday, an extra working day's own hours
  instead of the weekly ones. A holiday therefore removes exactly the work that falls on its
  date, also the after-midnight part of an interval that started the evening before.
* Wall-clock minutes become UTC instants with the zone's rules. An ambiguous time (the hour
  repeated when DST ends) is its first occurrence, so a window that spans the change is an
  hour longer in real time; a time that does not exist (the hour skipped when DST starts)
  is the moment of the change, so such a window is an hour shorter. Business minutes are
  always real elapsed minutes inside windows.

Conventions (the property tests in tests/sla/test_business_time.py hold them):

* Windows are half-open: ``is_business_time`` is true at a window's start, false at its end.
* ``add_business_minutes(s, t, 0)`` is ``t`` itself, even outside business hours. For
  ``n > 0`` the result is the instant the n-th minute ends: inside a window or exactly at a
  window's end (never at a window's start), so ``business_minutes_between(s, t, result) == n``.
* ``business_minutes_between(s, a, b)`` is 0 when ``b <= a``; it grows with ``b``.
* Minutes may be fractional (a pause in the middle of a minute keeps the seconds).
"""

import datetime as dt
import functools
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

WEEK_MINUTES = 7 * 24 * 60
DAY_MINUTES = 24 * 60
UTC = dt.UTC
# How far ahead to look for working time before deciding that a schedule has none.
HORIZON_DAYS = 3 * 366

type Window = tuple[int, int]  # local minutes of one date, [start, end)


class NoBusinessTime(ValueError):
    """The schedule has no working time within the horizon (no intervals, or all holidays)."""


@dataclass(frozen=True)
class Schedule:
    """An immutable, hashable schedule (cheap to cache per date)."""

    time_zone: str
    # Weekly intervals in minutes from Sunday 00:00, start < end <= WEEK_MINUTES + DAY_MINUTES
    # (an interval may run past Saturday midnight into Sunday).
    intervals: tuple[tuple[int, int], ...] = ()
    holidays: frozenset[dt.date] = frozenset()
    # Extra working days: local date -> that day's windows in local minutes.
    extra_workdays: tuple[tuple[dt.date, tuple[Window, ...]], ...] = ()
    is_calendar: bool = False
    _extra: Mapping[dt.date, tuple[Window, ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    _blocks: dict[int, tuple[list[int], list[int], list[int]]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_extra", dict(self.extra_workdays))
        object.__setattr__(self, "_blocks", {})

    def __hash__(self) -> int:
        # Schedules key the per-date and per-block caches below, looked up several times per
        # metric: hash the fields (a frozenset of holidays, tuples) once, not on every lookup.
        try:
            return self.__dict__["_hash"]
        except KeyError:
            value = hash((self.time_zone, self.intervals, self.holidays, self.extra_workdays,
                          self.is_calendar))  # fmt: skip
            object.__setattr__(self, "_hash", value)
            return value

    @classmethod
    def calendar(cls) -> "Schedule":
        """Calendar hours: every minute counts."""
        return cls(time_zone="UTC", is_calendar=True)

    @classmethod
    def build(
        cls,
        *,
        time_zone: str,
        intervals: Iterable[tuple[int, int]],
        holidays: Iterable[tuple[dt.date, dt.date]] = (),
        extra_workdays: Mapping[dt.date, Iterable[Window]] | None = None,
    ) -> "Schedule":
        """From weekly intervals, holiday ranges (inclusive) and extra working days."""
        ZoneInfo(time_zone)  # fail early on a bad zone
        days: set[dt.date] = set()
        for start, end in holidays:
            day = start
            while day <= end:
                days.add(day)
                day += dt.timedelta(days=1)
        extra = tuple(
            sorted((day, tuple(sorted(windows))) for day, windows in (extra_workdays or {}).items())
        )
        return cls(
            time_zone=time_zone,
            intervals=tuple(sorted(intervals)),
            holidays=frozenset(days),
            extra_workdays=extra,
        )

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.time_zone)


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@functools.lru_cache(maxsize=4096)
def _weekday_windows(intervals: tuple[tuple[int, int], ...], weekday: int) -> tuple[Window, ...]:
    """Windows of a weekday (0 = Sunday) from the weekly intervals, merged."""
    day_start = weekday * DAY_MINUTES
    day_end = day_start + DAY_MINUTES
    pieces: list[Window] = []
    for start, end in intervals:
        # An interval may run past the end of the week: look at it in this week and shifted
        # back by one week (Saturday 22:00 -> Sunday 02:00 covers Sunday 00:00-02:00).
        for offset in (0, -WEEK_MINUTES):
            lo, hi = max(start + offset, day_start), min(end + offset, day_end)
            if lo < hi:
                pieces.append((lo - day_start, hi - day_start))
    return _merge(pieces)


def _merge(pieces: Iterable[Window]) -> tuple[Window, ...]:
    merged: list[list[int]] = []
    for start, end in sorted(pieces):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


def local_windows(schedule: Schedule, day: dt.date) -> tuple[Window, ...]:
    """The working windows of a local date, in local minutes of that date."""
    if day in schedule._extra:
        return schedule._extra[day]
    if day in schedule.holidays:
        return ()
    weekday = (day.weekday() + 1) % 7  # Python: Monday = 0; Zendesk: Sunday = 0
    return _weekday_windows(schedule.intervals, weekday)


def _to_utc(zone: ZoneInfo, day: dt.date, minute: int) -> dt.datetime:
    """The instant of local ``day`` + ``minute`` (see the module docstring for DST)."""
    naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
    first = naive.replace(tzinfo=zone).astimezone(UTC)  # fold=0: first occurrence
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first
    # ``naive`` falls in a gap: find the moment of the change (offsets change on whole
    # minutes; bisect between the two readings of the wall-clock time).
    later = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo, hi = min(first, later), max(first, later)
    while hi - lo > dt.timedelta(minutes=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(second=0, microsecond=0)
        if mid.astimezone(zone).replace(tzinfo=None) < naive:
            lo = mid
        else:
            hi = mid
    return hi if lo.astimezone(zone).replace(tzinfo=None) < naive else lo


@functools.lru_cache(maxsize=65536)
def _utc_windows(schedule: Schedule, day: dt.date) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
    zone = schedule.zone
    result = []
    for start, end in local_windows(schedule, day):
        a, b = _to_utc(zone, day, start), _to_utc(zone, day, end)
        if a < b:
            result.append((a, b))
    return tuple(result)


def _check_aware(moment: dt.datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("business time needs aware datetimes")


def windows_from(
    schedule: Schedule, moment: dt.datetime
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Working windows (UTC) that end after ``moment``, in order; the first may start before.

    Stops after HORIZON_DAYS days without any window (a schedule without working time).
    """
    _check_aware(moment)
    moment = moment.astimezone(UTC)
    if schedule.is_calendar:
        yield (moment, dt.datetime.max.replace(tzinfo=UTC))
        return
    # Start a day early: the previous local date's window may still be running.
    day = moment.astimezone(schedule.zone).date() - dt.timedelta(days=1)
    empty_days = 0
    while empty_days < HORIZON_DAYS:
        windows = _utc_windows(schedule, day)
        empty_days = 0 if windows else empty_days + 1
        for start, end in windows:
            if end > moment:
                yield (start, end)
        day += dt.timedelta(days=1)


def is_business_time(schedule: Schedule, moment: dt.datetime) -> bool:
    """Whether ``moment`` lies inside a working window (start included, end excluded)."""
    for start, _end in windows_from(schedule, moment):
        return start <= moment
    return False


def next_business_start(schedule: Schedule, moment: dt.datetime) -> dt.datetime:
    """``moment`` itself during business time, else the start of the next window."""
    for start, _end in windows_from(schedule, moment):
        return max(start, moment.astimezone(UTC))
    raise NoBusinessTime(schedule.time_zone)


# --- The same arithmetic by lookup -------------------------------------------------------------
#
# ``windows_from`` steps day by day through a generator on every call. The functions below
# give the same results (whole microseconds, so exactly the same) from blocks of BLOCK_DAYS
# local dates whose windows are flattened into sorted arrays with a running total of working
# time, cached per schedule: one bisect instead of a walk. A block without any window (a
# schedule with no working time for weeks) falls back to the walk, which owns the horizon rule.

BLOCK_DAYS = 64
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_US = dt.timedelta(microseconds=1)
_ZERO = dt.timedelta(0)


def _us(moment: dt.datetime) -> int:
    return (moment - _EPOCH) // _US


_EPOCH_ORDINAL = _EPOCH.date().toordinal()
_DAY_US = 24 * 3600 * 1_000_000


def _first_block(t: int) -> int:
    """A block that starts no later than the local date before instant ``t``'s (the walk
    starts there too). From the UTC date, which is within a day of any local date: a block
    too early only costs a step, as its windows all end before ``t``."""
    return (t // _DAY_US + _EPOCH_ORDINAL - 2) // BLOCK_DAYS


def _last_block(t: int) -> int:
    """A block that ends no earlier than instant ``t``'s local date."""
    return (t // _DAY_US + _EPOCH_ORDINAL + 1) // BLOCK_DAYS


# Blocks cached per schedule (in the schedule itself: no hashing of the schedule per lookup,
# and they go with it); at most this many blocks per schedule (~90 years of dates).
_BLOCKS_PER_SCHEDULE = 512


def _block(schedule: Schedule, block: int) -> tuple[list[int], list[int], list[int]]:
    """Window starts, ends and running totals (working µs up to each window's end, from the
    block's first window) of the local dates of ``block``, in microseconds since the epoch."""
    blocks = schedule._blocks
    found = blocks.get(block)
    if found is None:
        if len(blocks) >= _BLOCKS_PER_SCHEDULE:
            blocks.clear()
        found = blocks[block] = _build_block(schedule, block)
    return found


def _build_block(schedule: Schedule, block: int) -> tuple[list[int], list[int], list[int]]:
    starts: list[int] = []
    ends: list[int] = []
    totals: list[int] = []
    total = 0
    first = block * BLOCK_DAYS
    for ordinal in range(max(first, 1), first + BLOCK_DAYS):
        for start, end in _utc_windows(schedule, dt.date.fromordinal(ordinal)):
            a, b = _us(start), _us(end)
            total += b - a
            starts.append(a)
            ends.append(b)
            totals.append(total)
    return starts, ends, totals


def _done_in_block(starts: list[int], ends: list[int], totals: list[int], t: int) -> int:
    """Working µs of a block's windows before instant ``t``."""
    index = bisect_right(ends, t)  # the first window that ends after t
    if index == len(ends):
        return totals[-1]
    before = totals[index - 1] if index else 0
    return before + max(0, t - starts[index])


def _between_by_lookup(schedule: Schedule, a: dt.datetime, b: dt.datetime) -> dt.timedelta | None:
    ta, tb = (a - _EPOCH) // _US, (b - _EPOCH) // _US
    first, last = _first_block(ta), _last_block(tb)
    if first == last:  # the usual case: one block, one lookup
        starts, ends, totals = _block(schedule, first)
        if not starts:
            return None
        return _US * (
            _done_in_block(starts, ends, totals, tb) - _done_in_block(starts, ends, totals, ta)
        )
    total = 0
    for block in range(first, last + 1):
        starts, ends, totals = _block(schedule, block)
        if not starts:
            return None
        total += _done_in_block(starts, ends, totals, tb) - _done_in_block(starts, ends, totals, ta)
    return _US * total


def _add_by_lookup(
    schedule: Schedule, start: dt.datetime, amount: dt.timedelta
) -> dt.datetime | None:
    t = (start - _EPOCH) // _US
    left = amount // _US
    block = _first_block(t)
    for _ in range(HORIZON_DAYS // BLOCK_DAYS + 2):
        starts, ends, totals = _block(schedule, block)
        if not starts:
            return None
        target = _done_in_block(starts, ends, totals, t) + left
        if target <= totals[-1]:
            index = bisect_left(totals, target)
            return _EPOCH + _US * (ends[index] - (totals[index] - target))
        left = target - totals[-1]
        t = max(t, ends[-1])
        block += 1
    return None


def business_time_between(schedule: Schedule, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
    """Working time between ``a`` and ``b`` (zero when ``b <= a``)."""
    if b.tzinfo is None or b.utcoffset() is None:
        raise ValueError("business time needs aware datetimes")
    if b <= a:
        return _ZERO
    if schedule.is_calendar:
        return b - a
    _check_aware(a)
    found = _between_by_lookup(schedule, a, b)
    return found if found is not None else _between_by_walk(schedule, a, b)


def _between_by_walk(schedule: Schedule, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
    total = dt.timedelta(0)
    for start, end in windows_from(schedule, a):
        if start >= b:
            break
        total += min(end, b) - max(start, a)
    return total


def business_minutes_between(schedule: Schedule, a: dt.datetime, b: dt.datetime) -> float:
    """Working minutes between ``a`` and ``b`` (fractional; 0 when ``b <= a``)."""
    return business_time_between(schedule, a, b).total_seconds() / 60


def add_business_time(schedule: Schedule, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    """The instant when ``amount`` of working time has passed since ``start``."""
    if start.tzinfo is not UTC:
        _check_aware(start)
        start = start.astimezone(UTC)
    if amount <= _ZERO:
        if amount < _ZERO:
            raise ValueError("cannot add negative business time")
        return start
    if schedule.is_calendar:
        return start + amount
    found = _add_by_lookup(schedule, start, amount)
    return found if found is not None else _add_by_walk(schedule, start, amount)


def _add_by_walk(schedule: Schedule, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    left = amount
    for window_start, window_end in windows_from(schedule, start):
        begin = max(window_start, start)
        available = window_end - begin
        if left <= available:
            return begin + left
        left -= available
    raise NoBusinessTime(schedule.time_zone)


def add_business_minutes(schedule: Schedule, start: dt.datetime, minutes: float) -> dt.datetime:
    """The instant when ``minutes`` working minutes have passed since ``start``."""
    return add_business_time(schedule, start, dt.timedelta(minutes=minutes))
