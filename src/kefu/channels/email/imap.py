"""IMAP fetching (filled in below)."""

from django.tasks import task


@task()
def poll_mailboxes_task() -> int:
    return 0


def fetch_mailbox(mailbox_id: int) -> str:
    return "not yet"
