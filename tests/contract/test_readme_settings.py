"""The README's ``## Settings`` table lists every setting of ``server/settings.py``, and only those."""

from __future__ import annotations

import re
from pathlib import Path

from server.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def _settings_table() -> set[str]:
    text = README.read_text()
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(ONEWEB_[A-Z0-9_]+)` \|", section, flags=re.MULTILINE))


def test_every_setting_is_in_the_readme_settings_table() -> None:
    expected = {f"ONEWEB_{name.upper()}" for name in Settings.model_fields}
    assert _settings_table() == expected
