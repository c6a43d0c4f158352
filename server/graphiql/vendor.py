"""Re-fetch GraphiQL's browser files from the npm registry and rewrite ``static/``.

Run ``python -m server.graphiql.vendor`` (or ``make vendor-graphiql``) after changing a
version in ``PACKAGES``. Each tarball is checked against the registry's own sha512
integrity before anything is taken from it; the chosen files and each package's licence
are written under versioned names, and ``manifest.json`` records every file's SRI hash,
which the page puts in ``integrity=`` and a test checks against the files.
"""

from __future__ import annotations

import io
import json
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .assets import MANIFEST, OWN_FILES, STATIC, sri

__all__ = ["PACKAGES", "REGISTRY", "Package", "vendor"]

REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Package:
    """One npm package: the files the page loads (tarball path -> id) and its licence."""

    name: str
    version: str
    #: (path inside the tarball, id the page refers to it by, file name served)
    files: tuple[tuple[str, str, str], ...]
    #: Path of the licence inside the tarball; None: ``licence_from`` holds it.
    licence: str | None = "package/LICENSE"
    #: (package, version, path) to take the licence from when this tarball has none.
    licence_from: tuple[str, str, str] | None = None
    note: str = ""

    @property
    def licence_name(self) -> str:
        return f"{_slug(self.name)}-{self.version}.LICENSE.txt"


# GraphiQL 4 is the last major with a browser (UMD) build; React 18 is the last React with
# one. The explorer plugin and graphql-ws are the versions that go with them.
PACKAGES: tuple[Package, ...] = (
    Package(
        "react",
        "18.3.1",
        (("package/umd/react.production.min.js", "react", "react-18.3.1.production.min.js"),),
    ),
    Package(
        "react-dom",
        "18.3.1",
        (
            (
                "package/umd/react-dom.production.min.js",
                "react-dom",
                "react-dom-18.3.1.production.min.js",
            ),
        ),
    ),
    Package(
        "graphql-ws",
        "6.4.2",
        (("package/umd/graphql-ws.min.js", "graphql-ws", "graphql-ws-6.4.2.min.js"),),
        licence="package/LICENSE.md",
    ),
    Package(
        "graphiql",
        "4.1.2",
        (
            ("package/graphiql.min.js", "graphiql.js", "graphiql-4.1.2.min.js"),
            ("package/graphiql.min.css", "graphiql.css", "graphiql-4.1.2.min.css"),
        ),
    ),
    Package(
        "@graphiql/plugin-explorer",
        "4.0.6",
        (
            ("package/dist/index.umd.js", "explorer.js", "graphiql-plugin-explorer-4.0.6.umd.js"),
            ("package/dist/style.css", "explorer.css", "graphiql-plugin-explorer-4.0.6.css"),
        ),
        licence=None,
        # Its tarball carries no licence file; it is MIT from the same repository as
        # graphiql (github.com/graphql/graphiql), whose licence text is that one.
        licence_from=("graphiql", "4.1.2", "package/LICENSE"),
    ),
    Package(
        "graphiql-explorer",
        "0.9.0",
        (),
        note="bundled inside the explorer plugin's browser build",
    ),
)


def _slug(name: str) -> str:
    return name.lstrip("@").replace("/", "-")


def _get(url: str) -> bytes:
    if not url.startswith(REGISTRY + "/"):
        raise SystemExit(f"{url} is not on {REGISTRY}")
    with urllib.request.urlopen(url, timeout=60) as response:  # raises on 4xx/5xx
        body: bytes = response.read()
        return body


def _tarball(name: str, version: str) -> tarfile.TarFile:
    meta: dict[str, Any] = json.loads(_get(f"{REGISTRY}/{quote(name, safe='@')}/{version}"))
    dist = meta["dist"]
    content = _get(dist["tarball"])
    algorithm, _, _ = dist["integrity"].partition("-")
    if sri(content, algorithm) != dist["integrity"]:
        raise SystemExit(f"{name}@{version}: the tarball does not match the registry's integrity")
    return tarfile.open(fileobj=io.BytesIO(content), mode="r:gz")


def _member(archive: tarfile.TarFile, path: str) -> bytes:
    extracted = archive.extractfile(path)
    if extracted is None:
        raise SystemExit(f"{path} is not a file in the tarball")
    return extracted.read()


def vendor(static: Path = STATIC) -> dict[str, object]:
    """Fetch every package, then rewrite ``static`` with its files and return the manifest.

    Nothing is written until every download has been checked, so a failed run leaves the
    files as they were.
    """
    writes: dict[str, bytes] = {}
    packages: list[dict[str, object]] = []
    for package in PACKAGES:
        archive = _tarball(package.name, package.version)
        files = []
        for member, file_id, served in package.files:
            writes[served] = data = _member(archive, member)
            files.append({"id": file_id, "file": served, "from": member, "integrity": sri(data)})
        if package.licence is not None:
            licence = _member(archive, package.licence)
        else:
            assert package.licence_from is not None
            other, version, path = package.licence_from
            licence = _member(_tarball(other, version), path)
        writes[package.licence_name] = licence
        entry: dict[str, object] = {
            "name": package.name,
            "version": package.version,
            "licence": package.licence_name,
            "files": files,
        }
        if package.note:
            entry["note"] = package.note
        packages.append(entry)
        print(f"{package.name}@{package.version}: {len(files)} file(s)", file=sys.stderr)
    manifest: dict[str, object] = {"registry": REGISTRY, "packages": packages}
    writes[MANIFEST] = (json.dumps(manifest, indent=2) + "\n").encode()
    static.mkdir(parents=True, exist_ok=True)
    for stale in static.iterdir():
        if stale.name not in OWN_FILES.values() and stale.name not in writes:
            stale.unlink()
    for name, content in writes.items():
        (static / name).write_bytes(content)
    return manifest


if __name__ == "__main__":
    vendor()
