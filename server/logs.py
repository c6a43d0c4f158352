"""The facade's log output: one line per record, JSON or plain text, stamped with the request id.

Configured once per process, at the edge (``create_app_from_env``). What the facade
logs holds no header value and no GraphQL variable; the HTTP client libraries, which
log upstream URLs (query values such as user names) at INFO, are kept at WARNING.
"""

from __future__ import annotations

import logging
import sys
from typing import IO, Final

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from .trace import current_trace

__all__ = ["RequestIdFilter", "TextFormatter", "configure_logging"]

#: Libraries whose INFO and DEBUG records carry upstream URLs or wire details, and
#: SpiffWorkflow's line per task state change in the embedded runtime.
_CHATTY_LOGGERS: Final = ("httpx", "httpcore", "aiohttp", "hpack", "spiff")
_TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s %(message)s"
_JSON_FIELDS: Final = "%(levelname)s %(name)s %(message)s"
_RESERVED: Final = frozenset(RESERVED_ATTRS)
# Marks the handler this module installs, so that configuring again replaces it.
_OURS: Final = "_oneweb_graphql_handler"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (the current request's, or None) to records that lack one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            trace = current_trace()
            record.request_id = None if trace is None else trace.request_id
        return True


class TextFormatter(logging.Formatter):
    """Plain text for people: the usual line, then each extra field as ``key=value``."""

    def __init__(self) -> None:
        super().__init__(_TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [
            f"{key}={value}"
            for key, value in record.__dict__.items()
            if key not in _RESERVED and value is not None
        ]
        return " ".join([line, *extras]) if extras else line


def configure_logging(*, level: str, json: bool, stream: IO[str] | None = None) -> logging.Handler:
    """Send every record at ``level`` or above to ``stream`` (stderr), one line each.

    Replaces the handler an earlier call installed; returns the new one.

        configure_logging(level="INFO", json=True)
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            _JSON_FIELDS,
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",  # ISO 8601, UTC
        )
        if json
        else TextFormatter()
    )
    handler.addFilter(RequestIdFilter())
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    quiet = max(logging.WARNING, logging.getLevelName(level))
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
    return handler
