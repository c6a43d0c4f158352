"""Imports point one way: server -> schema -> resolvers -> backend, and no module imports itself."""

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


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(path: Path, known: set[str]) -> set[str]:
    """The project modules ``path`` imports when it runs (function-local imports too; what an
    ``if TYPE_CHECKING:`` block imports is for the type checker only)."""
    package = (
        _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    )
    found: set[str] = set()
    pending: list[ast.AST] = [ast.parse(path.read_text(), filename=str(path))]
    while pending:
        node = pending.pop()
        if _is_type_checking_block(node):
            continue
        pending.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            candidates = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(name for name in candidates if name in known)
    return found


def test_no_module_imports_itself_through_others() -> None:
    paths = [path for layer in LAYERS for path in _modules(layer)]
    known = {_module_name(path) for path in paths}
    graph = {_module_name(path): _runtime_imports(path, known) for path in paths}

    def reaches(start: str, goal: str) -> bool:
        seen, pending = set(), list(graph[start])
        while pending:
            module = pending.pop()
            if module == goal:
                return True
            if module not in seen:
                seen.add(module)
                pending.extend(graph.get(module, ()))
        return False

    cycles = sorted(
        f"{module} <-> {other}"
        for module, imported in graph.items()
        for other in imported
        if other != module
        and not other.startswith(f"{module}.")
        and reaches(other, module)
        and not module.startswith(f"{other}.")
    )
    assert cycles == []
