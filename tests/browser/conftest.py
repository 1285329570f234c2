"""Headless Chromium (Debian's, driven by Playwright) against a real server on loopback.

Without ``/usr/bin/chromium`` or the ``playwright`` package the browser tests skip with the
reason, unless ``REQUIRE_SERVICES=1``, which turns the absence into a failure (as
``tests.databases.missing_service`` does for PostgreSQL and Redis).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests.databases import unavailable
from tests.e2e.conftest import ROOT, LiveServer, seeded_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Playwright, Route

CHROMIUM = Path("/usr/bin/chromium")
# As root there is no sandbox; the networking flags stop Chromium calling Google (refused here).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESULTS = ROOT / "test-results" / "browser"
TIMEOUT_MS = 5_000  # every wait is bounded; CI is a noisy 2-core machine
SCREENSHOTS = pytest.StashKey[list[Path]]()
CALL_REPORT = pytest.StashKey[pytest.TestReport]()

StartPlaywright = Callable[[], AbstractContextManager["Playwright"]]
Screenshot = Callable[["Page | Locator", str], Path]
RecordProperty = Callable[[str, object], None]


@pytest.fixture(scope="module")
def swagger_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with seeded_server(tmp_path_factory.mktemp("browser"), APP_SWAGGER_UI="true") as server:
        yield server


@pytest.fixture(scope="module")
def start_playwright() -> StartPlaywright:
    """Playwright's sync entry point, once both it and Chromium are known to be here."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        unavailable(f"the playwright package is not installed ({error})")
    if not CHROMIUM.is_file():
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return sync_playwright


@pytest.fixture(scope="module")
def browser(start_playwright: StartPlaywright, swagger_server: LiveServer) -> Iterator[Browser]:
    # Playwright's sync API keeps an event loop running in this thread until it stops, and
    # the server's set-up (migrations, seeding) calls asyncio.run: so the server comes first.
    from playwright.sync_api import Error

    with start_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=20_000
            )
        except Error as error:
            unavailable(f"Chromium at {CHROMIUM} did not start ({error.message})")
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def problems() -> list[str]:
    """What the page reported going wrong: script errors, console errors, off-host requests."""
    return []


@pytest.fixture
def page(
    request: pytest.FixtureRequest,
    browser: Browser,
    swagger_server: LiveServer,
    problems: list[str],
    screenshot: Screenshot,
) -> Iterator[Page]:
    """A fresh browser context per test, held to the server's origin."""
    context = browser.new_context(
        base_url=swagger_server.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(2 * TIMEOUT_MS)
    server_host = urlsplit(swagger_server.url).netloc

    def only_the_server(route: Route) -> None:
        # Swagger UI must work offline: nothing from a CDN, no validator badge.
        if urlsplit(route.request.url).netloc == server_host:
            route.continue_()
        else:
            problems.append(f"request to {route.request.url}")
            route.abort()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console error: {message.text}")

    context.route("**/*", only_the_server)
    new_page = context.new_page()
    new_page.on("console", on_console)
    new_page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    try:
        yield new_page
        report = request.node.stash.get(CALL_REPORT, None)
        if report is not None and report.failed:
            screenshot(new_page, f"{request.node.name}-failed")
    finally:
        context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest, record_property: RecordProperty) -> Screenshot:
    """Save a screenshot (a whole page, or one element) under test-results/browser/ and name
    it in the report."""

    def save(target: Page | Locator, name: str) -> Path:
        from playwright.sync_api import Locator  # present: a browser test is running

        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{name}.png"
        if isinstance(target, Locator):
            target.screenshot(path=path)  # one element, e.g. an operation and its answer
        else:
            target.screenshot(path=path, full_page=True)
        record_property("screenshot", str(path))
        request.config.stash.setdefault(SCREENSHOTS, []).append(path)
        print(f"screenshot: {path}")
        return path

    return save


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if report.when == "call":
        item.stash[CALL_REPORT] = report
    return report


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    # Passed tests' output is hidden under -ra, so list the screenshots where CI logs show them.
    saved = config.stash.get(SCREENSHOTS, [])
    if saved:
        terminalreporter.write_sep("-", "browser screenshots")
        for path in saved:
            terminalreporter.write_line(str(path))
