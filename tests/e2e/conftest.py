"""Browser tests: Debian's Chromium driven by Playwright against a live server on a temp database.

They need /usr/bin/chromium (`apt-get install chromium`; Playwright's own browser download is never
used) and the npm packages the pages load (`npm ci --ignore-scripts`). Without either, every test
here is skipped with that reason. Every page a test opens is watched: a console error, an
uncaught exception or a request to anywhere but the live server fails the test.
"""

import contextlib
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "processes"))

from databases import NO_SERVER, pg_available, pg_schema
from e2e_config import ADMIN, ARTIFACTS, CHROMIUM, PASSWORD, ROOT, USERS, VENDOR_FILES

__all__ = ["ADMIN", "PASSWORD"]  # test modules of this folder once imported them from here


def _missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    absent = [path for path in VENDOR_FILES if not (ROOT / path).exists()]
    if absent:
        return f"node_modules is missing {absent[0]} (run `npm ci --ignore-scripts`)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python Playwright is not installed (pip install -e '.[dev]')"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing()
    if reason is None:
        return
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def live(request, tmp_path_factory):
    """The live server (one for the whole session; tests start their own instances), on the
    database `--db` names: a SQLite file, or a fresh PostgreSQL schema."""
    from live_server import start_server

    with contextlib.ExitStack() as stack:
        if request.config.getoption("--db") == "postgresql":
            if not pg_available():
                pytest.skip(NO_SERVER)
            url = stack.enter_context(pg_schema("e2e"))
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.db'}"
        server, stop = start_server(url, USERS, admins=(ADMIN,), password=PASSWORD)
        yield server
        stop()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium, live):
    """open_page(width=1280) -> a Page in a fresh browser context (no cookies), watched.

    At the end of the test, no watched page may have logged a console error (other than
    the expected HTTP statuses a test declares with `page.expect_statuses`) or requested
    anything outside the live server.
    """
    from page_watch import Watch

    watches, contexts = [], []

    def make(width=1280, height=900):
        context = chromium.new_context(viewport={"width": width, "height": height}, locale="zh-HK")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        watches.append(Watch(page, live.url))
        return page

    yield make
    try:
        for watch in watches:
            watch.check()
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(open_page):
    return open_page()


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
