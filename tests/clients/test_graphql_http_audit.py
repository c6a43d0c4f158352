"""graphql-http's own GraphQL-over-HTTP audit (the reference servers are graded by) passes whole."""

from __future__ import annotations

import collections
import json

from .conftest import NODE_HINT, REPO, require_file, require_tool, run

AUDIT = REPO / "tests" / "graphql_http_audit"


def test_every_must_and_should_of_the_graphql_over_http_audit_passes(live_url: str) -> None:
    node = require_tool("node", NODE_HINT)
    require_file(AUDIT / "node_modules" / "graphql-http", NODE_HINT)

    results = json.loads(run([node, "audit.mjs", live_url], cwd=AUDIT).stdout)

    levels = collections.Counter(result["name"].split()[0] for result in results)
    assert levels["MUST"] >= 13 and levels["SHOULD"] >= 23, levels  # the audit ran whole
    failing = [
        f"{result['status']} {result['id']} {result['name']}: {result['reason']}"
        for result in results
        if result["status"] != "ok"
    ]
    assert failing == []
