"""Headless Chromium for the report's browser tests: Debian's chromium driven by Playwright.

The browser is never downloaded (no `playwright install`): scripts/setup.sh installs Debian's
chromium when running as root. In CI a missing browser is a failure, never a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deconfound.report.chromium import CHROMIUM, CHROMIUM_ARGS


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; run scripts/setup.sh as root (CI must run the browser tests)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per module.

    Not per session: Playwright's sync API keeps an event loop running in the main thread until
    it stops, and every later test that starts an asyncio loop (Inspect runs) would fail.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        yield b
        b.close()


#: True once a page has no transcript explorer, or its explorer unpacked every transcript (or
#: failed to): its first rows come earlier (data-state "ready"), the rest one task at a time.
EXPLORER_SETTLED = (
    "() => { const t = document.getElementById('explorer-rows');"
    " return !t || t.dataset.loaded === 'all' || t.dataset.state === 'error'; }"
)


class Page:
    """A page plus every console error, page error and network request it produced."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    """Open a local file in a fresh browser context; returns a :class:`Page`."""
    contexts = []

    def _open(path: Path) -> Page:
        ctx = browser.new_context(viewport={"width": 1300, "height": 900})
        contexts.append(ctx)
        page = Page(ctx.new_page())
        page.page.goto(path.resolve().as_uri())
        page.page.wait_for_load_state("load")
        # the report's explorer unpacks its rows after load; wait until it says it is done
        page.page.wait_for_function(EXPLORER_SETTLED)
        return page

    yield _open
    for ctx in contexts:
        ctx.close()
