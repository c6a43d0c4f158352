"""A free loopback port, for a process a test starts that must be told its port in advance.

Prefer port 0 where the server can report the port it got (``serve --port 0`` prints its
URL; the ``serve_factory`` fixture binds port 0 itself): a port found free here can be
taken by someone else before the process binds it.
"""

from __future__ import annotations

import socket

__all__ = ["free_port"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
