"""Kefu's processes freeze their start-up objects (kefu.core.memory): the command line's set-up
and the ASGI module each leave the collector a permanent generation of them."""

import subprocess
import sys

import pytest

PROBE = """
import gc, os
os.environ["DJANGO_SETTINGS_MODULE"] = "kefu.settings"
{start}
print(gc.get_freeze_count())
"""


@pytest.mark.parametrize(
    "start",
    ["from kefu.cli import _setup; _setup()", "import kefu.asgi"],
    ids=["cli", "asgi"],
)
def test_a_started_process_has_frozen_its_start_up_objects(start, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", PROBE.format(start=start)],
        env={"KEFU_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    # Django, Kefu's models and every URLconf's views: tens of thousands of objects.
    assert int(result.stdout.split()[-1]) > 50_000
