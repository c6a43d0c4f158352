"""Without Chromium or Playwright the browser tests skip with how to install them, except
under CI=true, where the run fails instead of passing without them."""

from __future__ import annotations

import pytest

from .conftest import INSTALL_HINT, _missing


def test_a_developer_without_chromium_is_told_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        _missing("Chromium")


def test_ci_without_chromium_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as failure:
        _missing("Chromium")
    assert INSTALL_HINT in str(failure.value)
