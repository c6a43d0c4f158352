"""``docs/processes.md`` names every user task of the bundled BPMN files with its lane."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from backend.embedded.definitions import BUNDLED_PROCESSES_DIR

DOC = Path(__file__).resolve().parents[2] / "docs" / "processes.md"
BPMN = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}


def _user_tasks(path: Path) -> list[tuple[str, str, str]]:
    """(definitionId, name, lane name) of every user task of the file."""
    tree = etree.parse(str(path))
    lane_of = {
        ref.text: lane.get("name")
        for lane in tree.iterfind(".//bpmn:lane", BPMN)
        for ref in lane.iterfind("bpmn:flowNodeRef", BPMN)
    }
    return [
        (task.get("id"), task.get("name"), lane_of[task.get("id")])
        for task in tree.iterfind(".//bpmn:userTask", BPMN)
    ]


@pytest.mark.parametrize("path", sorted(BUNDLED_PROCESSES_DIR.glob("*.bpmn")), ids=lambda p: p.stem)
def test_every_user_task_is_documented_with_its_group(path: Path) -> None:
    text = DOC.read_text()
    assert f"\n## {path.stem}\n" in text
    section = text.split(f"\n## {path.stem}\n", 1)[1].split("\n## ", 1)[0]
    for definition_id, name, lane in _user_tasks(path):
        assert f"| `{definition_id}` | {name} | `{lane}` |" in section, definition_id
