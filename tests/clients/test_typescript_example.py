"""examples/typescript: graphql-codegen's client preset generates it from schema/schema.graphql,
``tsc --strict`` accepts it, its committed manifest is what the preset emits, and the compiled
client runs the BookingRoom walkthrough against a facade that runs only that manifest."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.processes import launch

from .conftest import EXAMPLES, NODE_HINT, require_file, require_tool, run

EXAMPLE = EXAMPLES / "typescript"
BIN = EXAMPLE / "node_modules" / ".bin"


def test_the_typescript_example_generates_type_checks_and_runs_on_trusted_documents(
    tmp_path: Path,
) -> None:
    node = require_tool("node", NODE_HINT)
    codegen = require_file(BIN / "graphql-codegen", NODE_HINT)
    tsc = require_file(BIN / "tsc", NODE_HINT)

    manifest = EXAMPLE / "persisted-documents.json"
    # One test, because each step builds on the files the previous one wrote; the facade
    # starts first so that its start overlaps the build.
    served = launch(
        tmp_path, "serve", "--port", "0", env={"ONEWEB_TRUSTED_DOCUMENTS": str(manifest)}
    )
    try:
        run([str(codegen), "--config", "codegen.ts"], cwd=EXAMPLE)
        emitted = json.loads((EXAMPLE / "src" / "gql" / "persisted-documents.json").read_text())
        assert emitted == json.loads(manifest.read_text()), (
            "examples/typescript/persisted-documents.json is stale: run `npm run codegen` "
            "there and commit it"
        )
        run([str(tsc), "--strict", "-p", "."], cwd=EXAMPLE)
        url = served.base_url + "/graphql"
        walkthrough = run([node, "dist/main.js", url, "clerk1"], cwd=EXAMPLE)
    finally:
        served.kill()

    outcome = json.loads(walkthrough.stdout)
    assert outcome["claimed"] == "clerk1"
    assert outcome["next"] == ["AddCustomerDetails"]
