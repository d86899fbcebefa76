"""Uploads (raw bytes -> token -> attachment) and ticket imports keeping history."""

import pytest
from django.test import Client

from kefu.accounts import actions as accounts
from kefu.tickets.models import Attachment, Ticket

pytestmark = pytest.mark.django_db


def _raw_post(user, path, content: bytes, content_type="application/binary"):  # type: ignore[no-untyped-def]
    _record, token = accounts.create_api_token(user=user)
    return Client().post(
        f"/api/v2/{path}", data=content, content_type=content_type,
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip


def test_upload_then_attach_to_a_new_ticket(personas, api):
    uploaded = _raw_post(personas.alice, "uploads.json?filename=发票.pdf", b"%PDF-1.4 hello")
    assert uploaded.status_code == 201, uploaded.json()
    upload = uploaded.json()["upload"]
    assert upload["attachment"]["file_name"] == "发票.pdf"
    assert upload["attachment"]["content_type"] == "application/pdf"
    assert upload["attachments"][0]["size"] == 14
    created = api(personas.alice).post(
        "tickets",
        {"ticket": {"subject": "Invoice", "requester_id": personas.bob.pk,
                    "comment": {"body": "see attached", "uploads": [upload["token"]]}}},
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    comment = next(e for e in created.json()["audit"]["events"] if e["type"] == "Comment")
    assert [a["file_name"] for a in comment["attachments"]] == ["发票.pdf"]
    assert comment["attachments"][0]["content_url"].startswith("http://testserver/attachments/")


def test_blocked_extension_and_empty_upload_are_refused(personas):
    exe = _raw_post(personas.alice, "uploads?filename=virus.exe", b"MZ")
    assert exe.status_code == 422
    assert "uploads" in exe.json()["details"]
    empty = _raw_post(personas.alice, "uploads?filename=a.txt", b"")
    assert empty.status_code == 422
    assert Attachment.objects.count() == 0


def test_oversized_upload_is_refused(personas):
    accounts.update_account_settings(max_attachment_mb=1)
    big = _raw_post(personas.alice, "uploads?filename=big.bin", b"x" * (1024 * 1024 + 10))
    assert big.status_code == 422
    assert Attachment.objects.count() == 0


def test_unknown_upload_token_names_the_field(personas, api):
    response = api(personas.alice).post(
        "tickets",
        {"ticket": {"subject": "x", "requester_id": personas.bob.pk,
                    "comment": {"body": "y", "uploads": ["nope"]}}},
    )  # fmt: skip
    assert response.status_code == 422
    assert "uploads" in response.json()["details"]


def test_import_keeps_historical_dates_and_comment_authors(personas, api):
    response = api(personas.admin).post(
        "imports/tickets.json",
        {
            "ticket": {
                "subject": "Old ticket",
                "requester_id": personas.bob.pk,
                "assignee_id": personas.alice.pk,
                "status": "solved",
                "created_at": "2020-01-02T03:04:05Z",
                "updated_at": "2020-01-05T00:00:00Z",
                "solved_at": "2020-01-04T00:00:00Z",
                "tags": ["legacy"],
                "comments": [
                    {"author_id": personas.bob.pk, "value": "It broke",
                     "created_at": "2020-01-02T03:04:05Z"},
                    {"author_id": personas.alice.pk, "value": "Fixed", "public": True,
                     "created_at": "2020-01-03T00:00:00Z"},
                ],
            }
        },
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    ticket = response.json()["ticket"]
    assert ticket["created_at"] == "2020-01-02T03:04:05Z"
    assert ticket["updated_at"] == "2020-01-05T00:00:00Z"
    assert ticket["status"] == "solved"
    assert Ticket.objects.get(pk=ticket["id"]).solved_at.isoformat().startswith("2020-01-04")
    comments = api(personas.admin).get(f"tickets/{ticket['id']}/comments").json()["comments"]
    assert [(c["author_id"], c["created_at"]) for c in comments] == [
        (personas.bob.pk, "2020-01-02T03:04:05Z"),
        (personas.alice.pk, "2020-01-03T00:00:00Z"),
    ]


def test_only_admins_import(personas, api):
    response = api(personas.alice).post(
        "imports/tickets",
        {"ticket": {"subject": "x", "requester_id": personas.bob.pk, "description": "y"}},
    )
    assert response.status_code == 403


def test_import_many_runs_as_a_job(personas, api, django_capture_on_commit_callbacks):
    client = api(personas.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "imports/tickets/create_many",
            {"tickets": [
                {"subject": "A", "requester_id": personas.bob.pk, "description": "a",
                 "created_at": "2019-05-01T00:00:00Z"},
                {"subject": "B", "requester_id": 12345, "description": "b"},
            ]},
        )  # fmt: skip
    job_id = response.json()["job_status"]["id"]
    job = client.get(f"job_statuses/{job_id}").json()["job_status"]
    assert job["results"][0]["success"] is True
    assert job["results"][1]["error"] == "RecordInvalid"
    imported = Ticket.objects.get(pk=job["results"][0]["id"])
    assert imported.created_at.year == 2019
