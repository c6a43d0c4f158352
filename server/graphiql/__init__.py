"""GraphiQL served from the facade itself: the page, its vendored files, and the script
that re-fetches them (``python -m server.graphiql.vendor``)."""

from __future__ import annotations

from .assets import STATIC_PREFIX, Assets
from .page import GraphiQLPage

__all__ = ["STATIC_PREFIX", "Assets", "GraphiQLPage"]
