"""Playwright fixtures for the review pages: one headless Chromium per run, a context per page.

Every page records what the browser complained about (console errors, uncaught exceptions and
Content-Security-Policy violations) so tests can assert the pages run clean under the strict CSP.
Screenshots go to tests/browser/screenshots/<name>-<width>.png.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run under one
# unless told it's fine (the tests are synchronous; only Playwright is async underneath).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "screenshots"
DESKTOP = {"viewport": {"width": 1400, "height": 900}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
PASSWORD = "pw"  # tests/conftest.py's make_user sets this password

# Reports securitypolicyviolation events to Python: exposed bindings are injected by the
# DevTools protocol, so the page's CSP does not block them.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__reportCsp({directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile,
                      line: e.lineNumber, sample: e.sample});
});
"""


@dataclass
class BrowserLog:
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[dict] = field(default_factory=list)

    def csp_problems(self) -> list:
        console = [text for text in self.console_errors if "Content Security Policy" in text]
        return console + self.csp_violations


_LOGS: dict[int, BrowserLog] = {}


@pytest.fixture
def browser_log():
    """browser_log(page) -> what the browser reported for ``page`` since it opened, across navigations."""
    return lambda page: _LOGS[id(page)]


# --- Playwright -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Browser:
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def new_page(browser):
    """new_page(kind="desktop"|"phone") -> a Page in a fresh context (own cookies, own login)."""
    contexts = []

    def make(kind: str = "desktop") -> Page:
        context = browser.new_context(**(DESKTOP if kind == "desktop" else PHONE))
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        log = BrowserLog()
        _LOGS[id(page)] = log
        context.expose_binding("__reportCsp", lambda _source, report: log.csp_violations.append(report))
        context.add_init_script(CSP_LISTENER)
        page.on("console", lambda msg: msg.type == "error" and log.console_errors.append(msg.text))
        page.on("pageerror", lambda error: log.page_errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        for page in context.pages:
            _LOGS.pop(id(page), None)
        context.close()


@pytest.fixture
def page(new_page) -> Page:
    """A desktop page, 1400 by 900."""
    return new_page("desktop")


@pytest.fixture
def phone_page(new_page) -> Page:
    """A phone page, 390 by 844, touch."""
    return new_page("phone")


@pytest.fixture
def login(live_server):
    """login(page, username) signs in through the real login form and lands on the session list."""

    def sign_in(page: Page, username: str, password: str = PASSWORD, *, submit_with_enter=False) -> Page:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        if submit_with_enter:  # keyboard-only tests never touch the mouse
            page.get_by_label("Password").press("Enter")
        else:
            page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/review/**")
        return page

    return sign_in


@pytest.fixture
def screenshot():
    """screenshot(page, name) saves tests/browser/screenshots/<name>-<viewport width>.png."""

    def save(page: Page, name: str, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}-{page.viewport_size['width']}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save
