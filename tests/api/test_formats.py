"""The API's time format: ``2026-11-25T14:30:00Z`` (UTC, whole seconds)."""

import datetime as dt
import zoneinfo

from hypothesis import given
from hypothesis import strategies as st

from kefu.api.formats import ZENDESK_TIME, timestamp


def test_utc_and_other_zones_come_out_in_utc_whole_seconds():
    assert timestamp(dt.datetime(2026, 11, 25, 14, 30, 5, 999999, tzinfo=dt.UTC)) == (
        "2026-11-25T14:30:05Z"
    )
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    assert timestamp(dt.datetime(2026, 1, 1, 2, 0, tzinfo=shanghai)) == "2025-12-31T18:00:00Z"
    assert timestamp(dt.datetime(999, 1, 2, 3, 4, 5, tzinfo=dt.UTC)) == "0999-01-02T03:04:05Z"
    assert timestamp(None) is None


@given(
    st.datetimes(
        min_value=dt.datetime(1000, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [
                dt.UTC,
                zoneinfo.ZoneInfo("Asia/Shanghai"),
                dt.timezone(dt.timedelta(hours=-5, minutes=-30)),
            ]
        ),
    )
)
def test_the_same_as_strftime(value: dt.datetime) -> None:
    assert timestamp(value) == value.astimezone(dt.UTC).strftime(ZENDESK_TIME)
