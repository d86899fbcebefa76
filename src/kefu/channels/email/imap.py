"""Fetching mail from IMAP mailboxes.

The scheduler job ``email.poll_mailboxes`` claims every due mailbox (a conditional UPDATE on
``next_poll_at``, so two schedulers never fetch one mailbox twice at once) and fetches them
*concurrently*, one thread each (up to ``MAX_THREADS``): 80 mailboxes are not fetched one after
another, and one slow server does not hold up the others.

Per mailbox: sign in (password / app password, or XOAUTH2 with a refreshed access token),
select the folder, check ``UIDVALIDITY`` (a new value means the server renumbered the folder:
start from UID 1 again — duplicates are caught by the unique Message-ID), fetch every message
with a UID above ``last_uid`` oldest first, and for each: **store it (commit), then** mark it
``\\Seen`` or move it, then advance ``last_uid``. A crash anywhere repeats at most the last
message, which the store recognises. A failure (sign-in refused, server down) is written on
the mailbox (``last_error``, ``last_error_at``) — visible in the admin, never a silent stall.
"""

import concurrent.futures
import contextlib
import datetime as dt
import imaplib
import json
import logging
import re
import ssl
import urllib.parse
import urllib.request

from django.conf import settings
from django.db import close_old_connections, connections
from django.tasks import task

from kefu.core import clock

from .choices import MailboxAuth, MailboxSecurity
from .inbound import store_inbound
from .models import Mailbox

log = logging.getLogger(__name__)

MAX_THREADS = 8
TIMEOUT = 60  # seconds for any one network operation
# A claimed mailbox is not claimed again for this long, unless its fetch ends sooner (then it is
# due ``poll_seconds`` after the end): a long first fetch never runs twice side by side.
LEASE = dt.timedelta(minutes=15)
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class MailboxError(Exception):
    """A problem to show on the mailbox, in one sentence."""


# --- Signing in -------------------------------------------------------------------------------


def refresh_access_token(mailbox: Mailbox, *, save: bool = True) -> str:
    """A valid OAuth access token, refreshed with the refresh token when (nearly) expired.
    ``save=False`` (testing the connection) keeps a refreshed token in memory only."""
    now = clock.now()
    if (
        mailbox.oauth_access_token
        and mailbox.oauth_expires_at
        and mailbox.oauth_expires_at > now + dt.timedelta(seconds=60)
    ):
        return mailbox.oauth_access_token
    if not (mailbox.oauth_token_endpoint and mailbox.oauth_refresh_token):
        raise MailboxError("OAuth needs a token endpoint and a refresh token.")
    form = {
        "grant_type": "refresh_token",
        "refresh_token": mailbox.oauth_refresh_token,
        "client_id": mailbox.oauth_client_id,
    }
    if mailbox.oauth_client_secret:
        form["client_secret"] = mailbox.oauth_client_secret
    request = urllib.request.Request(  # noqa: S310 - an https URL the admin configured
        mailbox.oauth_token_endpoint,
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            payload = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:300]
        raise MailboxError(
            f"The token endpoint refused the refresh token: {exc.code} {detail}"
        ) from None
    except (OSError, ValueError) as exc:
        raise MailboxError(f"Cannot reach the token endpoint: {exc}") from None
    token = payload.get("access_token")
    if not token:
        raise MailboxError(f"The token endpoint sent no access token: {str(payload)[:300]}")
    mailbox.oauth_access_token = token
    mailbox.oauth_expires_at = now + dt.timedelta(seconds=int(payload.get("expires_in", 3600)))
    fields = ["oauth_access_token", "oauth_expires_at", "updated_at"]
    if payload.get("refresh_token"):  # Microsoft rotates refresh tokens
        mailbox.oauth_refresh_token = payload["refresh_token"]
        fields.append("oauth_refresh_token")
    if save:
        mailbox.save(update_fields=fields)
    return str(token)


def connect(mailbox: Mailbox, *, save_token: bool = True) -> imaplib.IMAP4:
    """An IMAP connection to ``mailbox``'s server, signed in (``save_token``: keep a refreshed
    OAuth access token on the mailbox for the next fetch)."""
    if mailbox.auth == MailboxAuth.PASSWORD and not mailbox.password:
        raise MailboxError(
            "No password is saved for this mailbox (or it cannot be decrypted since "
            "KEFU_SECRET_KEY changed): enter it again."
        )
    try:
        if mailbox.security == MailboxSecurity.TLS:
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                mailbox.host,
                mailbox.port,
                ssl_context=ssl.create_default_context(),
                timeout=TIMEOUT,
            )
        else:
            conn = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT)
            if mailbox.security == MailboxSecurity.STARTTLS:
                conn.starttls(ssl_context=ssl.create_default_context())
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"Cannot connect to {mailbox.host}:{mailbox.port}: {exc}") from None
    try:
        if mailbox.auth == MailboxAuth.XOAUTH2:
            token = refresh_access_token(mailbox, save=save_token)
            auth = f"user={mailbox.username}\x01auth=Bearer {token}\x01\x01".encode()
            conn.authenticate("XOAUTH2", lambda _challenge: auth)
        else:
            conn.login(mailbox.username, mailbox.password)
    except imaplib.IMAP4.error as exc:
        _close(conn)
        message = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise MailboxError(f"Sign-in failed for {mailbox.username}: {message}") from None
    except MailboxError:
        _close(conn)
        raise
    return conn


def check_connection(mailbox: Mailbox) -> None:
    """Sign in and select the folder (read-only), then sign out; raise MailboxError if not.

    Writes nothing: an OAuth access token refreshed for the test is used once and dropped
    (the next fetch refreshes again). A refresh token the provider rotates in that answer is
    dropped too; the saved one stays valid (Microsoft and Google do not revoke a refresh token
    when it is redeemed; it expires on its own schedule)."""
    conn = connect(mailbox, save_token=False)
    try:
        status, data = conn.select(_quote(mailbox.folder), readonly=True)
        if status != "OK":
            raise MailboxError(f"Cannot open the folder {mailbox.folder}: {_bytes(data[0])!r}")
    except imaplib.IMAP4.error as exc:
        raise MailboxError(f"Cannot open the folder {mailbox.folder}: {exc}") from None
    finally:
        _close(conn)


def _close(conn: imaplib.IMAP4) -> None:
    with contextlib.suppress(Exception):  # closing after a failure: nothing more to say
        conn.logout()


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- Fetching ---------------------------------------------------------------------------------


def _check(result: tuple[str, list], what: str) -> list:
    typ, data = result
    if typ != "OK":
        raise MailboxError(f"{what} failed: {data}")
    return data


def _new_uids(conn: imaplib.IMAP4, after: int) -> list[int]:
    data = _check(conn.uid("SEARCH", "UID", f"{after + 1}:*"), "SEARCH")
    # "N:*" always matches the last message, even when its UID is below N.
    return sorted(uid for uid in (int(x) for x in (data[0] or b"").split()) if uid > after)


def _fetch(conn: imaplib.IMAP4, uid: int) -> bytes | None:
    data = _check(conn.uid("FETCH", str(uid), "(BODY.PEEK[])"), f"FETCH {uid}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return bytes(item[1])
    return None  # deleted meanwhile


def _sizes(conn: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
    sizes: dict[int, int] = {}
    for start in range(0, len(uids), 500):
        chunk = ",".join(str(u) for u in uids[start : start + 500])
        for item in _check(conn.uid("FETCH", chunk, "(RFC822.SIZE)"), "FETCH sizes"):
            line = item[0] if isinstance(item, tuple) else item
            if isinstance(line, bytes) and (u := _UID.search(line)) and (s := _SIZE.search(line)):
                sizes[int(u.group(1))] = int(s.group(1))
    return sizes


def fetch_mailbox(mailbox_id: int) -> str:
    """Fetch one mailbox now; returns "ok: N new" or "error: ..." (also kept on the mailbox)."""
    mailbox = Mailbox.objects.select_related("support_address").get(pk=mailbox_id)
    now = clock.now()
    stored = 0
    notes: list[str] = []
    try:
        conn = connect(mailbox)
        try:
            _check(conn.select(_quote(mailbox.folder)), f"Opening the folder {mailbox.folder}")
            validity = int((conn.response("UIDVALIDITY")[1] or [b"0"])[0] or 0)
            if validity != mailbox.uidvalidity:
                # A new folder (or one the server renumbered): start again from the beginning.
                mailbox.uidvalidity, mailbox.last_uid = validity, 0
                Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=validity, last_uid=0)
            can_move = b"MOVE" in {c.upper() for c in map(_bytes, conn.capabilities)}
            uids = _new_uids(conn, mailbox.last_uid)
            sizes = _sizes(conn, uids) if uids else {}
            limit = 2 * settings.MAX_EMAIL_MB * 1024 * 1024
            moved = False
            for uid in uids:
                if sizes.get(uid, 0) > limit:
                    notes.append(f"UID {uid} is {sizes[uid] // 1048576} MB: left in the mailbox")
                else:
                    raw = _fetch(conn, uid)
                    if raw is not None:
                        store_inbound(
                            raw=raw,
                            recipients=[mailbox.support_address.email],
                            source="imap",
                            mailbox=mailbox,
                        )
                        stored += 1
                        if mailbox.move_to:
                            if can_move:
                                _check(conn.uid("MOVE", str(uid), _quote(mailbox.move_to)), "MOVE")
                            else:
                                _check(conn.uid("COPY", str(uid), _quote(mailbox.move_to)), "COPY")
                                conn.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)")
                                moved = True
                        else:
                            conn.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Seen)")
                Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=uid)
            if moved:
                conn.expunge()
        finally:
            _close(conn)
    except Exception as exc:
        error = str(exc) if isinstance(exc, MailboxError) else f"{type(exc).__name__}: {exc}"
        log.warning("mailbox %s (%s): %s", mailbox.pk, mailbox.name, error)
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_polled_at=now,
            last_error=error[:2000],
            last_error_at=clock.now(),
            next_poll_at=clock.now() + dt.timedelta(seconds=max(mailbox.poll_seconds, 10)),
        )
        return f"error: {error}"
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_polled_at=now,
        next_poll_at=clock.now() + dt.timedelta(seconds=max(mailbox.poll_seconds, 10)),
        last_success_at=clock.now(),
        last_error="; ".join(notes)[:2000],
        last_error_at=clock.now() if notes else None,
    )
    return f"ok: {stored} new"


def _bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _fetch_in_thread(mailbox_id: int) -> str:
    close_old_connections()
    try:
        return fetch_mailbox(mailbox_id)
    except Exception as exc:  # never let one mailbox end the others
        log.exception("fetching mailbox %s failed", mailbox_id)
        return f"error: {exc}"
    finally:
        # The pool's threads end with the poll: close their connections now (CONN_MAX_AGE
        # would keep them, each a PostgreSQL session, until the thread's storage is freed).
        connections.close_all()


def claim_due_mailboxes(*, now: dt.datetime | None = None) -> list[int]:
    now = now or clock.now()
    claimed = []
    due_mailboxes = Mailbox.objects.filter(active=True, next_poll_at__lte=now)
    for pk, due in due_mailboxes.values_list("pk", "next_poll_at"):
        won = Mailbox.objects.filter(pk=pk, next_poll_at=due).update(next_poll_at=now + LEASE)
        if won:
            claimed.append(pk)
    return claimed


def poll_mailboxes(*, now: dt.datetime | None = None) -> dict[int, str]:
    """Fetch every due mailbox, concurrently; {mailbox id: result}."""
    claimed = claim_due_mailboxes(now=now)
    if not claimed:
        return {}
    with concurrent.futures.ThreadPoolExecutor(
        max_workers=min(MAX_THREADS, len(claimed)), thread_name_prefix="kefu-imap"
    ) as pool:
        return dict(zip(claimed, pool.map(_fetch_in_thread, claimed), strict=True))


@task()
def poll_mailboxes_task() -> int:
    return len(poll_mailboxes())
