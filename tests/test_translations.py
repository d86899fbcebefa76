"""The Simplified Chinese catalog: complete, compiled, used by actions, and current with the code.

The .po is read with a small parser below (standard library only), so these tests run without
gettext; only the makemessages test needs gettext's xgettext and msgmerge.
"""

import os
import re
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

import kefu
from kefu.tickets.actions import NewComment, TicketData, create_ticket

SRC_DIR = Path(kefu.__file__).resolve().parent
CATALOG_DIR = SRC_DIR / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_FILE = CATALOG_DIR / "django.po"
MO_FILE = CATALOG_DIR / "django.mo"
MAKEMESSAGES = ["makemessages", "-l", "zh_Hans", "--no-location", "--ignore", "demo/*"]
HOW_TO_FIX = "see 'Translations' in docs/development.md"


# --- A small .po / .mo reader -----------------------------------------------------------------


@dataclass
class Message:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def is_translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values())

    def mo_key(self) -> str:
        """The key msgfmt writes into the .mo: context EOT msgid [NUL msgid_plural]."""
        key = self.msgid if self.msgid_plural is None else f"{self.msgid}\0{self.msgid_plural}"
        return key if self.msgctxt is None else f"{self.msgctxt}\x04{key}"

    def mo_value(self) -> str:
        return "\0".join(self.msgstr[index] for index in sorted(self.msgstr))


def _unquote(text: str) -> str:
    assert text.startswith('"') and text.endswith('"'), text
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), text[1:-1])


def read_po(path: Path) -> list[Message]:
    """The active messages of a .po file (obsolete ``#~`` entries are left out)."""
    messages: list[Message] = []
    current: Message | None = None
    flags: set[str] = set()
    part: tuple[str, int] = ("", 0)  # what a continuation line ("...") extends

    def append(text: str) -> None:
        assert current is not None
        keyword, index = part
        if keyword == "msgstr":
            current.msgstr[index] = current.msgstr.get(index, "") + text
        else:
            setattr(current, keyword, (getattr(current, keyword) or "") + text)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith('"'):
            append(_unquote(line))
            continue
        if current is not None and current.msgstr and not line.startswith("msgstr"):
            messages.append(current)
            current = None
        if not line:
            flags = set()
        elif line.startswith("#,"):
            flags |= {flag.strip() for flag in line[2:].split(",")}
        elif not line.startswith("#"):  # "#" alone, "#." "#:" "#|" "#~" carry no message
            keyword, _, value = line.partition(" ")
            if current is None:
                current, flags = Message(flags=flags), set()
            index = 0
            if match := re.fullmatch(r"msgstr\[(\d+)\]", keyword):
                keyword, index = "msgstr", int(match.group(1))
            assert keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr"), raw
            part = (keyword, index)
            if keyword == "msgstr":
                current.msgstr[index] = ""
            else:
                setattr(current, keyword, "")
            append(_unquote(value))
    if current is not None:
        messages.append(current)
    return messages


def read_mo(path: Path) -> dict[str, str]:
    """Every original → translation pair of a compiled .mo file (GNU format)."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    order = {0x950412DE: "<", 0xDE120495: ">"}[magic]
    _revision, count, originals_at, translations_at = struct.unpack(order + "4I", data[4:20])
    catalog = {}
    for i in range(count):
        length, offset = struct.unpack_from(order + "2I", data, originals_at + 8 * i)
        original = data[offset : offset + length].decode()
        length, offset = struct.unpack_from(order + "2I", data, translations_at + 8 * i)
        catalog[original] = data[offset : offset + length].decode()
    return catalog


def problems(messages: list[Message]) -> list[str]:
    return [
        f"{'fuzzy' if 'fuzzy' in m.flags else 'untranslated'}: {m.msgid!r}"
        for m in messages
        if not m.is_header and ("fuzzy" in m.flags or not m.is_translated)
    ]


# --- The catalog ------------------------------------------------------------------------------


def test_every_message_of_the_chinese_catalog_is_translated_and_not_fuzzy():
    # when
    messages = read_po(PO_FILE)

    # then
    assert len(messages) > 100
    assert problems(messages) == [], HOW_TO_FIX
    [header] = [m for m in messages if m.is_header]
    assert "fuzzy" not in header.flags
    assert "Language: zh_Hans\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=1; plural=0;\n" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]
    plurals = [m for m in messages if m.msgid_plural is not None]
    assert all(set(m.msgstr) == {0} for m in plurals), "zh_Hans has exactly one plural form"


def test_every_translation_keeps_the_placeholders_of_its_message():
    placeholder = re.compile(r"%\(\w+\)[sdf]|%[sdf]")

    # when
    messages = [m for m in read_po(PO_FILE) if not m.is_header]

    # then
    changed = [
        m.msgid
        for m in messages
        for text in m.msgstr.values()
        if sorted(placeholder.findall(text)) != sorted(placeholder.findall(m.msgid))
    ]
    assert changed == []


def test_the_compiled_catalog_is_up_to_date_with_the_po_file():
    # given what msgfmt would compile: the translated, non-fuzzy messages
    expected = {
        m.mo_key(): m.mo_value()
        for m in read_po(PO_FILE)
        if not m.is_header and m.is_translated and "fuzzy" not in m.flags
    }

    # when
    compiled = read_mo(MO_FILE)
    compiled.pop("", None)  # the header: its dates change without any message changing

    # then
    assert compiled == expected, (
        "django.mo is stale: run `kefu manage compilemessages -l zh_Hans` in src/kefu"
    )


# --- In use -----------------------------------------------------------------------------------


def invalid_status_message(personas) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as caught:
        create_ticket(
            actor=personas.alice,
            data=TicketData(subject="x", requester=personas.bob, status="finished"),
            comment=NewComment(body="b"),
        )
    [message] = caught.value.message_dict["status"]
    return message


def test_an_action_refuses_in_chinese_when_the_language_is_chinese(personas):
    # when
    with translation.override("zh-hans"):
        message = invalid_status_message(personas)

    # then
    assert message == "“finished”不是有效的状态。"


def test_an_action_refuses_in_english_when_the_language_is_english(personas):
    # when
    with translation.override("en"):
        message = invalid_status_message(personas)

    # then
    assert message == "“finished” is not a valid status."


# --- Current with the code --------------------------------------------------------------------


@pytest.mark.skipif(
    not (shutil.which("xgettext") and shutil.which("msgmerge")) and not os.environ.get("CI"),
    reason="makemessages needs GNU gettext (xgettext, msgmerge), which is not installed "
    "(CI installs it, and there this test always runs)",
)
def test_makemessages_finds_no_string_missing_from_the_chinese_catalog(tmp_path):
    # given a copy of the source tree, so the real catalog is not touched
    copy = tmp_path / "kefu"
    shutil.copytree(SRC_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    committed = PO_FILE.read_bytes()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("KEFU_") and name != "DJANGO_SETTINGS_MODULE"
    }
    env["KEFU_DATA_DIR"] = str(tmp_path / "data")

    # when makemessages runs in the copy (-P: the copy's modules must not shadow anything)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-P", "-m", "kefu.cli", "manage", *MAKEMESSAGES],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert PO_FILE.read_bytes() == committed
    regenerated = read_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    assert problems(regenerated) == [], HOW_TO_FIX
    assert {m.mo_key() for m in regenerated} == {m.mo_key() for m in read_po(PO_FILE)}, (
        "django.po is not current with the code: re-run makemessages, " + HOW_TO_FIX
    )


def test_django_s_own_blank_choice_reads_in_chinese(db):
    # Django 6.1's "- Select an option -" is not in Django's zh_Hans catalog; ours has it.
    from kefu.rules.forms import TriggerForm

    with translation.override("zh-hans"):
        html = str(TriggerForm()["category"])
    assert "- 请选择 -" in html and "Select an option" not in html
