"""GraphiQL's browser files, served by the facade itself under ``/graphiql/static/``.

The vendored files keep their versioned names and the SRI hashes ``manifest.json``
records for them (``vendor.py`` writes both); the facade's own script and style sheet are
served under names that carry their content hash. Every name therefore changes when its
content does, so each response may be cached for a year.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

__all__ = ["MANIFEST", "OWN_FILES", "STATIC", "STATIC_PREFIX", "Asset", "Assets", "sri"]

#: The files, as ``vendor.py`` writes them, and the facade's own two.
STATIC = Path(__file__).parent / "static"
#: What ``vendor.py`` fetched: packages, versions, files, licences and SRI hashes.
MANIFEST = "manifest.json"

#: Where the files are served, under the facade's root.
STATIC_PREFIX = "/graphiql/static"
#: The facade's own files, by the id the page refers to them with.
OWN_FILES = {"oneweb.js": "oneweb-graphiql.js", "oneweb.css": "oneweb-graphiql.css"}
CACHE_FOREVER = "public, max-age=31536000, immutable"
_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


def sri(data: bytes, algorithm: str = "sha384") -> str:
    """The Subresource Integrity value of ``data`` (``sha384-<base64>``)."""
    digest = hashlib.new(algorithm, data).digest()
    return f"{algorithm}-{base64.b64encode(digest).decode()}"


@dataclass(frozen=True)
class Asset:
    """One file the browser may fetch: its served name, its bytes and their SRI hash."""

    name: str
    content: bytes
    integrity: str

    @property
    def url(self) -> str:
        return f"{STATIC_PREFIX}/{self.name}"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[Path(self.name).suffix]

    @cached_property
    def gzipped(self) -> bytes:
        """The content gzipped, once, on first use (GraphiQL's bundle shrinks to a third)."""
        return gzip.compress(self.content, mtime=0)


class Assets:
    """The files of one ``static`` folder, read once: by page id, and by served name."""

    def __init__(self, static: Path = STATIC) -> None:
        manifest = json.loads((static / MANIFEST).read_text())
        self.packages: list[dict[str, object]] = manifest["packages"]
        self.by_id: dict[str, Asset] = {}
        by_name: dict[str, Asset] = {}
        for package in manifest["packages"]:
            for entry in package["files"]:
                # The manifest's hash, not one computed here: a file that does not match it
                # is refused by the browser instead of run.
                asset = Asset(
                    entry["file"], (static / entry["file"]).read_bytes(), entry["integrity"]
                )
                self.by_id[entry["id"]] = by_name[asset.name] = asset
            licence = (static / package["licence"]).read_bytes()
            by_name[package["licence"]] = Asset(package["licence"], licence, sri(licence))
        for file_id, file_name in OWN_FILES.items():
            content = (static / file_name).read_bytes()
            stem, suffix = file_name.rsplit(".", 1)
            name = f"{stem}.{hashlib.sha256(content).hexdigest()[:16]}.{suffix}"
            self.by_id[file_id] = by_name[name] = Asset(name, content, sri(content))
        self.by_name = by_name

    async def endpoint(self, request: Request) -> Response:
        """``GET /graphiql/static/{name}``: the file, gzipped where the browser accepts it,
        cacheable for a year; else 404."""
        asset = self.by_name.get(request.path_params["name"])
        if asset is None:
            return PlainTextResponse("Not Found", status_code=404)
        headers = {
            "Cache-Control": CACHE_FOREVER,
            "X-Content-Type-Options": "nosniff",
            "Vary": "Accept-Encoding",
        }
        content = asset.content
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            content = asset.gzipped
            headers["Content-Encoding"] = "gzip"
        return Response(content, media_type=asset.media_type, headers=headers)
