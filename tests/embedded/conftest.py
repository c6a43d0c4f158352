"""Fixtures of the embedded runtime's tests: a running runtime and a REST client to it."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from backend.embedded.definitions import BUNDLED_PROCESSES_DIR
from tests.support.http import TLS

from .rest import Rest

if TYPE_CHECKING:  # the root conftest is not importable at run time, only by pytest
    from tests.conftest import RunningRuntime, RuntimeFactory


@pytest.fixture
def runtime(runtime_factory: RuntimeFactory) -> RunningRuntime:
    """A runtime with the bundled processes, over a fresh database."""
    return runtime_factory()


@pytest.fixture
async def rest(runtime: RunningRuntime) -> AsyncIterator[Rest]:
    """A REST client to ``runtime``, over a real socket."""
    async with httpx.AsyncClient(base_url=runtime.base_url, verify=TLS) as client:
        yield Rest(client)


@pytest.fixture
def processes_dir(tmp_path: Path) -> Path:
    """A writable copy of the bundled processes folder."""
    folder = tmp_path / "processes"
    shutil.copytree(BUNDLED_PROCESSES_DIR, folder)
    return folder


@pytest.fixture
async def copy_rest(runtime_factory: RuntimeFactory, processes_dir: Path) -> AsyncIterator[Rest]:
    """A REST client to a runtime serving ``processes_dir``, which the test may edit."""
    runtime = runtime_factory(processes_dir=processes_dir)
    async with httpx.AsyncClient(base_url=runtime.base_url, verify=TLS) as client:
        yield Rest(client)
