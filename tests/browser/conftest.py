"""A real ``oneweb-graphql serve`` and a headless Chromium for the browser tests.

The browser is Debian's ``chromium`` driven by Playwright's Python package; Playwright never
downloads a browser here. Without either, the tests skip with how to install it, except
under ``CI=true``, where a missing browser fails the run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

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
CLI = str(Path(sys.executable).parent / "oneweb-graphql")
START_WAIT_S = 20.0


def _missing(what: str) -> None:
    message = f"{what} is missing: {INSTALL_HINT}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """``oneweb-graphql serve`` starting with the embedded runtime on a free port and a
    fresh DB; user override off, so the identity comes from the GraphiQL page's headers."""
    port = _free_port()
    env = {
        **os.environ,
        "ONEWEB_DB": str(tmp_path_factory.mktemp("graphiql") / "runtime.db"),
        "ONEWEB_ALLOW_USER_OVERRIDE": "false",
        "ONEWEB_LOG_LEVEL": "WARNING",
    }
    env.pop("ONEWEB_BASE_URL", None)
    process = subprocess.Popen(
        [CLI, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.fixture(scope="module")
def served(serving: tuple[str, Any], browser_context: Any) -> str:
    """The facade's URL once it answers (it starts while the browser does)."""
    base_url, process = serving
    deadline = time.monotonic() + START_WAIT_S
    while True:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        try:
            httpx.get(base_url + "/healthz", timeout=1.0)
            return base_url
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"{base_url} did not answer"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless Chromium with a new, empty profile."""
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
