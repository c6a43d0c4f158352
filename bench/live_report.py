"""The live inbox benchmark's targets and its lines in the printed report."""

from __future__ import annotations

from typing import Any

__all__ = ["KB_PER_SUBSCRIPTION", "PUSH_P50_ACROSS_MS", "PUSH_P50_MS", "table", "targets"]

#: The targets: polls = distinct listings; push p50 under these; memory under this.
PUSH_P50_MS = 50.0
PUSH_P50_ACROSS_MS = 100.0
KB_PER_SUBSCRIPTION = 20.0


def targets(live: dict[str, Any], *, memory_only: bool = False) -> list[dict[str, Any]]:
    """The live inbox's targets with what was measured (``memory_only``: that one alone)."""
    memory = live["memory"]
    in_memory = {
        "target": f"live: memory per idle subscription < {KB_PER_SUBSCRIPTION:g} KB",
        "measured": f"{memory['kb_per_subscription']} KB",
        "met": memory["kb_per_subscription"] < KB_PER_SUBSCRIPTION,
    }
    if memory_only:
        return [in_memory]
    polls, push = live["polls"], live["push"]["own_task"]
    ratio = polls["per_interval"] / polls["distinct_listings"]
    found = [
        {
            "target": "live: upstream polls per interval = distinct listings, not subscribers",
            "measured": f"{polls['per_interval']} / {polls['distinct_listings']} listings = "
            f"{ratio:.2f}x ({polls['subscriptions']} subscriptions)",
            "met": polls["distinct_polled"] == polls["distinct_listings"] and ratio <= 1.1,
        },
        {
            "target": f"live: push p50 within a replica < {PUSH_P50_MS:g} ms",
            "measured": f"p50 {push.get('p50_ms')} ms, p99 {push.get('p99_ms')} ms, "
            f"{push['missed']} missed",
            "met": push.get("p50_ms", 1e9) < PUSH_P50_MS and push["missed"] == 0,
        },
        in_memory,
    ]
    across = live.get("across_replicas") or {}
    target = f"live: push p50 across replicas (Redis) < {PUSH_P50_ACROSS_MS:g} ms"
    if "not_measured" in across:
        found.append(
            {"target": target, "measured": f"not measured: {across['not_measured']}", "met": False}
        )
    else:
        found.append(
            {
                "target": target,
                "measured": f"p50 {across.get('p50_ms')} ms, p99 {across.get('p99_ms')} ms, "
                f"{across['missed']} missed",
                "met": across.get("p50_ms", 1e9) < PUSH_P50_ACROSS_MS and across["missed"] == 0,
            }
        )
    return found


def table(live: dict[str, Any]) -> str:
    """The live inbox's results as fixed-width text."""
    setup, polls, cpu, memory = live["setup"], live["polls"], live["cpu"], live["memory"]
    lines = [
        f"live inbox: {setup['subscriptions']} subscriptions over {setup['inboxes']} inboxes "
        f"({live['connections']} WebSockets), {setup['distinct_listings']} distinct listings, "
        f"upstream {setup['upstream_ms']} ms, interval {setup['interval_s']:g} s",
        f"  upstream polls per interval  {polls['per_interval']} "
        f"({polls['calls']} in {polls['seconds']} s; {polls['distinct_polled']} distinct)",
        f"  facade CPU                   at rest {cpu['rest_ms_per_s']} ms/s, during a burst of "
        f"{cpu['burst_claims']} claims in {cpu['burst_s']} s {cpu['burst_ms_per_s']} ms/s",
        f"  memory per subscription      {memory['kb_per_subscription']} KB "
        f"(second 500: {memory['kb_per_subscription_second_half']} KB)",
    ]
    rows = [*live["push"].items()]
    if "not_measured" not in live.get("across_replicas", {"not_measured": ""}):
        rows.append(("across replicas", live["across_replicas"]))
    for name, push in rows:
        lines.append(
            f"  push {name.replace('_', ' '):23s} p50 {push.get('p50_ms')} ms, p99 "
            f"{push.get('p99_ms')} ms ({push['deliveries']} updates from {push['claims']} "
            f"claims, {push['missed']} missed)"
        )
    across = live.get("across_replicas") or {}
    if "not_measured" in across:
        lines.append(f"  push across replicas         not measured: {across['not_measured']}")
    return "\n".join(lines)
