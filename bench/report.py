"""The benchmark's report: its targets, the printed table, results.json, latency.png."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import live_report

__all__ = ["table", "targets", "write"]

INBOX_LATENCY_RATIO = 1.25
INBOX_CPU_MS = 10.0
WORKER_SCALING = 1.8
#: The targets against the peers, as ratios from one run (facade / peer).
CPU_VS_MESH = 0.6
RPS_VS_MESH = 1.6
P50_VS_DIRECT = 1.0


def _peer_targets(comparison: dict[str, Any]) -> list[dict[str, Any]]:
    rows = {row["peer"]: row for row in comparison.get("rows", [])}
    ours, mesh, direct = rows.get("facade"), rows.get("mesh"), rows.get("direct")
    if ours is None:
        return []
    found: list[dict[str, Any]] = [
        {
            "target": "inbox upstream calls = 26 (the lower bound)",
            "measured": f"{ours['calls']} (Mesh {mesh['calls'] if mesh else '-'}, "
            f"direct {direct['calls'] if direct else '-'})",
            "met": ours["calls"] == 26,
        }
    ]
    absent = f"not measured: {comparison.get('mesh_missing') or 'no Mesh'}"
    for metric, bound, what in (
        ("cpu_ms_per_inbox", CPU_VS_MESH, "server CPU per inbox <= {bound}x GraphQL Mesh's"),
        ("rps_c8", RPS_VS_MESH, "inbox/s at concurrency 8 >= {bound}x GraphQL Mesh's"),
    ):
        target = what.format(bound=bound)
        if mesh is None:
            found.append({"target": target, "measured": absent, "met": False})
            continue
        ratio = ours[metric] / mesh[metric]
        found.append(
            {
                "target": target,
                "measured": f"{ours[metric]} / {mesh[metric]} = {ratio:.2f}x",
                "met": ratio <= bound if metric.startswith("cpu") else ratio >= bound,
            }
        )
    if direct is not None:
        ratio = ours["p50_ms_at_20"] / direct["p50_ms_at_20"]
        found.append(
            {
                "target": "inbox p50 at 20 ms upstream <= the direct REST client's",
                "measured": f"{ours['p50_ms_at_20']} / {direct['p50_ms_at_20']} ms = {ratio:.2f}x",
                "met": ratio <= P50_VS_DIRECT,
            }
        )
    return found


def targets(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with its measured value and whether it is met."""
    found = _absolute_targets(summary) if summary["scenarios"] else []
    found += _peer_targets(summary.get("peers") or {})
    if summary.get("live"):
        found += live_report.targets(summary["live"])
    return found


def _absolute_targets(summary: dict[str, Any]) -> list[dict[str, Any]]:
    held = [s for s in summary["scenarios"] if not s["comparison"]]
    inbox = next(s for s in held if s["scenario"] == "inbox")
    ratio = inbox["latency"]["20"]["p50_over_limit"]
    # Measured side by side, in interleaved rounds (the medians).
    interleaved = summary["scaling"]
    one, two = interleaved["one_worker"], interleaved["two_workers"]
    scaling = two / one if one else 0.0
    return [
        {
            "target": "upstream calls = lower bound in every scenario",
            "measured": ", ".join(f"{s['scenario']} {s['calls']}/{s['lower_bound']}" for s in held),
            "met": all(s["calls"] == s["lower_bound"] for s in held),
        },
        {
            "target": f"inbox p50 at 20 ms upstream <= {INBOX_LATENCY_RATIO}x the 40 ms limit",
            "measured": f"{inbox['latency']['20']['p50_ms']} ms = {ratio}x",
            "met": ratio <= INBOX_LATENCY_RATIO,
        },
        {
            "target": f"facade CPU <= {INBOX_CPU_MS:g} ms per inbox query",
            "measured": f"{inbox['cpu_ms_per_query']} ms",
            "met": inbox["cpu_ms_per_query"] <= INBOX_CPU_MS,
        },
        {
            "target": f"requests/s with 2 workers >= {WORKER_SCALING}x 1 worker at concurrency 32",
            "measured": f"{two:.0f} / {one:.0f} = {scaling:.2f}x"
            + f" (medians of {interleaved['rounds']} interleaved rounds; cores used"
            f" {interleaved['cores_one_worker']} and {interleaved['cores_two_workers']})",
            "met": scaling >= WORKER_SCALING,
        },
    ]


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()


def _grid(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[n]) for row in [header, *rows]) for n in range(len(header))]
    lines = [_row(header, widths), _row(["-" * w for w in widths], widths)]
    return "\n".join([*lines, *(_row(row, widths) for row in rows)])


def _fmt(value: Any, spec: str = "") -> str:
    return "-" if value is None else format(value, spec)


def _peer_table(comparison: dict[str, Any]) -> str:
    rows = comparison.get("rows") or []
    if not rows:
        return ""
    ratios = comparison["ratios"]
    header = [
        "inbox, side by side",
        "calls",
        "p50/p95 ms @20",
        "CPU ms/inbox",
        "inbox/s c=8",
        "cores c=8",
    ]
    lines = [
        [
            row["label"],
            str(row["calls"]),
            f"{row['p50_ms_at_20']:.1f}/{row['p95_ms_at_20']:.1f}",
            _fmt(row["cpu_ms_per_inbox"], ".2f"),
            f"{row['rps_c8']:.0f}",
            _fmt(row.get("cores_c8"), ".2f"),
        ]
        for row in rows
    ]
    for name, ratio in ratios.items():
        lines.append(
            [
                name.replace("facade/", "facade / "),
                _fmt(ratio["calls"], ".2f") + "x",
                _fmt(ratio["p50_ms_at_20"], ".2f") + "x",
                _fmt(ratio["cpu_ms_per_inbox"], ".2f") + ("x" if ratio["cpu_ms_per_inbox"] else ""),
                _fmt(ratio["rps_c8"], ".2f") + "x",
                "",
            ]
        )
    note = f"({comparison['rounds']} interleaved rounds"
    if comparison.get("mesh_missing"):
        note += f"; {comparison['mesh_missing']}"
    return _grid(header, lines) + "\n" + note + ")"


def table(summary: dict[str, Any]) -> str:
    """The report as fixed-width text."""
    scenario_rows = []
    for s in summary["scenarios"]:
        zero, twenty = s["latency"]["0"], s["latency"]["20"]
        scenario_rows.append(
            [
                s["scenario"],
                f"{s['calls']}/{s['lower_bound']}",
                f"{zero['p50_ms']:.1f}/{zero['p95_ms']:.1f}",
                f"{twenty['p50_ms']:.1f}/{twenty['p95_ms']:.1f}",
                f"{twenty['limit_ms']}",
                f"{twenty['p50_over_limit']:.2f}x",
                f"{s['cpu_ms_per_query']:.2f}",
            ]
        )
    throughput_rows = [
        [
            f"{row['config']}, {row['workers']}w",
            str(row["concurrency"]),
            f"{row['rps']:.0f}",
            f"{row['p50_ms']:.1f}/{row['p95_ms']:.1f}",
        ]
        for row in summary["throughput"]
    ]
    target_rows = [
        ["met" if t["met"] else "MISSED", t["target"], t["measured"]] for t in summary["targets"]
    ]
    parts = [
        f"oneweb-graphql bench, {summary['date']}, {summary['machine']['cpus']} CPUs, "
        f"Python {summary['machine']['python']}, {summary['seconds']} s",
        scenario_rows
        and _grid(
            [
                "scenario",
                "calls/bound",
                "p50/p95 ms @0",
                "p50/p95 ms @20",
                "limit ms",
                "p50/limit",
                "CPU ms/q @0",
            ],
            scenario_rows,
        ),
        throughput_rows
        and _grid(["inbox throughput @0 ms", "conc.", "req/s", "p50/p95 ms"], throughput_rows),
        _peer_table(summary.get("peers") or {}),
        summary.get("live") and live_report.table(summary["live"]),
        _grid(["target", "what", "measured"], target_rows),
    ]
    return "\n\n".join(part for part in parts if part)


def _plot(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    configs: dict[str, list[dict[str, Any]]] = {}
    for row in summary["throughput"]:
        configs.setdefault(f"{row['config']}, {row['workers']} worker(s)", []).append(row)
    for (label, rows), color in zip(configs.items(), ("C0", "C3", "C2"), strict=False):
        x = [row["concurrency"] for row in rows]
        axes.plot(x, [row["p50_ms"] for row in rows], "o-", color=color, label=f"{label}: p50")
        axes.plot(x, [row["p95_ms"] for row in rows], "s--", color=color, label=f"{label}: p95")
    axes.set_xscale("log", base=2)
    axes.set_xticks(sorted({row["concurrency"] for row in summary["throughput"]}))
    axes.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    axes.set_xlabel("concurrent clients")
    axes.set_ylabel("inbox query latency (ms)")
    axes.set_title("Inbox latency vs concurrency (upstream latency 0, canned upstream)")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write(summary: dict[str, Any], folder: Path) -> None:
    """``results.json`` and, where matplotlib is installed, ``latency.png``."""
    (folder / "results.json").write_text(json.dumps(summary, indent=2) + "\n")
    try:
        _plot(summary, folder / "latency.png")
    except ImportError:
        print("matplotlib is not installed (pip install -e '.[bench]'): no latency.png")
