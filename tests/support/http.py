"""One TLS context for every HTTP client the tests make.

httpx builds a context for each client it creates, loading the whole CA bundle: ~20 ms
of CPU each, and the suite creates hundreds of clients (seconds of CPU per run). The
tests speak plain HTTP on loopback, so the context verifies nothing here; passing this
one (``httpx.get(url, verify=TLS)``, ``httpx.AsyncClient(verify=TLS)``) only saves
building it again.
"""

from __future__ import annotations

import httpx

__all__ = ["TLS"]

TLS = httpx.create_ssl_context()
