"""The SLA endpoints, in Zendesk's shapes."""

import pytest

from kefu.core import clock
from tests.api.conftest import ApiClient

from .helpers import SHANGHAI, agent_reply, local, office, open_ticket, policy, targets, weekdays

pytestmark = pytest.mark.django_db


def test_an_admin_creates_a_schedule_with_a_zendesk_time_zone_and_a_holiday(personas):
    admin = ApiClient(personas.admin)
    created = admin.post(
        "business_hours/schedules.json",
        {"schedule": {"name": "北京", "time_zone": "Beijing", "intervals": weekdays(9, 18)}},
    )
    assert created.status_code == 201, created.content
    schedule = created.json()["schedule"]
    assert (schedule["time_zone"], schedule["default"], len(schedule["intervals"])) == (
        "Beijing",
        True,
        5,
    )
    holiday = admin.post(
        f"business_hours/schedules/{schedule['id']}/holidays",
        {"holiday": {"name": "国庆节", "start_date": "2026-10-01", "end_date": "2026-10-07"}},
    )
    assert holiday.status_code == 201
    listed = ApiClient(personas.alice).get(f"business_hours/schedules/{schedule['id']}/holidays")
    assert [h["name"] for h in listed.json()["holidays"]] == ["国庆节"]


def test_a_bad_time_zone_answers_422_naming_the_field_and_agents_cannot_write(personas):
    bad = ApiClient(personas.admin).post(
        "business_hours/schedules", {"schedule": {"name": "x", "time_zone": "Nowhere"}}
    )
    assert bad.status_code == 422
    assert list(bad.json()["details"]) == ["time_zone"]
    forbidden = ApiClient(personas.alice).post(
        "business_hours/schedules", {"schedule": {"name": "x", "time_zone": "UTC"}}
    )
    assert forbidden.status_code == 403


def test_policies_are_created_listed_and_reordered(personas):
    admin = ApiClient(personas.admin)
    first = admin.post(
        "slas/policies",
        {
            "sla_policy": {
                "title": "Urgent",
                "filter": {"all": [{"field": "priority", "operator": "is", "value": "urgent"}]},
                "policy_metrics": targets("urgent", first_reply_time=30),
            }
        },
    ).json()["sla_policy"]
    second = admin.post("slas/policies", {"sla_policy": {"title": "Rest"}}).json()["sla_policy"]
    reordered = admin.put("slas/policies/reorder", {"sla_policy_ids": [second["id"], first["id"]]})
    assert [p["title"] for p in reordered.json()["sla_policies"]] == ["Rest", "Urgent"]
    listed = ApiClient(personas.alice).get("slas/policies.json").json()
    assert listed["count"] == 2
    assert listed["sla_policies"][1]["policy_metrics"] == [
        {"priority": "urgent", "metric": "first_reply_time", "target": 30, "business_hours": True}
    ]


def test_ticket_metrics_and_metric_events_are_served(personas):
    office()
    policy(first_reply_time=60)
    ticket = open_ticket(personas, local(SHANGHAI, 2026, 11, 23, 9, 0))
    agent_reply(personas, ticket, local(SHANGHAI, 2026, 11, 23, 9, 45))
    with clock.frozen_at(local(SHANGHAI, 2026, 11, 23, 12, 0)):
        metrics = ApiClient(personas.alice).get(f"tickets/{ticket.pk}/metrics").json()
        events = ApiClient(personas.admin).get(
            "incremental/ticket_metric_events",
            data={"start_time": int(local(SHANGHAI, 2026, 11, 23, 0, 0).timestamp())},
        )
    metric = metrics["ticket_metric"]
    assert metric["reply_time_in_minutes"] == {"calendar": 45, "business": 45}
    assert metric["replies"] == 1
    body = events.json()
    reply_events = [
        (e["type"], e["time"]) for e in body["ticket_metric_events"] if e["metric"] == "reply_time"
    ]
    assert ("activate", "2026-11-23T01:00:00Z") in reply_events
    assert ("fulfill", "2026-11-23T01:45:00Z") in reply_events
    assert any(e["type"] == "apply_sla" for e in body["ticket_metric_events"])
    assert body["end_of_stream"] is True
    # carol (an end user elsewhere) cannot read them
    assert ApiClient(personas.carol).get(f"tickets/{ticket.pk}/metrics").status_code in (403, 404)


def test_ticket_show_includes_slas_only_when_asked(personas):
    office()
    policy(first_reply_time=60)
    ticket = open_ticket(personas, local(SHANGHAI, 2026, 11, 23, 9, 0))
    alice = ApiClient(personas.alice)
    plain = alice.get(f"tickets/{ticket.pk}.json").json()["ticket"]
    assert "slas" not in plain and plain["id"] == ticket.pk
    with clock.frozen_at(local(SHANGHAI, 2026, 11, 23, 9, 10)):
        shown = alice.get(f"tickets/{ticket.pk}.json", data={"include": "slas"}).json()["ticket"]
    assert shown["slas"]["policy_metrics"] == [
        {
            "breach_at": "2026-11-23T02:00:00Z",
            "stage": "active",
            "metric": "first_reply_time",
            "hours": "business",
            "minutes": 60.0,
            "days": None,
        }
    ]
    assert shown["slas"]["policy"]["title"] == "Standard 标准"
    assert shown["subject"] == plain["subject"]
