"""The ``kefu`` command: in-process through ``main()``, and ``kefu run`` as a real process."""

import http.cookiejar
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from kefu.accounts.actions import authenticate_token
from kefu.accounts.choices import Role
from kefu.accounts.models import User
from kefu.cli import main

STRONG = "correct horse battery 7"


# --- In-process -----------------------------------------------------------------------------


def test_createadmin_creates_an_admin(db, capsys):
    # when
    status = main(["createadmin", "--email", "Boss@Example.com", "--password", STRONG])

    # then
    assert status == 0
    admin = User.objects.get(email="boss@example.com")
    assert admin.role == Role.ADMIN
    assert admin.check_password(STRONG)
    assert "boss@example.com created" in capsys.readouterr().out


def test_createadmin_makes_an_existing_person_admin_with_the_new_password(personas, capsys):
    # when
    status = main(
        ["createadmin", "--email", "alice@kefu.test", "--password", STRONG, "--name", "Alice W"]
    )

    # then
    assert status == 0
    alice = User.objects.get(pk=personas.alice.pk)
    assert alice.role == Role.ADMIN
    assert alice.name == "Alice W"
    assert alice.check_password(STRONG)
    assert User.objects.filter(email="alice@kefu.test").count() == 1
    assert "alice@kefu.test updated" in capsys.readouterr().out


def test_createadmin_with_a_weak_password_fails_and_changes_nothing(personas, capsys):
    # when
    status = main(["createadmin", "--email", "alice@kefu.test", "--password", "123"])

    # then
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith("kefu: error:")
    assert "password:" in err
    assert "too short" in err
    alice = User.objects.get(pk=personas.alice.pk)
    assert alice.role == Role.AGENT
    assert alice.check_password("correct horse 42")


def test_createadmin_with_a_weak_password_creates_nobody(db, capsys):
    status = main(["createadmin", "--email", "new@example.com", "--password", "password"])

    assert status == 1
    assert "too common" in capsys.readouterr().err
    assert not User.objects.filter(email="new@example.com").exists()


def test_createadmin_with_an_invalid_email_names_the_field(db, capsys):
    status = main(["createadmin", "--email", "not-an-email", "--password", STRONG])

    assert status == 1
    assert "email: Enter a valid email address." in capsys.readouterr().err


def test_token_create_prints_a_token_alone_on_the_last_line(personas, capsys):
    # when
    status = main(["token", "create", "--email", "Alice@kefu.test", "--description", "CI"])

    # then
    assert status == 0
    token = capsys.readouterr().out.splitlines()[-1]
    assert token.strip() == token
    assert " " not in token
    assert authenticate_token(token) == personas.alice
    assert authenticate_token(token, email="alice@kefu.test") == personas.alice
    assert personas.alice.api_tokens.get().description == "CI"


def test_token_create_for_an_unknown_email_fails(personas, capsys):
    status = main(["token", "create", "--email", "nobody@kefu.test"])

    assert status == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "nobody@kefu.test" in captured.err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["bogus"],
        ["run", "--port", "http"],
        ["run", "--port", "70000"],
        ["run", "--worker-threads", "-1"],
        ["web", "--workers", "0"],
        ["createadmin", "--email", "a@example.com"],
        ["token"],
        ["token", "create"],
        ["demo", "--tickets", "many"],
        ["migrate", "--unknown"],
    ],
)
def test_bad_arguments_exit_with_status_2_and_say_why(argv, capsys):
    assert main(argv) == 2
    assert "error:" in capsys.readouterr().err


def test_run_refuses_a_port_in_use_before_touching_the_database(monkeypatch, capsys):
    # given
    monkeypatch.setenv("KEFU_BASE_URL", "http://127.0.0.1:8000")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        # when
        status = main(["run", "--port", str(port)])

    # then
    assert status == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_help_lists_the_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ["run", "web", "worker", "migrate", "createadmin", "token", "demo", "manage"]:
        assert command in out


def test_manage_hands_the_arguments_to_django(db, capsys):
    assert main(["manage", "check"]) == 0
    assert "no issues" in capsys.readouterr().out


def test_manage_with_an_unknown_command_fails(capsys):
    assert main(["manage", "no-such-command"]) == 1
    assert "Unknown command" in capsys.readouterr().err


# --- As a real process ----------------------------------------------------------------------


def kefu_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh install: no test settings, no KEFU_* from this session."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("KEFU_") and name != "DJANGO_SETTINGS_MODULE"
    }
    return {**env, "KEFU_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1", **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, check: Callable[[], object], *, seconds: float, log: Path) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; output:\n{log.read_text()}")


def get_json(url: str) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own server
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def healthz_ok(url: str) -> bool:
    try:
        return get_json(url) == (200, {"status": "ok", "database": "ok"})
    except OSError:
        return False


def sign_in(base_url: str, email: str, password: str) -> str:
    """Sign in with Kefu's sign-in form, as a browser does; returns the final URL."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_url = f"{base_url}/login/"
    with opener.open(login_url, timeout=10) as response:
        assert response.status == 200
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": csrf, "username": email, "password": password}
    ).encode()
    with opener.open(login_url, data=form, timeout=10) as response:
        assert response.status == 200
        return str(response.url)


def query(db_path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10) as db:
        return db.execute(sql).fetchall()


def test_kefu_run_serves_signs_in_works_the_task_queue_and_stops_on_sigterm(tmp_path):
    # given
    data_dir = tmp_path / "data"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = tmp_path / "kefu-run.log"

    # when
    with log.open("w") as output:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "kefu.cli", "run", "--port", str(port)],
            env=kefu_env(data_dir),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_for("/healthz", lambda: healthz_ok(f"{base_url}/healthz"), seconds=60, log=log)

        # then: the sign-in it printed works
        password = (data_dir / "initial_admin_password").read_text().strip()
        assert (data_dir / "initial_admin_password").stat().st_mode & 0o777 == 0o600
        printed = log.read_text()
        assert f"{base_url}/login/" in printed
        assert "admin@example.com" in printed
        assert password in printed
        # an admin lands in the agent workspace
        assert sign_in(base_url, "admin@example.com", password).startswith(f"{base_url}/agent/")

        # then: the scheduler enqueued the periodic job and the in-process worker ran it
        db_path = data_dir / "kefu.sqlite3"
        sql = (
            "SELECT status FROM django_tasks_database_dbtaskresult "
            "WHERE task_path = 'kefu.tickets.tasks.close_solved' "
            "AND status IN ('SUCCESSFUL', 'FAILED')"
        )
        statuses = wait_for("the task to run", lambda: query(db_path, sql), seconds=30, log=log)
        assert statuses == [("SUCCESSFUL",)], log.read_text()
        job_runs = query(
            db_path,
            "SELECT last_run_at FROM core_scheduledjob WHERE name = 'tickets.close_solved_tickets'",
        )
        assert job_runs[0][0] is not None

        # when: asked to stop
        proc.send_signal(signal.SIGTERM)
        returncode = proc.wait(timeout=45)

        # then
        assert returncode == 0, log.read_text()
        assert "Kefu stopped." in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_second_run_prints_the_same_sign_in_until_the_password_changes(tmp_path):
    # given: a first start created the admin (and the password file)
    data_dir = tmp_path / "data"
    env = kefu_env(data_dir)
    setup = "from kefu.cli import _setup, _migrate, ensure_admin; _setup(); _migrate(verbosity=0)"
    first = subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"{setup}; print(*ensure_admin())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    email, password = first.stdout.split()

    # when / then: a later start finds it again
    again = subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"{setup}; print(*ensure_admin())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert again.stdout.split() == [email, password]

    # when: the admin changes the password, the file no longer holds it and goes away
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "kefu.cli", "createadmin", "--email", email, "--password", STRONG],
        env=env,
        capture_output=True,
        check=True,
        timeout=120,
    )
    after = subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"{setup}; print(*ensure_admin())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert after.stdout.split() == ["None", "None"]
    assert not (data_dir / "initial_admin_password").exists()


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = kefu_env(
        tmp_path,
        KEFU_BASE_URL="https://support.example.com",
        KEFU_SECRET_KEY=secrets.token_urlsafe(64),
        KEFU_DEBUG="false",
    )

    command = ["manage", "check", "--deploy", "--fail-level", "WARNING"]
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "kefu.cli", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_migrate_on_sqlite_leaves_planner_statistics(tmp_path):
    # given: a fresh data dir; when: kefu migrate applies the migrations
    data_dir = tmp_path / "data"
    subprocess.run(
        [sys.executable, "-m", "kefu.cli", "migrate"],
        env=kefu_env(data_dir),
        capture_output=True,
        check=True,
        timeout=180,
    )
    # then: ANALYZE ran (a table rebuilt by a migration would otherwise have no statistics)
    tables = query(data_dir / "kefu.sqlite3", "SELECT DISTINCT tbl FROM sqlite_stat1")
    assert ("tickets_customstatus",) in tables
