"""`kefu email ...`: quarantine and suspended tickets from the command line."""

import pytest

from kefu.channels.email.cli import cmd_failed, cmd_recover, cmd_retry, cmd_suspended, parse_listen
from kefu.channels.email.models import EmailSettings

from .conftest import raw_mail


@pytest.fixture(autouse=True)
def no_setup(monkeypatch):  # type: ignore[no-untyped-def]
    # The commands set Django up themselves; the test process already has it.
    from kefu.channels.email import cli

    monkeypatch.setattr(cli, "_setup", lambda: None)


class Args:
    def __init__(self, **kwargs: object) -> None:
        self.__dict__.update(kwargs)


def test_failed_lists_quarantined_messages_and_retry_processes_them(
    personas, deliver, capsys, monkeypatch
):
    from kefu.channels.email import inbound as pipeline

    real = pipeline.parse_email
    monkeypatch.setattr(pipeline, "parse_email", lambda raw: 1 / 0)
    bad = deliver(raw_mail(subject="broken"))
    monkeypatch.setattr(pipeline, "parse_email", real)

    assert cmd_failed(Args()) == 0
    listed = capsys.readouterr().out
    assert str(bad.pk) in listed and "ZeroDivisionError" in listed

    assert cmd_retry(Args(ids=[bad.pk], all=False)) == 0
    assert "processed ticket #" in capsys.readouterr().out
    assert cmd_failed(Args()) == 0
    assert "No quarantined messages." in capsys.readouterr().out


def test_suspended_messages_are_listed_and_recovered(personas, deliver, capsys):
    settings = EmailSettings.load()
    settings.sender_rate_limit = 1
    settings.save()
    deliver(raw_mail(subject="first"))
    held = deliver(raw_mail(subject="second"))

    cmd_suspended(Args())
    assert "second" in capsys.readouterr().out
    cmd_recover(Args(ids=[held.pk]))
    assert "processed ticket #" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:2525", ("127.0.0.1", 2525)),
        ("[::1]:25", ("::1", 25)),
        ("localhost", ("localhost", 2525)),
    ],
)
def test_listen_addresses_are_read(value, expected):
    assert parse_listen(value) == expected
