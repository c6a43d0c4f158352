"""The live inbox under load: 1,000 subscriptions over 50 inboxes on one facade process.

The upstream is the canned one (``bench.upstream``) at 20 ms latency, replaying listings
recorded from the embedded runtime, with each claim's effect on them
(``bench.live_snapshot``). The subscribers are a process of their own
(``bench.subscribers``). Measured:

- upstream polls per interval at rest, against the distinct listings (the bound);
- the facade's CPU per second at rest and during a burst of claims;
- memory per subscription (the facade's RSS growth over 1,000 idle subscriptions);
- push latency, from a claim's response to each affected subscriber's update, within one
  replica, for a user's own task (20 subscribers) and a task of the shared queue (all
  1,000), and across two replicas through Redis (``ONEWEB_BROADCAST_URL``) where this
  build has it and ``redis-server`` is installed.

    python -m bench.live [--quick | --memory] [--out DIR]

``--memory`` measures only memory per subscription (no claims, no rest, no replicas).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from . import live_snapshot
from .live_report import table, targets
from .live_snapshot import Claim, LiveData, headers
from .processes import Facade, RedisServer, Subscribers, Upstream

__all__ = ["SUBSCRIPTION", "main", "measure"]

SUBSCRIPTIONS = 1000
PER_USER = SUBSCRIPTIONS // live_snapshot.USERS
#: Subscriptions per WebSocket: a few screens of one user share a connection.
PER_CONNECTION = 10
UPSTREAM_MS = 20
INTERVAL_S = 2.0
SPACING_S = 0.25
FANOUT_SPACING_S = 1.0
SETTLE_S = 1.0
#: Users with one subscription each, opened and closed before memory is measured.
WARM_UP_USERS = 5

SUBSCRIPTION = """subscription Inbox {
  inbox {
    tasks { totalCount nodes { id name status assignee createdAt } }
    added { id name }
    changed { id assignee }
    removedIds
  }
}"""


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


def _claim(http: httpx.Client, facade: Facade, claim: Claim) -> float:
    """Claim through ``facade``; the monotonic time its response arrived."""
    reply = http.post(
        facade.graphql,
        json={
            "query": live_snapshot.CLAIM,
            "variables": {"id": claim.task_id, "instanceId": claim.instance_id},
        },
        headers=headers(claim.user),
    )
    answered = time.monotonic()
    body = reply.json()
    if body.get("errors") or body["data"]["claimTask"]["errors"]:
        raise RuntimeError(f"claim {claim} failed: {body}")
    return answered


def _push(
    sent: list[tuple[Claim, float]], events: list[list[Any]], users: list[str]
) -> dict[str, Any]:
    """Latency from each claim's response to each affected subscriber's first update naming
    the task (a user's own task: that user's subscribers; the shared queue: everyone)."""
    seen: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    for user, sub, received, ids in events:
        for task_id in ids:
            seen[(task_id, user)].append((sub, received))
    latencies: list[float] = []
    missed = 0
    missed_claims: list[int] = []
    for number, (claim, answered) in enumerate(sent):
        expected = PER_USER * (1 if claim.queue == "own" else len(users))
        got = 0
        for user in [claim.user] if claim.queue == "own" else users:
            first: dict[str, float] = {}
            for sub, received in seen[(claim.task_id, user)]:
                first[sub] = min(first.get(sub, received), received)
            got += len(first)
            latencies += [(received - answered) * 1000 for received in first.values()]
        if got < expected:
            missed += expected - got
            missed_claims.append(number)
    if not latencies:
        return {"claims": len(sent), "deliveries": 0, "missed": missed}
    return {
        "claims": len(sent),
        "deliveries": len(latencies),
        "missed": missed,
        "missed_claims": missed_claims,
        "p50_ms": round(_percentile(latencies, 50), 1),
        "p99_ms": round(_percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
    }


def _claims_spaced(
    http: httpx.Client, facade: Facade, claims: list[Claim], spacing_s: float
) -> list[tuple[Claim, float]]:
    sent = []
    for claim in claims:
        sent.append((claim, _claim(http, facade, claim)))
        time.sleep(spacing_s)
    return sent


def _drain(subscribers: Subscribers) -> list[list[Any]]:
    """Every update until none has come for ``SETTLE_S`` (a fan-out to 1,000 takes a while)."""
    events: list[list[Any]] = []
    while True:
        time.sleep(SETTLE_S)
        more = subscribers.events()["events"]
        if not more:
            return events
        events += more


def _subscribe(
    subscribers: Subscribers, facade: Facade, users: list[str], per_user: int
) -> dict[str, Any]:
    url = facade.url.replace("http://", "ws://") + "/graphql"
    opened = subscribers.open(
        url,
        SUBSCRIPTION,
        [(user, headers(user)) for user in users],
        per_user=per_user,
        per_connection=PER_CONNECTION,
    )
    subscribers.events()  # the first updates are not pushes
    return opened


def _broadcast_missing() -> str | None:
    """Why the cross-replica part cannot run here, or None."""
    from server.settings import Settings

    if "broadcast_url" not in Settings.model_fields:
        return "this build has no ONEWEB_BROADCAST_URL (pushes are in-process only)"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (apt-get install redis-server)"
    return None


def plan(quick: bool) -> dict[str, int]:
    """How many claims each part makes, and how many poll intervals the rest lasts."""
    if quick:
        return {"spaced": 15, "burst": 20, "across": 15, "fanout": 2, "rest_intervals": 3}
    return {"spaced": 50, "burst": 50, "across": 30, "fanout": 5, "rest_intervals": 5}


def measure(
    tmp: Path, *, quick: bool, log: Path | None = None, memory_only: bool = False
) -> dict[str, Any]:
    """Run every part (or, ``memory_only``, the subscriptions' memory alone); the results
    (``summary["live"]`` in ``results.json``)."""
    counts = plan(quick)
    print("live: recording listings and claims from the embedded runtime ...", flush=True)
    # The phases in the order they run: each claim's effect assumes the claims before it.
    phases = [
        ("spaced", "own", counts["spaced"]),
        ("burst", "own", counts["burst"]),
        ("fanout", "clerk", counts["fanout"]),
        ("across", "own", counts["across"]),
    ]
    data = live_snapshot.take(tmp / "live-snapshot.json", tmp / "live-effects.json", phases)
    spaced, burst, across = (data.phases[name] for name in ("spaced", "burst", "across"))
    upstream = Upstream(tmp / "live-snapshot.json", effects=tmp / "live-effects.json")
    upstream.set_latency(UPSTREAM_MS)
    subscribers = Subscribers()
    env = {"ONEWEB_LIVE_INTERVAL_S": str(INTERVAL_S)}
    result: dict[str, Any] = {
        "setup": {
            "subscriptions": SUBSCRIPTIONS,
            "inboxes": len(data.users),
            "distinct_listings": len(data.listings),
            "per_connection": PER_CONNECTION,
            "upstream_ms": UPSTREAM_MS,
            "interval_s": INTERVAL_S,
            "inbox": f"{len(data.users)} users in group {live_snapshot.CLERK}: 4 tasks of their "
            f"own each, {live_snapshot.CLERK_TASKS} in the shared queue",
            "subscription": SUBSCRIPTION,
        }
    }
    try:
        facade = Facade(upstream.url, workers=1, env=env, log=log)
        try:
            with httpx.Client(timeout=30) as http:
                if memory_only:
                    result.update(_subscribed(facade, subscribers, data))
                else:
                    result.update(
                        _one_replica(
                            facade,
                            upstream,
                            subscribers,
                            http,
                            data,
                            spaced,
                            burst,
                            intervals=counts["rest_intervals"],
                        )
                    )
        finally:
            subscribers.close()
            facade.stop()
        if not memory_only:
            result["across_replicas"] = _across(upstream, subscribers, env, data, across, log)
        # Every request of the run had a recorded reply (a 404 would have been measured).
        missing = upstream.calls()[1]
        if missing:
            raise RuntimeError(f"live: not in the snapshot: {missing}")
    finally:
        subscribers.stop()
        upstream.stop()
    return result


def _subscribed(facade: Facade, subscribers: Subscribers, data: LiveData) -> dict[str, Any]:
    """Open the 1,000 subscriptions (their first updates received, then a quiet second):
    the connections and the memory figures.

    Warmed up first (a few subscriptions opened and closed): what the facade allocates
    once, on its first upstream call or its first subscription, is no subscription's."""
    _subscribe(subscribers, facade, data.users[:WARM_UP_USERS], 1)
    subscribers.close()
    time.sleep(SETTLE_S)
    rss_before = facade.rss_kb()
    print(f"live: {SUBSCRIPTIONS} subscriptions over {len(data.users)} inboxes ...", flush=True)
    half = PER_USER // 2
    _subscribe(subscribers, facade, data.users, half)
    rss_half = facade.rss_kb()
    second = _subscribe(subscribers, facade, data.users, PER_USER - half)
    time.sleep(SETTLE_S)
    rss_all = facade.rss_kb()
    return {
        "connections": second["connections"],
        "memory": {
            "rss_kb_before": rss_before,
            "rss_kb_half": rss_half,
            "rss_kb_all": rss_all,
            "kb_per_subscription": round((rss_all - rss_before) / SUBSCRIPTIONS, 1),
            "kb_per_subscription_second_half": round(
                (rss_all - rss_half) / (SUBSCRIPTIONS - len(data.users) * half), 1
            ),
        },
    }


def _one_replica(
    facade: Facade,
    upstream: Upstream,
    subscribers: Subscribers,
    http: httpx.Client,
    data: LiveData,
    spaced: list[Claim],
    burst: list[Claim],
    *,
    intervals: int,
) -> dict[str, Any]:
    subscribed = _subscribed(facade, subscribers, data)
    missing = upstream.calls()[1]
    if missing:
        raise RuntimeError(f"live: not in the snapshot: {missing}")

    print("live: at rest ...", flush=True)
    upstream.reset()
    cpu = facade.cpu_seconds()
    started = time.monotonic()
    time.sleep(intervals * INTERVAL_S)
    rest_cpu = facade.cpu_seconds() - cpu
    rest_s = time.monotonic() - started
    polls = upstream.calls()[0]
    polled = upstream.distinct_calls()

    print(f"live: {len(spaced)} claims, one every {SPACING_S} s ...", flush=True)
    subscribers.events()
    sent = _claims_spaced(http, facade, spaced, SPACING_S)
    own = _push(sent, _drain(subscribers), data.users)

    print(f"live: a burst of {len(burst)} claims ...", flush=True)
    cpu = facade.cpu_seconds()
    started = time.monotonic()
    sent = [(claim, _claim(http, facade, claim)) for claim in burst]
    burst_s = time.monotonic() - started
    burst_cpu = facade.cpu_seconds() - cpu
    in_burst = _push(sent, _drain(subscribers), data.users)

    fanout_claims = data.phases["fanout"]
    print(f"live: {len(fanout_claims)} claims from the shared queue ...", flush=True)
    sent = _claims_spaced(http, facade, fanout_claims, FANOUT_SPACING_S)
    fanout = _push(sent, _drain(subscribers), data.users)
    return {
        "connections": subscribed["connections"],
        "polls": {
            "seconds": round(rest_s, 2),
            "intervals": round(rest_s / INTERVAL_S, 2),
            "calls": polls,
            "per_interval": round(polls / (rest_s / INTERVAL_S), 1),
            "distinct_polled": polled,
            "distinct_listings": len(data.listings),
            "subscriptions": SUBSCRIPTIONS,
        },
        "cpu": {
            "rest_ms_per_s": round(rest_cpu * 1000 / rest_s, 1),
            "burst_ms_per_s": round(burst_cpu * 1000 / burst_s, 1),
            "burst_claims": len(burst),
            "burst_s": round(burst_s, 2),
        },
        "memory": subscribed["memory"],
        "push": {"own_task": own, "burst": in_burst, "shared_queue": fanout},
    }


def _across(
    upstream: Upstream,
    subscribers: Subscribers,
    env: dict[str, str],
    data: LiveData,
    claims: list[Claim],
    log: Path | None,
) -> dict[str, Any]:
    """Subscribers on replica B, claims through replica A, one Redis between them."""
    missing = _broadcast_missing()
    if missing is not None:
        print(f"live: across replicas not measured: {missing}", flush=True)
        return {"not_measured": missing}
    print(f"live: across two replicas through Redis, {len(claims)} claims ...", flush=True)
    redis = RedisServer(shutil.which("redis-server") or "redis-server")
    shared = {**env, "ONEWEB_BROADCAST_URL": redis.url}
    replicas: list[Facade] = []
    try:
        replicas = [Facade(upstream.url, workers=1, env=shared, log=log) for _ in range(2)]
        a, b = replicas
        _subscribe(subscribers, b, data.users, PER_USER)
        with httpx.Client(timeout=30) as http:
            sent = _claims_spaced(http, a, claims, SPACING_S)
        push = _push(sent, _drain(subscribers), data.users)
        subscribers.close()
        return {"subscriptions_on_b": SUBSCRIPTIONS, **push}
    finally:
        for replica in replicas:
            replica.stop()
        redis.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark the live inbox (see bench/README.md).")
    parser.add_argument("--quick", action="store_true", help="fewer claims, shorter waits")
    parser.add_argument(
        "--memory", action="store_true", help="only memory per subscription (about a minute)"
    )
    parser.add_argument("--out", type=Path, default=None, help="write live.json into this folder")
    parser.add_argument(
        "--log", type=Path, default=None, help="the facades' output (default: none)"
    )
    args = parser.parse_args()
    started, load_before = time.monotonic(), os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="oneweb-bench-live-") as tmp:
        live = measure(Path(tmp), quick=args.quick, log=args.log, memory_only=args.memory)
    live["run"] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.live"
        + (" --quick" if args.quick else "")
        + (" --memory" if args.memory else ""),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        # The machine may be shared: the load average before and after says how much.
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(time.monotonic() - started, 1),
    }
    run = live["run"]
    print(
        f"{run['date']}, {run['cpus']} CPUs, load average {run['load_average_before'][0]} "
        f"before and {run['load_average_after'][0]} after, {run['seconds']} s"
    )
    if args.memory:
        memory = live["memory"]
        live["targets"] = targets(live, memory_only=True)
        print(
            f"live inbox: {SUBSCRIPTIONS} subscriptions ({live['connections']} WebSockets), "
            f"memory per subscription {memory['kb_per_subscription']} KB "
            f"(second 500: {memory['kb_per_subscription_second_half']} KB)"
        )
    else:
        live["targets"] = targets(live)
        print(table(live))
    for target in live["targets"]:
        print(
            f"{'met' if target['met'] else 'MISSED':6s}  {target['target']}: {target['measured']}"
        )
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "live.json").write_text(json.dumps(live, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
