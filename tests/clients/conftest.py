"""Generated clients and the GraphQL-over-HTTP audit, against ``oneweb-graphql serve`` as users run it.

def test_x(live_url): ...                   # the session's `oneweb-graphql serve`
tool = require_tool(EXAMPLES / "typescript" / "node_modules" / ".bin" / "tsc", hint)

The tools (node, npm's packages, ariadne-codegen) are installed once by ``make test``
before pytest starts; a test that lacks one skips, or fails when ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.processes import Command

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
NODE_HINT = "install Node.js >= 20 with npm (e.g. apt-get install nodejs npm), then run make test"


def require_tool(path: Path | str, hint: str) -> str:
    """The tool's path; skips the test when it is missing (fails under ``CI=true``)."""
    found = shutil.which(str(path))
    if found is None:
        _missing(f"{path} not found: {hint}")
    return str(found)


def require_file(path: Path, hint: str) -> Path:
    """``path``, which an install step made; skips when it is missing (fails under ``CI=true``)."""
    if not path.exists():
        _missing(f"{path.relative_to(REPO)} not found: {hint}")
    return path


def _missing(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def run(
    command: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Runs a command; fails the test with its output when it exits non-zero."""
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="session")
def live_url(live_serve: Command) -> str:
    """The GraphQL URL of the session's ``oneweb-graphql serve`` (default settings)."""
    return live_serve.base_url + "/graphql"
