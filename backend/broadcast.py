"""The broadcast channel of the live inbox: which task listings changed, told to every replica.

A ``Hint`` names the listings (``("user" | "group" | "role", name)``) that a change
touched, or ``None`` for "any listing" when the touched set cannot be known. A replica
that has one of them active re-polls it at once; a hint carries no task data, so a hostile
or stale hint costs at most a few early polls.

``MemoryBroadcast`` (the default, ``memory://``) reaches the listeners of this process.
``RedisBroadcast`` (``redis://HOST:PORT/DB``) uses Redis pub/sub through ``redis.asyncio``,
so every replica behind a load balancer hears every other. Messages from Redis are
untrusted: ``decode_hint`` refuses anything that is not a small, well-formed hint, and the
listener drops it with a log line. A listener whose Redis goes away reconnects with
backoff and, once back, yields ``Hint(None)`` (it may have missed hints while away).

    broadcast = open_broadcast("redis://127.0.0.1:6379/0")
    await broadcast.publish(Hint(frozenset({("group", "Clerk")})))
    async for hint in broadcast.listen(): ...
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol, cast
from urllib.parse import urlsplit

import orjson

from .limits import InputRefused, check_name

__all__ = [
    "MAX_HINT_BYTES",
    "MAX_HINT_KEYS",
    "Broadcast",
    "Hint",
    "HintKey",
    "MalformedHint",
    "MemoryBroadcast",
    "RedisBroadcast",
    "decode_hint",
    "encode_hint",
    "open_broadcast",
    "redacted_url",
]

log = logging.getLogger("oneweb_graphql.broadcast")

#: A listing a hint names: ``("user" | "group" | "role", name)``.
HintKey = tuple[Literal["user", "group", "role"], str]
_KINDS: Final = frozenset({"user", "group", "role"})
#: A hint with more keys than this is sent as "any listing"; one received is refused.
MAX_HINT_KEYS: Final = 256
#: A received message longer than this is refused before it is parsed.
MAX_HINT_BYTES: Final = 128 * 1024
#: The format's version, the ``v`` of every message.
_VERSION: Final = 1
#: Seconds a publish may take before it is given up (the poll interval covers it).
PUBLISH_TIMEOUT_S: Final = 1.0
#: The listener's reconnection backoff: first wait, and the longest.
RECONNECT_FIRST_S: Final = 0.1
RECONNECT_MAX_S: Final = 5.0
#: How often an idle subscription pings Redis; twice this long without a word from Redis,
#: the connection is taken for dead (a hung server, a network that drops packets silently).
HEALTH_CHECK_S: Final = 10.0
#: At most one log line per this many seconds about ignored messages (a flood stays a trickle).
IGNORED_LOG_EVERY_S: Final = 10.0


class MalformedHint(ValueError):
    """A broadcast message that is not a well-formed hint; the listener ignores it."""


@dataclass(frozen=True, slots=True)
class Hint:
    """Listings a change touched (``keys``), or any listing (``keys is None``).

    ``origin`` names the hub that published it, so that a hub can skip its own hints.
    """

    keys: frozenset[HintKey] | None
    origin: str = ""

    @classmethod
    def of(cls, keys: Iterable[HintKey] | None, *, origin: str = "") -> Hint:
        """A hint for ``keys``; too many keys for one message become "any listing"."""
        if keys is None:
            return cls(None, origin)
        unique = frozenset(keys)
        return cls(None if len(unique) > MAX_HINT_KEYS else unique, origin)


def encode_hint(hint: Hint) -> bytes:
    """The message of a hint: ``{"v": 1, "origin": "...", "keys": [[kind, name], ...]}``,
    ``"keys": null`` for any listing."""
    keys = None if hint.keys is None else sorted([kind, name] for kind, name in hint.keys)
    return orjson.dumps({"v": _VERSION, "origin": hint.origin, "keys": keys})


def decode_hint(data: bytes | str) -> Hint:
    """The hint in a message; ``MalformedHint`` for anything else (wrong type, too long,
    unknown version or kind, a name over the limits of ``backend.limits``)."""
    if len(data) > MAX_HINT_BYTES:
        raise MalformedHint(f"message of {len(data)} bytes, over {MAX_HINT_BYTES}")
    try:
        message: Any = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise MalformedHint("message is not JSON") from None
    if not isinstance(message, dict) or message.get("v") != _VERSION:
        raise MalformedHint("message is not a version 1 hint object")
    origin = message.get("origin", "")
    if not isinstance(origin, str) or len(origin) > 64:
        raise MalformedHint("`origin` must be a short string")
    raw_keys = message.get("keys")
    if raw_keys is None:
        return Hint(None, origin)
    if not isinstance(raw_keys, list) or len(raw_keys) > MAX_HINT_KEYS:
        raise MalformedHint(f"`keys` must be a list of at most {MAX_HINT_KEYS} pairs, or null")
    keys: set[HintKey] = set()
    for pair in raw_keys:
        if not (isinstance(pair, list) and len(pair) == 2 and pair[0] in _KINDS):
            raise MalformedHint('each key must be ["user" | "group" | "role", name]')
        if not isinstance(pair[1], str):
            raise MalformedHint("a key's name must be a string")
        try:
            check_name("name", pair[1])
        except InputRefused as refused:
            raise MalformedHint(refused.message) from None
        keys.add((pair[0], pair[1]))
    return Hint(frozenset(keys), origin)


def redacted_url(url: str) -> str:
    """``url`` without its user and password, for log lines."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


class Broadcast(Protocol):
    """Where hints are published and heard; every hint published reaches every listener."""

    async def publish(self, hint: Hint) -> None:
        """Send ``hint`` to every listener; raises where the channel cannot take it now."""

    def listen(self) -> AsyncIterator[Hint]:
        """Every hint published from now on, until cancelled; never raises on a bad message
        or a lost connection (it logs, reconnects and goes on)."""

    async def aclose(self) -> None:
        """Release the channel's connections."""


class MemoryBroadcast:
    """The in-process channel: hints reach the listeners of this process only."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[Hint]] = set()

    async def publish(self, hint: Hint) -> None:
        for queue in self._queues:
            queue.put_nowait(hint)

    async def listen(self) -> AsyncIterator[Hint]:
        queue: asyncio.Queue[Hint] = asyncio.Queue()
        self._queues.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)

    async def aclose(self) -> None:
        self._queues.clear()


class RedisBroadcast:
    """Redis pub/sub: one channel per Redis database number, shared by every replica."""

    def __init__(self, url: str, *, health_check_s: float = HEALTH_CHECK_S) -> None:
        import redis.asyncio

        self.where = redacted_url(url)
        # Pub/sub ignores the database number: it names the channel instead, so that
        # deployments sharing one Redis on different databases do not hear each other.
        db = urlsplit(url).path.strip("/") or "0"
        self.channel = f"oneweb-graphql:live:{db}"
        self._redis = redis.asyncio.from_url(url, socket_connect_timeout=PUBLISH_TIMEOUT_S)
        self._health_check_s = health_check_s
        self._errors = (redis.exceptions.RedisError, OSError)
        self._ignored = 0
        self._ignored_logged_at = -IGNORED_LOG_EVERY_S

    async def publish(self, hint: Hint) -> None:
        async with asyncio.timeout(PUBLISH_TIMEOUT_S):
            await self._redis.publish(self.channel, encode_hint(hint))

    async def listen(self) -> AsyncIterator[Hint]:
        delay = RECONNECT_FIRST_S
        lost = False
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    if lost:
                        log.info("live broadcast %s: back", self.where)
                        lost, delay = False, RECONNECT_FIRST_S
                        yield Hint(None)  # hints sent while away are lost: re-poll everything
                    async for hint in self._hints(pubsub):
                        yield hint
            except self._errors as error:
                if not lost:
                    log.warning(
                        "live broadcast %s unreachable (%s); polling goes on, reconnecting",
                        self.where,
                        type(error).__name__,
                    )
                lost = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)

    async def _hints(self, pubsub: Any) -> AsyncIterator[Hint]:
        """The hints on a subscribed connection; ``TimeoutError`` once Redis is silent for
        two health checks (its pong to our ping counts as a word)."""
        loop = asyncio.get_running_loop()
        heard = loop.time()
        while True:
            message = await pubsub.get_message(
                ignore_subscribe_messages=True, timeout=self._health_check_s
            )
            now = loop.time()
            if message is None:
                if now - heard > 2 * self._health_check_s:
                    raise TimeoutError("no answer from Redis")
                await pubsub.ping()
                continue
            heard = now
            if message.get("type") == "message":
                hint = self._decoded(message.get("data"))
                if hint is not None:
                    yield hint

    def _decoded(self, data: object) -> Hint | None:
        try:
            if not isinstance(data, bytes | str):
                raise MalformedHint("message is not bytes")
            return decode_hint(data)
        except MalformedHint as error:
            self._ignored += 1
            now = asyncio.get_running_loop().time()
            if now - self._ignored_logged_at >= IGNORED_LOG_EVERY_S:
                log.warning(
                    "live broadcast %s: ignored %d malformed message(s), the latest: %s",
                    self.where,
                    self._ignored,
                    error,
                )
                self._ignored, self._ignored_logged_at = 0, now
            return None

    async def aclose(self) -> None:
        await cast(Any, self._redis).aclose()


def open_broadcast(url: str) -> Broadcast:
    """The channel for ``url``: ``memory://`` (or empty) in-process, ``redis://`` or
    ``rediss://`` Redis pub/sub; ``ValueError`` for anything else."""
    scheme = urlsplit(url).scheme if url else "memory"
    if scheme == "memory":
        return MemoryBroadcast()
    if scheme in ("redis", "rediss"):
        return RedisBroadcast(url)
    raise ValueError(f"unknown broadcast scheme {scheme!r}: use memory:// or redis://")
