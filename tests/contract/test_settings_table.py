"""The settings table of ``docs/operations.md`` is the one generated from ``Settings``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server.settings import Settings
from server.settings_table import BEGIN, END, markdown_table, splice

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
CLI = [str(Path(sys.executable).parent / "oneweb-graphql")]


def test_committed_settings_table_is_the_generated_one() -> None:
    text = OPERATIONS.read_text()
    assert splice(text) == text, "the settings table is stale: run `make docs`"


def test_settings_table_lists_every_setting_once() -> None:
    rows = [line for line in markdown_table().splitlines() if line.startswith("| `ONEWEB_")]
    names = [row.split("`")[1] for row in rows]
    assert names == [f"ONEWEB_{name.upper()}" for name in Settings.model_fields]


def test_settings_command_prints_the_table() -> None:
    result = subprocess.run([*CLI, "settings"], capture_output=True, check=True)
    assert result.stdout.decode() == markdown_table()


def test_splice_refuses_a_file_without_the_markers() -> None:
    with pytest.raises(ValueError, match="markers"):
        splice(f"# Operations\n{BEGIN}\nno end marker\n")
    assert END not in markdown_table()
