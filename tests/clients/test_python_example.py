"""examples/python: ariadne-codegen generates a typed client from schema/schema.graphql and
operations.graphql, and that client runs the BookingRoom walkthrough against a live facade."""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path

from .conftest import EXAMPLES, require_file, run

EXAMPLE = EXAMPLES / "python"
# ariadne-codegen needs graphql-core < 3.3 and the facade >= 3.3: make test installs it in a
# venv of its own, beside the project's.
CODEGEN = Path(sys.executable).parents[1] / "ariadne-codegen" / "bin" / "ariadne-codegen"


def _config_into(target: Path) -> Path:
    """The example's codegen config, with absolute paths and ``target`` as the package's home."""
    settings = tomllib.loads((EXAMPLE / "ariadne-codegen.toml").read_text())["tool"][
        "ariadne-codegen"
    ]
    settings["schema_path"] = str((EXAMPLE / settings["schema_path"]).resolve())
    settings["queries_path"] = str(EXAMPLE / settings["queries_path"])
    settings["target_package_path"] = str(target)
    lines = ["[tool.ariadne-codegen]"]
    for name, value in settings.items():
        lines.append(f"{name} = {json.dumps(value)}")  # str and bool: TOML reads JSON's spelling
    config = target / "ariadne-codegen.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def test_the_python_example_generates_a_client_that_runs_the_walkthrough(
    tmp_path: Path, live_url: str
) -> None:
    codegen = require_file(
        CODEGEN, "run make test (its codegen-deps step installs ariadne-codegen)"
    )
    run([str(codegen), "--config", str(_config_into(tmp_path))], cwd=tmp_path)
    assert (tmp_path / "inbox_client" / "client.py").is_file()

    walkthrough = run(
        [sys.executable, str(EXAMPLE / "walkthrough.py"), live_url, "clerk1"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )

    outcome = json.loads(walkthrough.stdout)
    assert outcome["claimedBy"] == "clerk1"
    assert outcome["completedTaskOpen"] is False
    assert outcome["next"] == ["AddCustomerDetails"]
