"""A real ``oneweb-graphql serve`` and a headless Chromium, shared by the browser tests.

The browser is Debian's ``chromium`` driven by Playwright's Python package; Playwright never
downloads a browser here. Without either, the tests skip with how to install it, except
under ``CI=true``, where a missing browser fails the run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.processes import Command

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
INSTALL_HINT = "install it with `sudo apt-get install chromium` and `pip install -e '.[test]'`"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # the tests may run as root (CI does)
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(what: str) -> None:
    message = f"{what} is missing: {INSTALL_HINT}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def served(live_serve: Command, browser_context: Any) -> str:
    """The URL of ``oneweb-graphql serve`` over the embedded runtime, with the default
    settings (user override off, so the identity comes from the page's Headers tab); it
    starts while the browser does."""
    return live_serve.base_url


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless Chromium with a new, empty profile, for the tests of one module (keep them
    on one xdist worker, so that it starts once). Module-scoped, not session-scoped:
    Playwright's sync API runs an event loop on this thread while the browser is open, and
    the asyncio tests that follow need the thread's loop to themselves."""
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which(CHROMIUM)):
        _missing(f"Chromium ({CHROMIUM})")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright's Python package")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()
