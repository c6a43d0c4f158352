"""GraphiQL from the facade itself: vendored files with their licences and SRI hashes, long
cache headers, a strict Content-Security-Policy, and the demo identity only when embedded."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from server.app import create_app
from server.graphiql.assets import MANIFEST, STATIC, STATIC_PREFIX
from server.graphiql.page import DEFAULT_QUERY
from server.graphiql.vendor import PACKAGES
from server.settings import Settings
from tests.support.http import TLS

from .conftest import FacadeFactory
from .harness import Upstream

if TYPE_CHECKING:  # the root conftest is not importable at run time, only by pytest
    from tests.conftest import ServeFactory

ROOT = Path(__file__).resolve().parents[2]
BROWSER = {"Accept": "text/html"}
_REFERENCE = re.compile(r'(?:src|href)="([^"]*)"(?: integrity="([^"]*)")?')


def _manifest() -> dict[str, object]:
    manifest: dict[str, object] = json.loads((STATIC / MANIFEST).read_text())
    return manifest


def _sri(data: bytes, algorithm: str) -> str:
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def test_every_vendored_file_matches_its_integrity_hash() -> None:
    files = [entry for package in _manifest()["packages"] for entry in package["files"]]
    assert len(files) == 7
    for entry in files:
        algorithm = entry["integrity"].split("-", 1)[0]
        assert algorithm in {"sha384", "sha512"}
        assert _sri((STATIC / entry["file"]).read_bytes(), algorithm) == entry["integrity"], entry


def test_the_manifest_pins_what_the_vendor_script_fetches_each_with_its_licence() -> None:
    packages = _manifest()["packages"]
    assert [(p["name"], p["version"]) for p in packages] == [(p.name, p.version) for p in PACKAGES]
    for package in packages:
        licence = (STATIC / package["licence"]).read_text()
        assert "MIT License" in licence or "Permission is hereby granted" in licence, package
        for entry in package["files"]:
            assert package["version"] in entry["file"], "a vendored name carries its version"


def test_every_static_file_is_accounted_for_and_in_the_wheel() -> None:
    named = {MANIFEST, "oneweb-graphiql.js", "oneweb-graphiql.css"}
    for package in _manifest()["packages"]:
        named.add(package["licence"])
        named.update(entry["file"] for entry in package["files"])
    assert {path.name for path in STATIC.iterdir()} == named
    # The package data globs of pyproject.toml pick up every one of them.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["server.graphiql"]
    packaged = {path.name for glob in globs for path in STATIC.parent.glob(glob)}
    assert packaged == named


@pytest.fixture
def embedded_url(serve_factory: ServeFactory, tmp_path: Path) -> str:
    """A facade with the embedded runtime, as ``oneweb-graphql serve`` starts it."""
    return serve_factory(create_app(Settings(db=tmp_path / "runtime.db")))


async def test_the_page_loads_only_files_of_this_facade_and_each_matches_its_hash(
    embedded_url: str,
) -> None:
    async with httpx.AsyncClient(base_url=embedded_url, verify=TLS) as client:
        page = await client.get("/graphql", headers=BROWSER)
        assert page.status_code == 200
        references = _REFERENCE.findall(page.text)
        loaded = [(url, integrity) for url, integrity in references if not url.startswith("data:")]
        assert len(loaded) == 9  # 5 vendored scripts, 2 vendored style sheets, 2 of our own
        for url, integrity in loaded:
            assert url.startswith(STATIC_PREFIX + "/"), url
            assert integrity, f"{url} has no integrity hash"
            reply = await client.get(url)
            assert reply.status_code == 200, url
            assert reply.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert reply.headers["x-content-type-options"] == "nosniff"
            assert reply.headers["content-encoding"] == "gzip"
            assert reply.headers["content-type"].startswith(
                "text/javascript" if url.endswith(".js") else "text/css"
            )
            assert _sri(reply.content, "sha384") == integrity, url
        assert "unpkg.com" not in page.text and "cdn" not in page.text.lower()


async def test_the_facades_own_files_are_served_under_their_content_hash(
    embedded_url: str,
) -> None:
    async with httpx.AsyncClient(base_url=embedded_url, verify=TLS) as client:
        page = (await client.get("/graphql", headers=BROWSER)).text
        for name in ("oneweb-graphiql.js", "oneweb-graphiql.css"):
            content = (STATIC / name).read_bytes()
            stem, suffix = name.rsplit(".", 1)
            hashed = f"{stem}.{hashlib.sha256(content).hexdigest()[:16]}.{suffix}"
            assert f'"{STATIC_PREFIX}/{hashed}"' in page
            # Only the hashed name is served: a cached copy can never be stale.
            assert (await client.get(f"{STATIC_PREFIX}/{name}")).status_code == 404


async def test_a_client_that_accepts_no_gzip_gets_the_file_as_it_is(embedded_url: str) -> None:
    name = "graphiql-4.1.2.min.js"
    async with httpx.AsyncClient(base_url=embedded_url, verify=TLS) as client:
        reply = await client.get(f"{STATIC_PREFIX}/{name}", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in reply.headers
    assert reply.content == (STATIC / name).read_bytes()
    assert int(reply.headers["content-length"]) == len(reply.content)


async def test_licences_are_served_beside_the_files(embedded_url: str) -> None:
    async with httpx.AsyncClient(base_url=embedded_url, verify=TLS) as client:
        reply = await client.get(f"{STATIC_PREFIX}/react-18.3.1.LICENSE.txt")
    assert reply.status_code == 200
    assert "Meta Platforms" in reply.text or "Facebook" in reply.text


@pytest.mark.parametrize(
    "name",
    [
        "missing.js",
        "..%2Fpage.py",
        "manifest.json",  # the manifest is for the server, not the browser
        "..%2F..%2Fsettings.py",
    ],
)
async def test_nothing_else_is_served_from_the_static_path(embedded_url: str, name: str) -> None:
    async with httpx.AsyncClient(base_url=embedded_url, verify=TLS) as client:
        reply = await client.get(f"{STATIC_PREFIX}/{name}")
    assert reply.status_code == 404


async def test_the_page_has_a_strict_content_security_policy(embedded_url: str) -> None:
    async with httpx.AsyncClient(base_url=embedded_url, verify=TLS) as client:
        first = await client.get("/graphql", headers=BROWSER)
        second = await client.get("/graphql", headers=BROWSER)
    policy = first.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    host = httpx.URL(embedded_url).netloc.decode()
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == f"'self' ws://{host} wss://{host}"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    # No inline script at all: the one <script> without src is a JSON data block.
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", first.text)
    assert inline == [' type="application/json" id="graphiql-config"']
    # The style nonce is fresh for every response and the page carries the same one.
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce is not None and f'content="{nonce.group(1)}"' in first.text
    assert nonce.group(1) not in second.headers["content-security-policy"]


@pytest.mark.parametrize("host", ["evil.example; script-src *", "a b", "x'y", "h:1 wss://evil"])
async def test_a_hostile_host_header_never_reaches_the_policy(embedded_url: str, host: str) -> None:
    async with httpx.AsyncClient(base_url=embedded_url, verify=TLS) as client:
        reply = await client.get("/graphql", headers={**BROWSER, "Host": host})
    assert reply.status_code == 200
    policy = reply.headers["content-security-policy"]
    assert "connect-src 'self';" in policy
    assert "evil" not in policy and "*" not in policy


async def test_the_embedded_runtime_prefills_the_demo_identity_and_the_inbox(
    embedded_url: str,
) -> None:
    async with httpx.AsyncClient(base_url=embedded_url, verify=TLS) as client:
        page = (await client.get("/graphql", headers=BROWSER)).text
    config = json.loads(re.search(r'id="graphiql-config">(.*?)</script>', page).group(1))
    assert config["defaultQuery"] == DEFAULT_QUERY
    assert json.loads(config["defaultHeaders"]) == {
        "X-Remote-User": "alice",
        "X-Remote-Groups": "Clerk,Employee,HR",
    }


async def test_the_demo_identity_uses_the_configured_header_names(
    serve_factory: ServeFactory, tmp_path: Path
) -> None:
    settings = Settings(db=tmp_path / "runtime.db", user_header="X-User", groups_header="X-Teams")
    async with httpx.AsyncClient(
        base_url=serve_factory(create_app(settings)), verify=TLS
    ) as client:
        page = (await client.get("/graphql", headers=BROWSER)).text
    config = json.loads(re.search(r'id="graphiql-config">(.*?)</script>', page).group(1))
    assert json.loads(config["defaultHeaders"]) == {
        "X-User": "alice",
        "X-Teams": "Clerk,Employee,HR",
    }


async def test_a_facade_over_a_real_upstream_prefills_no_identity(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url)
    async with httpx.AsyncClient(base_url=facade.base_url, verify=TLS) as client:
        page = (await client.get("/graphql", headers=BROWSER)).text
    config = json.loads(re.search(r'id="graphiql-config">(.*?)</script>', page).group(1))
    assert config["defaultHeaders"] is None
    assert "alice" not in page and "X-Remote-Groups" not in page


async def test_graphiql_off_serves_neither_the_page_nor_its_files(
    facade_factory: FacadeFactory, upstream: Upstream
) -> None:
    facade = facade_factory(upstream.base_url, graphiql=False)
    async with httpx.AsyncClient(base_url=facade.base_url, verify=TLS) as client:
        page = await client.get("/graphql", headers=BROWSER)
        asset = await client.get(f"{STATIC_PREFIX}/react-18.3.1.production.min.js")
    assert page.status_code >= 400 and "graphiql" not in page.text.lower()
    assert asset.status_code == 404
