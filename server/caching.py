"""HTTP cache headers of GraphQL answers, so that a CDN may keep what is the same for everyone.

Only a ``GET`` (a query: mutations never run over GET) that carries no credentials and
was answered 200 without errors is public: ``Cache-Control: public, max-age=N``. A
request with credentials (``Authorization``, ``Cookie``, the trusted identity headers)
gets ``private, no-store``, because its answer is that caller's own; so does an answer
with errors, which may be a passing upstream failure. ``Vary`` names every header the
answer depends on, so that a cache never hands the anonymous answer to a caller who
sent credentials.

>>> policy = CachePolicy(max_age_s=60, credential_headers=("authorization", "cookie"))
>>> policy.headers(method="GET", request_headers=request.headers, status=200, has_errors=False)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

__all__ = ["DEFAULT_CACHE_MAX_AGE_S", "NO_STORE", "CachePolicy"]

DEFAULT_CACHE_MAX_AGE_S: Final = 60
NO_STORE: Final = "private, no-store"


class CachePolicy:
    """Decides the ``Cache-Control`` and ``Vary`` of one GraphQL answer."""

    def __init__(self, *, max_age_s: int, credential_headers: Iterable[str]) -> None:
        self.max_age_s = max_age_s
        #: Lower-cased names of the request headers that make an answer someone's own.
        self.credential_headers = tuple(dict.fromkeys(name.lower() for name in credential_headers))
        self._vary = ", ".join(["Accept", *(_title(name) for name in self.credential_headers)])

    def headers(
        self, *, method: str, request_headers: Mapping[str, str], status: int, has_errors: bool
    ) -> dict[str, str]:
        """The cache headers of the answer; none for a ``POST`` (never cached by default)."""
        if method != "GET":
            return {}
        credentials = any(name in request_headers for name in self.credential_headers)
        if credentials or status != 200 or has_errors or self.max_age_s <= 0:
            return {"Cache-Control": NO_STORE, "Vary": self._vary}
        return {"Cache-Control": f"public, max-age={self.max_age_s}", "Vary": self._vary}


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))
