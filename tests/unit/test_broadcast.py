"""The broadcast channel of live-inbox hints: the message format, what a listener refuses,
the in-process channel, the URL schemes, and a lost Redis that logs no password."""

from __future__ import annotations

import asyncio
import logging

import pytest

from backend.broadcast import (
    MAX_HINT_KEYS,
    Hint,
    MalformedHint,
    MemoryBroadcast,
    RedisBroadcast,
    decode_hint,
    encode_hint,
    open_broadcast,
    redacted_url,
)
from tests.support.ports import free_port


def test_a_hint_survives_its_message() -> None:
    hint = Hint.of([("group", "Clerk"), ("user", "ann é"), ("role", "x")], origin="a1")
    assert decode_hint(encode_hint(hint)) == hint
    assert decode_hint(encode_hint(Hint.of(None))) == Hint(None)


def test_a_hint_with_too_many_keys_is_sent_as_any_listing() -> None:
    keys = [("user", f"u{n}") for n in range(MAX_HINT_KEYS + 1)]
    assert Hint.of(keys).keys is None


@pytest.mark.parametrize(
    "message",
    [
        b"",
        b"null",
        b'"keys"',
        b'{"keys": null}',
        b'{"v": "1", "keys": null}',
        b'{"v": 1, "keys": {"user": "ann"}}',
        b'{"v": 1, "keys": [["tenant", "a"]]}',
        b'{"v": 1, "keys": [["user", "a", "b"]]}',
        b'{"v": 1, "keys": [["user", null]]}',
        b'{"v": 1, "keys": [["user", "   "]]}',
        b'{"v": 1, "keys": [["user", "a\\nb"]]}',
        b'{"v": 1, "keys": [["user", "' + b"a" * 257 + b'"]]}',
        b'{"v": 1, "origin": "' + b"o" * 65 + b'", "keys": null}',
        b'{"v": 1, "keys": [' + b",".join([b'["user", "u"]'] * (MAX_HINT_KEYS + 1)) + b"]}",
        b"[" * 100_000,
        b" " * 200_000,
    ],
)
def test_a_malformed_message_is_refused(message: bytes) -> None:
    with pytest.raises(MalformedHint):
        decode_hint(message)


def test_a_url_loses_its_credentials_in_logs() -> None:
    assert redacted_url("redis://user:s3cret@cache:6380/2") == "redis://cache:6380/2"
    assert redacted_url("rediss://:s3cret@cache/0") == "rediss://cache/0"


def test_the_scheme_picks_the_channel() -> None:
    assert isinstance(open_broadcast("memory://"), MemoryBroadcast)
    assert isinstance(open_broadcast(""), MemoryBroadcast)
    redis = open_broadcast("redis://127.0.0.1:6379/3")
    assert isinstance(redis, RedisBroadcast) and redis.channel == "oneweb-graphql:live:3"
    with pytest.raises(ValueError, match="unknown broadcast scheme"):
        open_broadcast("kafka://broker")


async def test_the_memory_channel_reaches_every_listener() -> None:
    channel = MemoryBroadcast()
    first, second = channel.listen(), channel.listen()
    waiting = [asyncio.ensure_future(anext(listener)) for listener in (first, second)]
    await asyncio.sleep(0)
    await channel.publish(Hint.of([("group", "Clerk")]))
    assert [hint.keys for hint in await asyncio.gather(*waiting)] == [
        frozenset({("group", "Clerk")})
    ] * 2
    await first.aclose()
    await second.aclose()


async def test_an_unreachable_redis_is_logged_without_its_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel = RedisBroadcast(f"redis://admin:s3cret@127.0.0.1:{free_port()}/0")
    with caplog.at_level(logging.INFO, logger="oneweb_graphql.broadcast"):
        listener = channel.listen()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await anext(listener)
        await listener.aclose()
        with pytest.raises(Exception):  # noqa: B017 (whatever the client raises, it raises)
            await channel.publish(Hint.of(None))
    await channel.aclose()
    assert any("unreachable" in record.getMessage() for record in caplog.records)
    assert all("s3cret" not in record.getMessage() for record in caplog.records)
