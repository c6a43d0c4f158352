"""The documented environment variables configure the facade."""

from __future__ import annotations

import pytest

from server.settings import Settings


def test_defaults_are_the_contract_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "ONEWEB_BASE_URL",
        "ONEWEB_FORWARD_HEADERS",
        "ONEWEB_TIMEOUT_S",
        "ONEWEB_USER_HEADER",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.base_url is None
    assert settings.forwarded_header_names == ("authorization", "cookie")
    assert settings.timeout_s == 10
    assert settings.user_header == "X-Remote-User"
    assert settings.max_concurrency == 64


def test_environment_sets_upstream_headers_and_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEWEB_BASE_URL", "http://bpm.example:8080")
    monkeypatch.setenv("ONEWEB_FORWARD_HEADERS", "Authorization, X-Tenant ,")
    monkeypatch.setenv("ONEWEB_TIMEOUT_S", "2.5")
    settings = Settings()
    assert settings.base_url == "http://bpm.example:8080"
    assert settings.forwarded_header_names == ("authorization", "x-tenant")
    assert settings.timeout_s == 2.5


def test_a_non_positive_timeout_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEWEB_TIMEOUT_S", "0")
    with pytest.raises(ValueError, match="timeout_s"):
        Settings()
