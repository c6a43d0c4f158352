"""Factories for the facade's integration tests: a recording upstream and a facade, both over HTTP.

upstream = upstream_factory(latency_s=0.0)      # the embedded runtime behind a Recorder
facade = facade_factory(upstream.base_url)      # the facade, configured to use it
reply = await facade.execute("{ tasks(group: \\"Clerk\\") { totalCount } }", user="clerk")
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest
from starlette.applications import Starlette

from backend.embedded.app import create_app as create_runtime_app
from backend.embedded.recorder import Recorder
from server.app import create_app
from server.settings import Settings

from .harness import Facade, Upstream

if TYPE_CHECKING:  # the root conftest is not importable at run time, only by pytest
    from tests.conftest import ServeFactory


class UpstreamFactory(Protocol):
    def __call__(
        self, *, latency_s: float = 0.0, processes_dir: Path | None = None
    ) -> Upstream: ...


class FacadeFactory(Protocol):
    def __call__(self, upstream_url: str, **settings: Any) -> Facade: ...


@pytest.fixture
def upstream_factory(tmp_path: Path, serve_factory: ServeFactory) -> Iterator[UpstreamFactory]:
    """Start recording upstreams over fresh databases; closed at teardown."""
    apps: list[Starlette] = []
    recorders: list[Recorder] = []

    def start(*, latency_s: float = 0.0, processes_dir: Path | None = None) -> Upstream:
        app = create_runtime_app(
            db_path=tmp_path / f"upstream-{len(apps)}.sqlite3", processes_dir=processes_dir
        )
        apps.append(app)
        recorder = Recorder(app, latency_s=latency_s)
        recorders.append(recorder)
        return Upstream(serve_factory(recorder), recorder, app)

    yield start
    for recorder in recorders:
        recorder.release()
    for app in apps:
        app.state.runtime.close()


@pytest.fixture
def upstream(upstream_factory: UpstreamFactory) -> Upstream:
    """A recording upstream with the bundled processes."""
    return upstream_factory()


@pytest.fixture
def facade_factory(serve_factory: ServeFactory) -> FacadeFactory:
    """Start facades over real HTTP, each configured with ``Settings(**settings)``.

    These facades let a ``user``, ``group`` or ``role`` argument name anyone
    (``allow_user_override=True``, not the default): most tests act for several users
    through one facade. The identity tests pass ``allow_user_override=False`` or use
    the defaults (``default_facade``).
    """

    def start(upstream_url: str, **settings: Any) -> Facade:
        settings.setdefault("allow_user_override", True)
        return Facade(serve_factory(create_app(Settings(base_url=upstream_url, **settings))))

    return start


@pytest.fixture
def facade(facade_factory: FacadeFactory, upstream: Upstream) -> Facade:
    """A facade in front of ``upstream``."""
    return facade_factory(upstream.base_url)
