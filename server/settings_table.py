"""The Markdown table of every setting, generated from ``Settings`` so that the docs cannot drift.

``docs/operations.md`` holds it between two markers; ``make docs`` rewrites it there and a
test fails when the committed table differs. ``oneweb-graphql settings`` prints it.

>>> print(markdown_table().splitlines()[0])
| env var | default | meaning |
"""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic.fields import FieldInfo

from .settings import Settings

__all__ = ["BEGIN", "END", "markdown_table", "splice"]

BEGIN = "<!-- settings table: generated from server/settings.py by `make docs`; do not edit -->"
END = "<!-- end of the settings table -->"


def _default(field: FieldInfo) -> str:
    value = field.default
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "empty" if value == "" else f"`{value}`"


def markdown_table() -> str:
    """Every setting: its environment variable, its default and what it means."""
    prefix = Settings.model_config.get("env_prefix", "")
    rows = ["| env var | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{prefix}{name.upper()}` | {_default(field)} | {meaning} |")
    return "\n".join(rows) + "\n"


def splice(text: str) -> str:
    """``text`` with the part between ``BEGIN`` and ``END`` replaced by the current table."""
    head, found, rest = text.partition(BEGIN + "\n")
    _, found_end, tail = rest.partition(END)
    if not (found and found_end):
        raise ValueError("the settings table markers are missing")
    return f"{head}{BEGIN}\n{markdown_table()}{END}{tail}"


def main(paths: list[str]) -> int:
    """Rewrite the table in each file named (``python -m server.settings_table FILE…``)."""
    for name in paths:
        path = Path(name)
        path.write_text(splice(path.read_text()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
