import datetime as dt

import pytest

from kefu.search.syntax import (
    DateValue,
    Property,
    SearchSyntaxError,
    Text,
    date_range,
    parse,
    parse_date,
)

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("退款", [Text("退款")]),
        ("printer offline", [Text("printer"), Text("offline")]),
        ('"printer offline"', [Text("printer offline", phrase=True)]),
        ('-"out of office"', [Text("out of office", phrase=True, negated=True)]),
        ("-spam", [Text("spam", negated=True)]),
        ("refund*", [Text("refund")]),
        ("status:open", [Property("status", ":", ("open",))]),
        ("STATUS:Open", [Property("status", ":", ("open",))]),
        ("status<solved", [Property("status", "<", ("solved",))]),
        ("status>=pending", [Property("status", ">=", ("pending",))]),
        ("priority>normal", [Property("priority", ">", ("normal",))]),
        ("priority:none", [Property("priority", ":", ("none",))]),
        ("ticket_type:incident", [Property("ticket_type", ":", ("incident",))]),
        ("tags:vip", [Property("tags", ":", ("vip",))]),
        ("tag:VIP", [Property("tags", ":", ("vip",))]),
        ('tags:"vip 退货"', [Property("tags", ":", ("vip", "退货"))]),
        ("-tags:spam", [Property("tags", ":", ("spam",), negated=True)]),
        ("requester:bob@acme.test", [Property("requester", ":", ("bob@acme.test",))]),
        ("assignee:none", [Property("assignee", ":", ("none",))]),
        ("assignee:me", [Property("assignee", ":", ("me",))]),
        ('organization:"Globex 环球"', [Property("organization", ":", ("Globex 环球",))]),
        ("group:Support", [Property("group", ":", ("Support",))]),
        ('subject:"打印机 offline"', [Property("subject", ":", ("打印机 offline",))]),
        ("external_id:crm-42", [Property("external_id", ":", ("crm-42",))]),
        ("role:end_user", [Property("role", ":", ("end-user",))]),
        (
            "created>2026-11-01",
            [
                Property(
                    "created", ">", ("2026-11-01",), date=DateValue("day", dt.date(2026, 11, 1))
                )
            ],
        ),
        (
            "updated<2days",
            [Property("updated", "<", ("2days",), date=DateValue("ago", ago=dt.timedelta(days=2)))],
        ),
        (
            "solved>=4hours",
            [
                Property(
                    "solved", ">=", ("4hours",), date=DateValue("ago", ago=dt.timedelta(hours=4))
                )
            ],
        ),
        ("https://acme.test/order/1", [Text("https://acme.test/order/1")]),
    ],
)
def test_queries_parse_into_terms(query, terms):
    assert list(parse(query).terms) == terms


@pytest.mark.parametrize(
    ("query", "types"),
    [
        ("type:ticket", {"ticket"}),
        ("type:user type:organization", {"user", "organization"}),
        ("-type:user", {"ticket", "organization", "group"}),
        ("退款", set()),
    ],
)
def test_type_terms_choose_record_types(query, types):
    assert parse(query).types == types


def test_order_by_and_sort_are_read_from_the_query():
    parsed = parse("status:open order_by:created sort:asc")
    assert (parsed.order_by, parsed.sort) == ("created_at", "asc")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status:weird", "is not a valid status"),
        ("priority:<high", "is not a valid priority"),
        ("status:", "needs a value"),
        ('subject:"unclosed', "A quote is not closed"),
        ('"unclosed phrase', "A quote is not closed"),
        ("colour:red", "Unknown keyword “colour”"),
        ("type:ticketz", "“type” takes one of"),
        ("subject>abc", "can only be compared with “:”"),
        ("created:yesterday", "is not a date"),
        ("created>2026-13-01", "is not a date"),
        ("priority>none", "“none” can only be compared"),
        ("order_by:colour", "Results can be sorted by"),
        ("sort:sideways", "“sort” is asc or desc"),
        ("-type:ticket -type:user -type:organization -type:group", "exclude every kind"),
    ],
)
def test_bad_queries_get_a_clear_error(query, message):
    with pytest.raises(SearchSyntaxError, match=message):
        parse(query)


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        (
            ":",
            (dt.datetime(2026, 11, 1, tzinfo=SHANGHAI), dt.datetime(2026, 11, 2, tzinfo=SHANGHAI)),
        ),
        (">", (dt.datetime(2026, 11, 2, tzinfo=SHANGHAI), None)),
        (">=", (dt.datetime(2026, 11, 1, tzinfo=SHANGHAI), None)),
        ("<", (None, dt.datetime(2026, 11, 1, tzinfo=SHANGHAI))),
        ("<=", (None, dt.datetime(2026, 11, 2, tzinfo=SHANGHAI))),
    ],
)
def test_a_day_is_the_searchers_calendar_day(operator, expected):
    assert date_range(parse_date("2026-11-01"), operator, now=NOW, tz=SHANGHAI) == expected


def test_a_time_ago_is_a_moment_before_now():
    two_days_ago = NOW - dt.timedelta(days=2)
    assert date_range(parse_date("2days"), ">", now=NOW, tz=dt.UTC) == (
        two_days_ago + dt.timedelta(seconds=1),
        None,
    )
    assert date_range(parse_date("48hours"), "<", now=NOW, tz=dt.UTC) == (None, two_days_ago)
    assert date_range(parse_date("2days"), ":", now=NOW, tz=dt.UTC) == (two_days_ago, None)


def test_an_exact_moment_keeps_its_offset_and_defaults_to_utc():
    assert parse_date("2026-11-01T08:00:00+08:00").moment == dt.datetime(
        2026, 11, 1, 0, 0, tzinfo=dt.UTC
    )
    assert parse_date("2026-11-01T08:00:00").moment == dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)
