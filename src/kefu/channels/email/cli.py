"""``kefu smtpd`` and ``kefu email ...``: the email channel's commands (docs/email.md)."""

import argparse
import threading
from typing import Any


def _setup() -> None:
    from kefu.cli import _require_migrated, _setup

    _setup()
    _require_migrated()


def parse_listen(value: str, *, default_port: int = 2525) -> tuple[str, int]:
    """``host:port`` (``[::1]:25`` for IPv6) → (host, port); raises ValueError."""
    value = value.strip()
    if value.startswith("["):
        host, _sep, port = value[1:].partition("]:")
    else:
        host, _sep, port = value.rpartition(":")
        if not _sep:
            host, port = value, str(default_port)
    number = int(port)
    if not host or not 0 <= number <= 65535:
        raise ValueError(f"not host:port: {value!r}")
    return host, number


def _listen(value: str) -> tuple[str, int]:
    try:
        return parse_listen(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected host:port, not {value!r}") from None


def cmd_smtpd(args: argparse.Namespace) -> int:
    _setup()
    from django.conf import settings

    from kefu.cli import _Signals

    from .smtpd import serve_forever

    host, port = args.listen or parse_listen(settings.SMTP_LISTEN or "127.0.0.1:2525")
    stop = threading.Event()
    with _Signals(stop.set):
        serve_forever(host=host, port=port, stop=stop)
    print("Kefu SMTP receiver stopped.", flush=True)
    return 0


def _one_line(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def cmd_failed(args: argparse.Namespace) -> int:
    _setup()
    from .inbound import failed_messages

    messages = failed_messages()
    if not messages:
        print("No quarantined messages.")
        return 0
    for message in messages:
        print(
            f"{message.pk}  {message.received_at:%Y-%m-%d %H:%M}  {message.recipient}  "
            f"from {message.sender or message.envelope_from or '?'}  "
            f"“{_one_line(message.subject, 40)}”\n    {_one_line(message.error, 110)}"
        )
    return 0


def _message(pk: int) -> Any:
    from kefu.cli import CommandError

    from .models import InboundMessage

    message = InboundMessage.objects.defer("raw").filter(pk=pk).first()
    if message is None:
        raise CommandError(f"there is no inbound message {pk}")
    return message


def cmd_retry(args: argparse.Namespace) -> int:
    _setup()
    from .choices import InboundState
    from .inbound import failed_messages, retry_inbound

    ids = [m.pk for m in failed_messages()] if args.all else args.ids
    status = 0
    for pk in ids:
        state = retry_inbound(_message(pk))
        message = _message(pk)
        detail = f"ticket #{message.ticket_id}" if message.ticket_id else message.error
        print(f"{pk}: {state} {_one_line(detail or '', 100)}")
        if state == InboundState.QUARANTINED:
            status = 1
    return status


def cmd_suspended(args: argparse.Namespace) -> int:
    _setup()
    from .inbound import suspended_tickets

    messages = suspended_tickets()
    if not messages:
        print("No suspended messages.")
    for message in messages:
        print(
            f"{message.pk}  {message.received_at:%Y-%m-%d %H:%M}  {message.sender}  "
            f"“{_one_line(message.subject, 50)}”  ({message.suspension_cause})"
        )
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    _setup()
    from .inbound import recover_suspended

    for pk in args.ids:
        state = recover_suspended(_message(pk))
        message = _message(pk)
        print(f"{pk}: {state}" + (f" ticket #{message.ticket_id}" if message.ticket_id else ""))
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    _setup()
    from .inbound import delete_suspended

    for pk in args.ids:
        delete_suspended(_message(pk))
        print(f"{pk}: deleted")
    return 0


def cmd_process(args: argparse.Namespace) -> int:
    _setup()
    from .inbound import process_pending
    from .outbound import retry_due_outbound

    print(f"Processed {process_pending()} waiting messages; sent {retry_due_outbound()} emails.")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    _setup()
    from .imap import fetch_mailbox
    from .models import Mailbox

    mailboxes = Mailbox.objects.filter(active=True)
    if args.mailbox:
        mailboxes = mailboxes.filter(pk__in=args.mailbox)
    status = 0
    for mailbox in mailboxes:
        result = fetch_mailbox(mailbox.pk)
        print(f"{mailbox.pk} {mailbox.name}: {result}")
        if result.startswith("error"):
            status = 1
    return status


def cmd_address_add(args: argparse.Namespace) -> int:
    _setup()
    from kefu.accounts.models import Group
    from kefu.cli import CommandError

    from .addresses import create_support_address

    group = None
    if args.group:
        group = Group.objects.filter(name=args.group).first()
        if group is None:
            raise CommandError(f"there is no group named {args.group!r}")
    address = create_support_address(
        email=args.email, name=args.name or "", group=group, default=args.default
    )
    print(f"Support address {address.email} added" + (" (default)" if address.default else ""))
    return 0


def cmd_addresses(args: argparse.Namespace) -> int:
    _setup()
    from .config import current

    # Listing writes nothing: an unsaved KEFU_SUPPORT_EMAIL (not seeded yet) is listed as such.
    for address in current().addresses.values():
        group = address.group.name if address.group else "-"
        print(
            f"{address.email}  {address.name or '-'}  group: {group}"
            + ("  (default)" if address.default else "")
            + ("  (from KEFU_SUPPORT_EMAIL, not saved yet)" if address.pk is None else "")
        )
    return 0


def cmd_mailbox_add(args: argparse.Namespace) -> int:
    _setup()
    from kefu.cli import CommandError

    from .addresses import find_support_address
    from .settings_actions import create_mailbox

    address = find_support_address(args.address)
    if address is None:
        raise CommandError(f"{args.address} is not a support address (kefu email add-address)")
    fields: dict[str, Any] = {
        "host": args.host,
        "port": args.port or (993 if args.security == "tls" else 143),
        "security": args.security,
        "username": args.user,
        "folder": args.folder,
        "move_to": args.move_to or "",
        "name": args.name or "",
    }
    if args.oauth_token_endpoint:
        fields.update(
            auth="xoauth2",
            oauth_token_endpoint=args.oauth_token_endpoint,
            oauth_client_id=args.oauth_client_id or "",
            oauth_client_secret=args.oauth_client_secret or "",
            oauth_refresh_token=args.oauth_refresh_token or "",
        )
    else:
        fields["password"] = args.password or ""
    mailbox = create_mailbox(support_address=address, **fields)
    print(f"Mailbox {mailbox.pk} ({mailbox.name}) added; `kefu email fetch` fetches it now.")
    return 0


def cmd_mailboxes(args: argparse.Namespace) -> int:
    _setup()
    from .models import Mailbox

    for mailbox in Mailbox.objects.select_related("support_address"):
        state = (
            f"error since {mailbox.last_error_at:%Y-%m-%d %H:%M}: {mailbox.last_error}"
            if (mailbox.last_error)
            else f"ok, last fetched {mailbox.last_success_at or 'never'}"
        )
        print(
            f"{mailbox.pk}  {mailbox.name} → {mailbox.support_address.email}  "
            f"{'active' if mailbox.active else 'paused'}  {_one_line(state, 100)}"
        )
    return 0


def add_commands(commands: Any) -> None:
    """Add ``smtpd`` and ``email`` to the ``kefu`` command's subcommands."""
    smtpd = commands.add_parser(
        "smtpd", help="the inbound SMTP receiver alone (mail to support addresses → tickets)"
    )
    smtpd.add_argument(
        "--listen",
        type=_listen,
        metavar="HOST:PORT",
        help="address to listen on (default: KEFU_SMTP_LISTEN, else 127.0.0.1:2525)",
    )
    smtpd.set_defaults(handler=cmd_smtpd)

    email = commands.add_parser("email", help="the email channel: quarantine, suspended, IMAP")
    sub = email.add_subparsers(dest="email_command", metavar="COMMAND", required=True)
    sub.add_parser("failed", help="list quarantined messages").set_defaults(handler=cmd_failed)
    retry = sub.add_parser("retry", help="process quarantined messages again (after a fix)")
    retry.add_argument("ids", type=int, nargs="*", metavar="ID")
    retry.add_argument("--all", action="store_true", help="every quarantined message")
    retry.set_defaults(handler=cmd_retry)
    sub.add_parser("suspended", help="list suspended messages").set_defaults(handler=cmd_suspended)
    recover = sub.add_parser("recover", help="let suspended messages through as tickets")
    recover.add_argument("ids", type=int, nargs="+", metavar="ID")
    recover.set_defaults(handler=cmd_recover)
    delete = sub.add_parser("delete", help="discard suspended messages")
    delete.add_argument("ids", type=int, nargs="+", metavar="ID")
    delete.set_defaults(handler=cmd_delete)
    sub.add_parser("process", help="process waiting messages and send due emails now").set_defaults(
        handler=cmd_process
    )
    fetch = sub.add_parser("fetch", help="fetch IMAP mailboxes now")
    fetch.add_argument("--mailbox", type=int, action="append", metavar="ID")
    fetch.set_defaults(handler=cmd_fetch)
    sub.add_parser("addresses", help="list support addresses").set_defaults(handler=cmd_addresses)
    add = sub.add_parser("add-address", help="add a support address")
    add.add_argument("email")
    add.add_argument("--name")
    add.add_argument("--group", help="new tickets go to this group (its name)")
    add.add_argument("--default", action="store_true")
    add.set_defaults(handler=cmd_address_add)
    sub.add_parser("mailboxes", help="list IMAP mailboxes and their state").set_defaults(
        handler=cmd_mailboxes
    )
    box = sub.add_parser("add-mailbox", help="fetch an IMAP mailbox for a support address")
    box.add_argument("--address", required=True, help="the support address it receives for")
    box.add_argument("--host", required=True)
    box.add_argument("--port", type=int, help="default: 993 with TLS, else 143")
    box.add_argument("--security", choices=["tls", "starttls", "none"], default="tls")
    box.add_argument("--user", required=True)
    box.add_argument("--password", help="password or app password (授权码)")
    box.add_argument("--folder", default="INBOX")
    box.add_argument("--move-to", help="move fetched mail to this folder (default: mark read)")
    box.add_argument("--name")
    box.add_argument("--oauth-token-endpoint", help="XOAUTH2: the token endpoint URL")
    box.add_argument("--oauth-client-id")
    box.add_argument("--oauth-client-secret")
    box.add_argument("--oauth-refresh-token")
    box.set_defaults(handler=cmd_mailbox_add)
