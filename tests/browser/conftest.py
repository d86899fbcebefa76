"""Browser tests: pytest + Playwright driving the machine's Chromium against a live server.

- Chromium is Debian's (``apt-get install chromium``), never a Playwright download: we launch
  ``shutil.which("chromium")``. Without it the tests skip locally and FAIL in CI (``CI=true``).
- ``live_server`` is pytest-django's: a threaded WSGI server in this process, on a free port,
  over the test database. Tests that use it run on ``transactional_db`` (data the test writes
  is visible to the server and the other way round); their tables are emptied afterwards, so
  the pages ask for ``django_db_serialized_rollback``: the rows the migrations wrote (the
  object id counter, the default statuses) are put back for the next test.
- Playwright runs in a thread of its own. Its sync API keeps an asyncio loop marked as running
  in the thread that drives it; in the test's thread that would make Django refuse ORM calls
  (or hand the test a second database connection). So the test holds proxies (``Remote``):
  every call on ``page``, a locator or a response runs in the Playwright thread and returns
  the result; the test's thread never sees the loop and uses the ORM as usual.
- ``screenshot(page, name)`` writes ``test-output/screenshots/<name>.png`` for reviewers;
  ``expect(...)`` is Playwright's, through the same thread.
"""

import concurrent.futures
import os
import queue
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test import testcases

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 390, "height": 844}
EXPECT_TIMEOUT_MS = 15_000


class OneRequestAtATime(ThreadedWSGIServer):
    """The live server, answering one request at a time.

    On SQLite the test database is in memory and pytest-django hands its *one* connection to
    every request thread of the live server. A page and its HTMX polls then ran queries on the
    same sqlite3 connection at once and read each other's rows (seen: ``Session.objects.get``
    by primary key "returned 2"). Connections are still accepted in parallel; only the
    application runs under a lock. (PostgreSQL gives each thread its own connection.)"""

    _lock = threading.Lock()

    def set_app(self, application: Any) -> None:
        lock = self._lock

        def serialized(environ: Any, start_response: Any) -> Any:
            with lock:
                return application(environ, start_response)

        super().set_app(serialized)


testcases.LiveServerThread.server_class = OneRequestAtATime


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def chromium_path() -> str:
    """The Chromium to drive, or skip (locally) / fail (in CI) with the reason."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        reason = "Chromium is not installed (apt-get install chromium); browser tests need it"
        if _in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return path


class PlaywrightThread:
    """One thread that owns Playwright and Chromium; ``call(fn)`` runs ``fn`` there."""

    def __init__(self, executable: str) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], Any], concurrent.futures.Future[Any]] | None]
        self._jobs = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="playwright", daemon=True)
        self._thread.start()
        self.browser = Remote(self.call(lambda: self._launch(executable)), self)

    def _launch(self, executable: str) -> Any:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        return self._playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            function, future = job
            try:
                future.set_result(function())
            except BaseException as exc:
                future.set_exception(exc)

    def call(self, function: Callable[[], Any]) -> Any:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._jobs.put((function, future))
        return future.result()

    def stop(self) -> None:
        self.call(lambda: (self.browser._target.close(), self._playwright.stop()))
        self._jobs.put(None)
        self._thread.join(timeout=30)


def _is_playwright_object(value: Any) -> bool:
    return type(value).__module__.startswith("playwright.")


class Remote:
    """A Playwright object living in the Playwright thread; use it as the object itself."""

    __slots__ = ("_runner", "_target")

    def __init__(self, target: Any, runner: PlaywrightThread) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_runner", runner)

    def _wrap(self, value: Any) -> Any:
        if _is_playwright_object(value):
            return Remote(value, self._runner)
        if isinstance(value, list):
            return [self._wrap(item) for item in value]
        return value

    def __getattr__(self, name: str) -> Any:
        value = self._runner.call(lambda: getattr(self._target, name))
        if callable(value) and not _is_playwright_object(value):

            def call(*args: Any, **kwargs: Any) -> Any:
                args = tuple(_unwrap(a) for a in args)
                kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
                return self._wrap(self._runner.call(lambda: value(*args, **kwargs)))

            return call
        return self._wrap(value)

    def __repr__(self) -> str:
        return f"Remote({self._target!r})"


def _unwrap(value: Any) -> Any:
    return value._target if isinstance(value, Remote) else value


_runner: PlaywrightThread | None = None


@pytest.fixture(scope="session")
def browser() -> Iterator[Remote]:
    """One Chromium per test process, driven from the Playwright thread."""
    global _runner
    _runner = PlaywrightThread(chromium_path())
    yield _runner.browser
    _runner.stop()
    _runner = None


def expect(target: Remote, message: str | None = None) -> Remote:
    """Playwright's ``expect`` (auto-waiting assertions) for a proxied page or locator."""
    from playwright.sync_api import expect as playwright_expect

    # As long as an action may wait (``set_default_timeout`` below): under a loaded CI machine
    # a page that posts, redirects and renders can take more than Playwright's 5 s default.
    playwright_expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    return Remote(target._runner.call(lambda: playwright_expect(target._target, message)),
                  target._runner)  # fmt: skip


def _new_page(browser: Remote, live_server: Any, **context_options: Any) -> Remote:
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", timezone_id="Asia/Shanghai", **context_options
    )
    page = context.new_page()
    page.set_default_timeout(EXPECT_TIMEOUT_MS)
    return page


@pytest.fixture
def page(
    browser: Remote, live_server: Any, django_db_serialized_rollback: None
) -> Iterator[Remote]:
    """A fresh browser tab (own cookies) whose relative URLs go to the live server."""
    tab = _new_page(browser, live_server)
    yield tab
    tab.context.close()


@pytest.fixture
def phone_page(
    browser: Remote, live_server: Any, django_db_serialized_rollback: None
) -> Iterator[Remote]:
    """Like ``page``, with a phone's 390 px wide viewport and touch."""
    tab = _new_page(browser, live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    yield tab
    tab.context.close()


def screenshot(page: Remote, name: str, *, full_page: bool = True) -> Path:
    """Save what the page shows as ``test-output/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
