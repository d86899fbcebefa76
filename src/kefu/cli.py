"""The ``kefu`` command: serve Kefu, run its background work, and the admin's chores.

``kefu run`` is the one-process way to run Kefu (web + task worker + scheduler); at scale the
same pieces run as ``kefu web`` and ``kefu worker`` processes (docs/operations.md). Every
command that changes data calls the same actions the web UI and the API call.
"""

import argparse
import logging
import os
import secrets
import signal
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError

log = logging.getLogger("kefu.cli")

ASGI_APP = "kefu.asgi:application"
DEFAULT_ADMIN_EMAIL = "admin@example.com"
INITIAL_PASSWORD_FILE = "initial_admin_password"  # noqa: S105 - a file name
# `kefu run --demo` stays quick to start; `kefu demo` makes as much as asked.
RUN_DEMO_CUSTOMERS = 200
RUN_DEMO_TICKETS = 1_000
SCHEDULER_INTERVAL = 30.0  # seconds between scheduler ticks
WORKER_POLL_INTERVAL = 0.25  # seconds a task worker waits when its queue is empty
WORKER_RESTART_DELAY = 5.0  # after an unexpected error (say, the database went away)
SHUTDOWN_TIMEOUT = 30.0  # how long a running task may take to finish on shutdown


class CommandError(Exception):
    """A problem to tell the person at the terminal in one sentence; exit status 1."""


# --- Django and the database ----------------------------------------------------------------


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    import django

    django.setup()
    from kefu.core.memory import freeze_startup

    freeze_startup()


def _unapplied_migrations() -> list[str]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def _require_migrated() -> None:
    if pending := _unapplied_migrations():
        raise CommandError(
            f"the database is not set up ({len(pending)} migrations to apply); "
            "run `kefu migrate` first"
        )


def _migrate(*, verbosity: int) -> None:
    from django.core.management import call_command

    from kefu.core.tasks import analyze

    pending = _unapplied_migrations()
    call_command("migrate", interactive=False, verbosity=verbosity)
    if pending:
        # A migration that rebuilds a SQLite table drops its planner statistics; without
        # them list pages pick poor indexes until the daily ANALYZE (no-op elsewhere).
        analyze()


def _describe_validation_error(exc: ValidationError) -> str:
    """``field: message`` lines; one problem fits on the ``kefu: error:`` line itself."""
    if hasattr(exc, "error_dict"):
        lines: list[str] = []
        for field, messages in exc.message_dict.items():
            label = "" if field == "__all__" else f"{field}: "
            lines.extend(f"{label}{message}" for message in messages)
    else:
        lines = list(exc.messages)
    return lines[0] if len(lines) == 1 else "".join(f"\n  {line}" for line in lines)


# --- The first admin ------------------------------------------------------------------------


def _initial_password_path() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / INITIAL_PASSWORD_FILE


def _write_secret(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # O_CREAT's mode does not apply to a file that already existed
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")


def ensure_admin() -> tuple[str | None, str | None]:
    """Create the first admin if there is none. Returns the (email, password) to print.

    The generated password stays in ``$KEFU_DATA_DIR/initial_admin_password`` (mode 600) so a
    later run can print it again; once someone changes that password the file is removed.
    Without a known password, returns ``(None, None)``.
    """
    from django.db import transaction

    from kefu.accounts import actions
    from kefu.accounts.choices import Role
    from kefu.accounts.models import User

    path = _initial_password_path()
    admins = User.objects.filter(role=Role.ADMIN).order_by("id")
    if not admins.exists():
        email = actions.normalize_email(os.environ.get("KEFU_ADMIN_EMAIL") or DEFAULT_ADMIN_EMAIL)
        password = secrets.token_urlsafe(12)
        try:
            with transaction.atomic():
                admin = actions.create_or_update_admin(email=email or "", password=password)
                _write_secret(path, password)
        except ValidationError as exc:
            raise CommandError(
                f"cannot create the first admin {email!r} (KEFU_ADMIN_EMAIL): "
                f"{_describe_validation_error(exc)}"
            ) from None
        return admin.email, password
    if path.exists():
        password = path.read_text().strip()
        for admin in admins[:5]:
            if admin.is_active and not admin.suspended and admin.check_password(password):
                return admin.email, password
        path.unlink()  # no longer anyone's password: do not keep a stale secret around
    return None, None


def _print_sign_in(*, base_url: str, email: str | None, password: str | None) -> None:
    rule = "─" * 64
    lines = [rule, f"  Kefu is running at {base_url}/", f"  Sign in:   {base_url}/login/"]
    if email and password:
        lines += [
            f"  Email:     {email}",
            f"  Password:  {password}",
            f"  (kept in {_initial_password_path()} until you change it)",
        ]
    else:
        lines += [
            "  Sign in with your admin account. To set an admin's password:",
            "    kefu createadmin --email you@example.com --password '...'",
        ]
    lines.append(rule)
    print("\n".join(lines), flush=True)


# --- Demo data ------------------------------------------------------------------------------


def _load_demo(*, customers: int, tickets: int) -> None:
    from kefu.demo import generate

    generate(customers=customers, tickets=tickets, stdout=sys.stdout)


# --- Background work: task workers and the scheduler ----------------------------------------


class TaskWorkerThread(threading.Thread):
    """django-tasks-db's queue loop (``db_worker``'s ``Worker``) in a thread.

    The management command installs signal handlers, which only the main thread may do; here
    the process owner (``kefu run``/``kefu worker``) handles signals and calls ``stop()``,
    which lets the task in progress finish. An unexpected error (the database going away)
    restarts the loop after a pause instead of silently ending the thread.
    """

    def __init__(self, *, number: int, backend_name: str = "default") -> None:
        super().__init__(name=f"kefu-worker-{number}", daemon=True)
        from django_tasks_db.management.commands.db_worker import Worker

        worker_id = f"{socket.gethostname()}:{os.getpid()}:{number}"
        self.worker = Worker(
            queue_names=["*"],
            excluded_queue_names=[],
            interval=WORKER_POLL_INTERVAL,
            batch=False,
            backend_name=backend_name,
            startup_delay=True,
            max_tasks=None,
            worker_id=worker_id[-64:],
        )
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()
        self.worker.running = False

    def run(self) -> None:
        from django.db import connections

        try:
            while not self._stopping.is_set():
                try:
                    self.worker.run()  # returns once stop() clears worker.running
                except Exception:
                    log.exception(
                        "task worker %s failed; restarting in %ss", self.name, WORKER_RESTART_DELAY
                    )
                    self._stopping.wait(WORKER_RESTART_DELAY)
        finally:
            connections.close_all()


class Background:
    """The task worker threads and the scheduler thread of one process."""

    def __init__(self, *, worker_threads: int, scheduler: bool) -> None:
        from django.tasks import task_backends
        from django_tasks_db.backend import DatabaseBackend

        from kefu.core.scheduler import SchedulerThread

        self.uses_database_queue = isinstance(task_backends["default"], DatabaseBackend)
        # Another backend (the immediate one, say) runs tasks itself: no queue to work.
        count = worker_threads if self.uses_database_queue else 0
        self.workers = [TaskWorkerThread(number=n + 1) for n in range(count)]
        # Mail is taken from its tables by a pump beside the task workers (no task per message,
        # kefu.channels.email.pump); one per process: the GIL lets a process use one core.
        from kefu.channels.email.pump import MailPump

        self.pump = MailPump() if count else None
        self.scheduler = SchedulerThread(interval=SCHEDULER_INTERVAL) if scheduler else None

    def describe(self) -> str:
        parts = [f"{len(self.workers)} task worker thread{'s' if len(self.workers) != 1 else ''}"]
        if not self.uses_database_queue:
            parts[0] += " (the tasks backend runs tasks itself)"
        if self.pump:
            parts.append("mail pump on")
        parts.append("scheduler on" if self.scheduler else "scheduler off")
        return ", ".join(parts)

    def start(self) -> None:
        for thread in self.workers:
            thread.start()
        if self.pump:
            self.pump.start()
        if self.scheduler:
            self.scheduler.start()

    def stop(self, *, timeout: float = SHUTDOWN_TIMEOUT) -> bool:
        """Stop and wait; True when every thread ended within ``timeout`` seconds."""
        import time

        if self.scheduler:
            self.scheduler.stop()
        for worker in self.workers:
            worker.stop()
        if self.pump:
            self.pump.stop()
        deadline = time.monotonic() + timeout
        threads: list[threading.Thread] = [*self.workers, *([self.pump] if self.pump else [])]
        if self.scheduler:
            threads.append(self.scheduler)
        for thread in threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [thread.name for thread in threads if thread.is_alive()]
        if stuck:
            log.warning("still busy after %ss, leaving: %s", timeout, ", ".join(stuck))
        return not stuck


class _Signals:
    """SIGINT/SIGTERM handling for a foreground process: the first asks for a clean stop;
    another one while stopping gives up waiting (KeyboardInterrupt, exit status 130)."""

    def __init__(self, on_stop: Callable[[], None]) -> None:
        self.on_stop = on_stop
        self.draining = False
        self._previous: dict[int, Any] = {}

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.draining:
            raise KeyboardInterrupt
        self.on_stop()

    def __enter__(self) -> "_Signals":
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self.handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


# --- The web server -------------------------------------------------------------------------


def _public_url(host: str, port: int) -> str:
    if host in {"0.0.0.0", "::", ""}:  # noqa: S104 - naming the wildcard, not binding to it
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CommandError(
            f"cannot listen on {host}:{port} ({exc.strerror}); is Kefu already running? "
            "Choose another port with --port"
        ) from None
    sock.set_inheritable(True)
    return sock


def _prepare_static() -> None:
    from django.conf import settings

    # ServeStatic serves from the app folders (finders); an absent STATIC_ROOT only earns a
    # warning at every start, so make sure it exists (`collectstatic` fills it, if wanted).
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def _uvicorn_options() -> dict[str, Any]:
    import uvicorn
    from django.conf import settings

    level = os.environ.get("KEFU_LOG_LEVEL", "info").lower()
    return {
        "lifespan": "off",  # Django's ASGI handler does not speak the lifespan protocol
        "log_level": level if level in uvicorn.config.LOG_LEVELS else "info",
        # X-Forwarded-For/-Proto are believed only behind a proxy (and only from
        # FORWARDED_ALLOW_IPS, default 127.0.0.1: uvicorn's own setting).
        "proxy_headers": getattr(settings, "SECURE_PROXY_SSL_HEADER", None) is not None,
        "server_header": False,
        "timeout_graceful_shutdown": 10,
    }


def _serve(*, host: str, port: int, sock: socket.socket, background: Background | None) -> int:
    """Serve ASGI in this (main) thread, with ``background`` beside it, until a signal."""
    import uvicorn

    _prepare_static()
    server = uvicorn.Server(uvicorn.Config(ASGI_APP, host=host, port=port, **_uvicorn_options()))

    def ask_to_stop() -> None:
        server.should_exit = True

    # uvicorn installs its own handlers while serving and, once stopped, re-raises the signal
    # it caught to the handler it replaced: ours, so the worker threads are stopped in order.
    with _Signals(ask_to_stop) as signals:
        if background:
            background.start()
        try:
            server.run(sockets=[sock])
        finally:
            signals.draining = True
            if background:
                print("Stopping the task worker and scheduler…", flush=True)
                background.stop()
    print("Kefu stopped.", flush=True)
    return 0


# --- Commands -------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    base_url = os.environ.get("KEFU_BASE_URL") or _public_url(args.host, args.port)
    # Links Kefu builds (API pagination, emails) point at this server unless told otherwise.
    os.environ.setdefault("KEFU_BASE_URL", base_url)
    _setup()
    sock = _bind(args.host, args.port)
    print("Preparing the database…", flush=True)
    _migrate(verbosity=0)
    email, password = ensure_admin()
    if args.demo:
        from kefu.tickets.models import Ticket

        if Ticket.objects.exists():
            print("Tickets exist already: not adding demo data.", flush=True)
        else:
            print(
                f"Adding demo data ({RUN_DEMO_CUSTOMERS} customers, {RUN_DEMO_TICKETS} tickets)…",
                flush=True,
            )
            _load_demo(customers=RUN_DEMO_CUSTOMERS, tickets=RUN_DEMO_TICKETS)
    background = Background(worker_threads=args.worker_threads, scheduler=True)
    print(f"Background work: {background.describe()}.", flush=True)
    _print_sign_in(base_url=base_url.rstrip("/"), email=email, password=password)
    if args.host in {"0.0.0.0", "::"} and "KEFU_ALLOWED_HOSTS" not in os.environ:  # noqa: S104
        print(
            "Listening on every interface: set KEFU_BASE_URL (and KEFU_ALLOWED_HOSTS) to the "
            "address people use, or Kefu will refuse other host names.",
            flush=True,
        )
    from kefu.channels.email.smtpd import start_if_configured

    smtp = start_if_configured()  # KEFU_SMTP_LISTEN (docs/email.md)
    if smtp is not None:
        print(f"SMTP receiver listening on {os.environ.get('KEFU_SMTP_LISTEN')}", flush=True)
    try:
        return _serve(host=args.host, port=args.port, sock=sock, background=background)
    finally:
        if smtp is not None:
            smtp.stop()


def cmd_web(args: argparse.Namespace) -> int:
    _setup()
    if pending := _unapplied_migrations():
        print(
            f"Warning: {len(pending)} migrations are not applied; run `kefu migrate`.",
            file=sys.stderr,
        )
    sock = _bind(args.host, args.port)
    if args.workers == 1:
        return _serve(host=args.host, port=args.port, sock=sock, background=None)
    sock.close()  # uvicorn's supervisor binds and shares the socket with its processes
    import uvicorn

    _prepare_static()

    uvicorn.run(
        ASGI_APP, host=args.host, port=args.port, workers=args.workers, **_uvicorn_options()
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    _setup()
    _require_migrated()
    background = Background(worker_threads=args.threads, scheduler=not args.no_scheduler)
    stop = threading.Event()
    with _Signals(stop.set) as signals:
        background.start()
        print(f"Kefu worker running: {background.describe()}. Ctrl-C stops it.", flush=True)
        while not stop.wait(1.0):
            pass
        signals.draining = True
        print("Stopping (Ctrl-C again to stop without waiting)…", flush=True)
        background.stop()
    print("Kefu worker stopped.", flush=True)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    _setup()
    _migrate(verbosity=1)
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    _setup()
    _require_migrated()
    from kefu.accounts import actions
    from kefu.accounts.models import User

    email = actions.normalize_email(args.email) or ""
    existed = User.objects.filter(email=email).exists()
    try:
        admin = actions.create_or_update_admin(email=email, password=args.password, name=args.name)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise
        raise ValidationError({"password": exc.messages}) from None  # the password validators
    verb = "updated" if existed else "created"
    print(f"Admin {admin.email} {verb}. Sign in at {_sign_in_url()}")
    return 0


def _sign_in_url() -> str:
    from django.conf import settings

    return f"{settings.BASE_URL}/login/"


def cmd_token_create(args: argparse.Namespace) -> int:
    _setup()
    _require_migrated()
    from kefu.accounts import actions
    from kefu.accounts.models import User

    user = User.objects.filter(email=actions.normalize_email(args.email)).first()
    if user is None:
        raise CommandError(f"nobody has the email address {args.email!r}")
    _record, token = actions.create_api_token(user=user, description=args.description)
    # Only the token goes to stdout, so `TOKEN=$(kefu token create ...)` works.
    print(f"New API token for {user.email} (shown only once):", file=sys.stderr)
    print(token)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _setup()
    _require_migrated()
    # The first admin owns the demo's shared views and macros.
    ensure_admin()
    _load_demo(customers=args.customers, tickets=args.tickets)
    return 0


def cmd_manage(argv: Sequence[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["kefu manage", *argv])
    except SystemExit as exc:
        return _exit_status(exc)
    return 0


# --- Arguments ------------------------------------------------------------------------------


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is between 1 and 65535, not {port}")
    return port


def _count(minimum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value.replace("_", "").replace(",", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {number}")
        return number

    parse.__name__ = "number"  # argparse names the type in its messages
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kefu",
        description="Kefu (客服): a self-hosted customer-service platform.",
        epilog="Settings come from KEFU_* environment variables (docs/configuration.md).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def server_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--host", default="127.0.0.1", help="address (default: %(default)s)")
        command.add_argument(
            "--port", type=_port, default=8000, help="port to listen on (default: %(default)s)"
        )

    run = commands.add_parser(
        "run",
        help="everything in one process: migrate, first admin, web server, worker, scheduler",
        description=(
            "Migrate the database, create the first admin if there is none and print the "
            "sign-in, then serve Kefu with the task worker and scheduler in the same process."
        ),
    )
    server_options(run)
    run.add_argument(
        "--demo",
        action="store_true",
        help=(
            f"add demo data ({RUN_DEMO_CUSTOMERS} customers, {RUN_DEMO_TICKETS} tickets) "
            "when there are no tickets yet"
        ),
    )
    run.add_argument(
        "--worker-threads",
        "--workers-threads",
        dest="worker_threads",
        type=_count(0),
        default=1,
        metavar="N",
        help="task worker threads (default: %(default)s)",
    )
    run.set_defaults(handler=cmd_run)

    web = commands.add_parser(
        "web", help="the web server only (scale out with several; needs `kefu worker`)"
    )
    server_options(web)
    web.add_argument(
        "--workers",
        type=_count(1),
        default=1,
        metavar="N",
        help="web server processes (default: %(default)s)",
    )
    web.set_defaults(handler=cmd_web)

    worker = commands.add_parser("worker", help="the task worker and scheduler, in the foreground")
    worker.add_argument(
        "--threads",
        type=_count(1),
        default=1,
        metavar="N",
        help="task worker threads (default: %(default)s)",
    )
    worker.add_argument(
        "--no-scheduler",
        action="store_true",
        help="do not run the scheduler here (it is safe to run one in every worker)",
    )
    worker.set_defaults(handler=cmd_worker)

    migrate = commands.add_parser("migrate", help="create or update the database tables")
    migrate.set_defaults(handler=cmd_migrate)

    createadmin = commands.add_parser(
        "createadmin", help="create an admin, or make someone an admin with a new password"
    )
    createadmin.add_argument("--email", required=True)
    createadmin.add_argument("--password", required=True)
    createadmin.add_argument("--name", help="display name (default: from the email address)")
    createadmin.set_defaults(handler=cmd_createadmin)

    token = commands.add_parser("token", help="API tokens")
    token_commands = token.add_subparsers(dest="token_command", metavar="COMMAND", required=True)
    token_create = token_commands.add_parser(
        "create", help="create an API token (printed alone on the last line)"
    )
    token_create.add_argument("--email", required=True, help="whose token it is")
    token_create.add_argument(
        "--description", default="Created with kefu token create", help="what it is for"
    )
    token_create.set_defaults(handler=cmd_token_create)

    demo = commands.add_parser("demo", help="add believable bilingual demo data")
    demo.add_argument("--customers", type=_count(1), default=1_000, metavar="N")
    demo.add_argument("--tickets", type=_count(0), default=10_000, metavar="M")
    demo.set_defaults(handler=cmd_demo)

    from kefu.channels.email.cli import add_commands as add_email_commands

    add_email_commands(commands)  # kefu smtpd, kefu email ...

    # Listed for --help; main() hands everything after `manage` to Django untouched.
    commands.add_parser("manage", help="Django's management commands: kefu manage help")
    return parser


def _exit_status(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "manage":
        return cmd_manage(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return _exit_status(exc)

    from django.db import OperationalError

    try:
        return int(args.handler(args))
    except CommandError as exc:
        print(f"kefu: error: {exc}", file=sys.stderr)
    except ValidationError as exc:
        print(f"kefu: error: {_describe_validation_error(exc)}", file=sys.stderr)
    except ImproperlyConfigured as exc:
        print(f"kefu: configuration error: {exc}", file=sys.stderr)
    except OperationalError as exc:
        print(f"kefu: cannot use the database: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("kefu: interrupted", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
