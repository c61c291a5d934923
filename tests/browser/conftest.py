"""Browser tests: Playwright drives Debian's Chromium against the live test server.

``checked(page, name)`` is called on every page a journey visits: it runs axe-core (from
node_modules, pinned by package-lock.json) and fails on any WCAG 2.2 A or AA violation, then
saves screenshots at laptop size and at 320 px wide under var/screenshots/ for people to look
at.
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

# Playwright's sync API runs an event loop in the test's thread; the ORM calls the tests make
# between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
WCAG_22_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
LAPTOP: ViewportSize = {"width": 1366, "height": 768}
NARROW: ViewportSize = {"width": 320, "height": 640}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser(django_db_setup) -> Iterator[Browser]:
    # Entering Playwright's sync API switches the context that Django's per-context
    # connections live in, so the tests after it get a new connection object without the
    # test database's serialized contents, and serialized_rollback would restore nothing
    # (the reference data seeded by migrations is gone after the first flush). Carry them over.
    serialized = {
        alias: getattr(connections[alias], "_test_serialized_contents", None)
        for alias in connections
    }
    with sync_playwright() as playwright:
        for alias, contents in serialized.items():
            if contents is not None:
                setattr(connections[alias], "_test_serialized_contents", contents)  # noqa: B010
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # Playwright's sync API leaves its event loop marked as running in this thread, and
        # Django keeps database connections per event loop context once one runs: from here
        # on, tests get new connection objects. Give them the data serialized at set-up, or
        # serialized_rollback restores nothing after the first browser test flushed the
        # database (the seeded reference data included).
        for alias, contents in serialized.items():
            connections[alias]._test_serialized_contents = contents  # type: ignore[attr-defined]
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport=LAPTOP)
    page = context.new_page()
    yield page
    context.close()


def axe_violations(page: Page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_A_AA
    )
    return result["violations"]


def checked(page: Page, name: str) -> None:
    """Keep screenshots of this page, then fail on any WCAG 2.2 A/AA violation."""
    violations = axe_violations(page)
    summary = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
    ]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    page.screenshot(path=str(SCREENSHOTS / f"{slug}-laptop.png"), full_page=True)
    page.set_viewport_size(NARROW)
    page.screenshot(path=str(SCREENSHOTS / f"{slug}-320.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .filter(e => !e.closest('.app-table-wrapper'))
            .slice(0, 5).map(e => e.tagName + '.' + e.className)"""
    )
    page.set_viewport_size(LAPTOP)
    assert not violations, f"{name}: accessibility violations:\n" + "\n".join(summary)
    assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px at 320px wide: {wide}"


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/sign-in/")
    checked(page, "sign in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
