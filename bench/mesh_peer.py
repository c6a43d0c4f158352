"""GraphQL Mesh as the bench's peer: installed once with ``npm ci``, built and served per run.

``bench/mesh/`` holds an exact-pinned ``package.json`` and its ``package-lock.json``; the
first run installs them into ``~/.cache/oneweb-graphql/mesh-<hash of the lockfile>/`` (outside
the repository, reused by later runs and other checkouts). Each run copies the config there,
``mesh build``s it against the canned upstream's ``/BPMREST/openapi.json`` (the embedded
runtime's own description, recorded by the snapshot) and ``mesh start``s one process.
Without node or npm, ``MeshUnavailable`` says why, and the bench runs without this peer.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from .processes import STARTUP_TIMEOUT_S, _stop, cpu_seconds, free_port

__all__ = ["HERE", "Mesh", "MeshUnavailable", "install"]

HERE = Path(__file__).resolve().parent / "mesh"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "oneweb-graphql"
_CONFIG_FILES = (".meshrc.yaml", "resolvers.js")
#: ``mesh start`` compiles the built artifacts on start; on a busy 2-CPU machine it takes a while.
_MESH_STARTUP_S = max(STARTUP_TIMEOUT_S, 60.0)


class MeshUnavailable(RuntimeError):
    """GraphQL Mesh cannot run here (no node, no npm, or its install failed)."""


def install() -> Path:
    """The folder with Mesh's ``node_modules``, installing it with ``npm ci`` on first use."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise MeshUnavailable(
            "node and npm are not installed (Debian: apt-get install nodejs npm): "
            "running without the GraphQL Mesh peer"
        )
    lock = (HERE / "package-lock.json").read_bytes()
    folder = CACHE / f"mesh-{hashlib.sha256(lock).hexdigest()[:16]}"
    if (folder / "node_modules" / ".bin" / "mesh").exists():
        return folder
    print(f"mesh: npm ci into {folder} (first run only) ...", flush=True)
    staging = Path(tempfile.mkdtemp(prefix="mesh-", dir=_ensure(CACHE)))
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copy(HERE / name, staging / name)
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=staging,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise MeshUnavailable(f"npm ci failed: {done.stderr.strip()[-800:]}")
        if folder.exists():  # another run finished first
            shutil.rmtree(staging)
        else:
            staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Mesh:
    """``mesh build`` then ``mesh start`` (one process, ``NODE_ENV=production``) until ``stop``."""

    def __init__(self, upstream: str, *, log: Path | None = None) -> None:
        installed = install()
        # A run folder below the install, so that node finds node_modules from it.
        self.folder = Path(tempfile.mkdtemp(prefix="run-", dir=installed))
        for name in _CONFIG_FILES:
            shutil.copy(HERE / name, self.folder / name)
        mesh = str(installed / "node_modules" / ".bin" / "mesh")
        env = {**os.environ, "ONEWEB_UPSTREAM": upstream, "NODE_ENV": "production"}
        self._log = open(log or os.devnull, "ab")
        try:
            built = subprocess.run(
                [mesh, "build"], cwd=self.folder, env=env, capture_output=True, text=True
            )
            schema = self.folder / ".mesh" / "schema.graphql"
            if built.returncode != 0 or "tasks(" not in _read(schema):
                raise RuntimeError(f"mesh build failed: {(built.stdout + built.stderr)[-1500:]}")
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self.process = subprocess.Popen(
                [mesh, "start", "--port", str(self.port)],
                cwd=self.folder,
                env=env,
                stdout=self._log,
                stderr=self._log,
            )
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + _MESH_STARTUP_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mesh start exited with {self.process.returncode}")
            try:
                reply = httpx.post(self.graphql, json={"query": "{ __typename }"}, timeout=5)
                if reply.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("mesh start did not answer")

    @property
    def graphql(self) -> str:
        return self.url + "/graphql"

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def post(self, body: str, headers: dict[str, str]) -> dict[str, Any]:
        reply = httpx.post(
            self.graphql,
            content=body,
            headers={"content-type": "application/json", **headers},
            timeout=60,
        )
        reply.raise_for_status()
        result: dict[str, Any] = reply.json()
        return result

    def stop(self) -> None:
        process = getattr(self, "process", None)
        if process is not None:
            _stop(process)
        self._log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
