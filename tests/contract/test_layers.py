"""Imports point one way (DESIGN.md): server -> schema -> resolvers -> backend."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("server", "schema", "resolvers", "backend")
# What each layer may import of the project's own packages.
ALLOWED = {
    "server": {"server", "schema", "resolvers", "backend"},
    "schema": {"schema", "resolvers", "backend"},
    "resolvers": {"resolvers", "backend"},
    "backend": {"backend"},
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _modules(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_imports_only_downward(layer: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(layer)
        for name in _imports(path)
        if name.split(".")[0] in LAYERS and name.split(".")[0] not in ALLOWED[layer]
    ]
    assert wrong == []


def test_embedded_runtime_and_client_never_import_each_other() -> None:
    embedded = sorted((ROOT / "backend" / "embedded").rglob("*.py"))
    assert not any("backend.client" in _imports(path) for path in embedded)
    assert not any(
        name.startswith("backend.embedded") for name in _imports(ROOT / "backend" / "client.py")
    )


def test_only_the_backend_knows_httpx() -> None:
    above = [path for layer in ("server", "schema", "resolvers") for path in _modules(layer)]
    assert [
        str(p.relative_to(ROOT))
        for p in above
        if any(n.split(".")[0] == "httpx" for n in _imports(p))
    ] == []
