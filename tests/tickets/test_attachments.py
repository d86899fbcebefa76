import pytest
from django.core.exceptions import ValidationError

from kefu.accounts.actions import update_account_settings
from kefu.tickets.actions import (
    NewComment,
    TicketData,
    add_comment,
    clean_file_name,
    create_ticket,
    create_upload,
)


@pytest.fixture
def ticket(personas):  # type: ignore[no-untyped-def]
    return create_ticket(
        actor=personas.bob,
        data=TicketData(subject="发票 Invoice"),
        comment=NewComment(body="See attached"),
    )


def test_file_names_lose_directories_and_control_characters():
    assert clean_file_name("../../etc/passwd") == "passwd"
    assert clean_file_name("C:\\Users\\王\\发票\x00.pdf") == "发票.pdf"
    assert clean_file_name(".htaccess") == "htaccess"


def test_oversized_blocked_and_empty_uploads_are_refused(personas):
    update_account_settings(max_attachment_mb=1)
    with pytest.raises(ValidationError):
        create_upload(uploader=personas.bob, file_name="big.bin", content=b"x" * (1024 * 1024 + 1))
    with pytest.raises(ValidationError):
        create_upload(uploader=personas.bob, file_name="setup.EXE", content=b"MZ")
    with pytest.raises(ValidationError):
        create_upload(uploader=personas.bob, file_name="empty.txt", content=b"")


def test_attachments_download_only_for_people_who_may_see_them(personas, ticket, client):
    public = create_upload(uploader=personas.alice, file_name="手册.pdf", content=b"%PDF-1.4")
    note = create_upload(uploader=personas.alice, file_name="x.html", content=b"<script>1</script>")
    add_comment(ticket, actor=personas.alice, body="Manual", attachments=[public])
    add_comment(ticket, actor=personas.alice, body="note", public=False, attachments=[note])

    client.force_login(personas.bob)
    response = client.get(f"/attachments/{public.pk}/{public.file_name}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/attachments/{note.pk}/x.html").status_code == 404

    client.force_login(personas.carol)
    assert client.get(f"/attachments/{public.pk}/{public.file_name}").status_code == 404

    client.force_login(personas.alice)
    assert client.get(f"/attachments/{note.pk}/x.html").status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(personas, ticket, client):
    upload = create_upload(uploader=personas.alice, file_name="a.txt", content=b"hi")
    add_comment(ticket, actor=personas.alice, body="file", attachments=[upload])
    response = client.get(f"/attachments/{upload.pk}/a.txt")
    assert response.status_code == 302


def test_an_upload_token_is_used_once(personas, ticket):
    from kefu.tickets.actions import find_upload

    upload = create_upload(uploader=personas.bob, file_name="photo.jpg", content=b"\xff\xd8")
    assert find_upload(upload.token, user=personas.bob) == upload
    with pytest.raises(ValidationError):
        find_upload(upload.token, user=personas.carol)
    add_comment(ticket, actor=personas.bob, body="photo", attachments=[upload])
    with pytest.raises(ValidationError):
        find_upload("anything", user=personas.bob)
    upload.refresh_from_db()
    assert upload.token is None and upload.comment is not None
