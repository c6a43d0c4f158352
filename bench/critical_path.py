"""``python -m bench.critical_path [--baseline DIR]``: the facade's own latency on the inbox.

At 20 ms upstream latency the inbox needs two levels of calls (40 ms); whatever the facade
adds sits in a few segments of its critical path, measured here per request inside the
facade process (its upstream calls timed where ``UpstreamClient._call`` is entered and
returns, the request where the ASGI app receives it and sends the last body byte):

- before the list: request in -> the task-list call entered (parsing, validation, context);
- the list reply -> the first second-level call entered (the 20 tasks resolved, the
  loaders dispatched);
- the fan-out: first -> last second-level call entered (handing 25 calls to the client);
- after the last reply: the last call returned -> the response's last byte sent.

With ``--baseline DIR`` the facade's code comes from ``DIR`` (``PYTHONPATH``), so one
change can be compared: the instrumentation only wraps ``_call`` and the ASGI app.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SEGMENTS = ("before the list", "list reply -> first call", "fan-out", "after the last reply")


def _serve(port: int, out: Path) -> None:
    """The facade process: the real app, its client's calls and its requests timed."""
    import uvicorn

    from backend.client import UpstreamClient
    from server.app import create_app_from_env

    # One JSON line per request, written at once: uvicorn ends the process by re-raising
    # the stopping signal, so nothing can wait for the end.
    sink = out.open("a", buffering=1)
    current: dict[str, Any] = {}
    original = UpstreamClient._call

    async def timed_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        entered = time.perf_counter()
        try:
            return await original(self, *args, **kwargs)
        finally:
            current.setdefault("calls", []).append((entered, time.perf_counter()))

    UpstreamClient._call = timed_call  # type: ignore[method-assign]
    app = create_app_from_env()

    async def timed_app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/graphql":
            await app(scope, receive, send)
            return
        current.clear()
        current["in"] = time.perf_counter()

        async def timed_send(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                current["out"] = time.perf_counter()
                sink.write(json.dumps(current) + "\n")

        await app(scope, receive, timed_send)

    uvicorn.run(timed_app, port=port, log_level="warning", access_log=False)


def _segments(record: dict[str, Any]) -> dict[str, float] | None:
    calls = sorted(record.get("calls", []))
    if len(calls) < 2:
        return None
    (list_in, list_out), rest = calls[0], calls[1:]
    return {
        "before the list": (list_in - record["in"]) * 1000,
        "list reply -> first call": (rest[0][0] - list_out) * 1000,
        "fan-out": (rest[-1][0] - rest[0][0]) * 1000,
        "after the last reply": (record["out"] - max(end for _, end in rest)) * 1000,
        "total": (record["out"] - record["in"]) * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="run the facade's code from this folder")
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(int(args.serve[0]), Path(args.serve[1]))
        return 0

    import subprocess

    import httpx

    from . import snapshot
    from .processes import LoadGenerator, Upstream, _stop, free_port, wait_until_serving
    from .scenarios import inbox

    with tempfile.TemporaryDirectory(prefix="oneweb-critical-") as tmp:
        snapshot_path = Path(tmp) / "snapshot.json"
        snapshot.take(snapshot_path)
        upstream, load = Upstream(snapshot_path), LoadGenerator()
        port, out = free_port(), Path(tmp) / "records.json"
        # As the bench runs the facade (bench/processes.py).
        env = {
            **os.environ,
            "ONEWEB_BASE_URL": upstream.url,
            "ONEWEB_MAX_CONCURRENCY": "32",
            "ONEWEB_GC_TUNING": "true",
        }
        if args.baseline:
            env["PYTHONPATH"] = str(args.baseline)
        command = [sys.executable, str(HERE / "critical_path.py"), "--serve", str(port), str(out)]
        facade = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(
                facade,
                "the facade",
                lambda: httpx.get(url + "/healthz", timeout=1).status_code == 200,
            )
            scenario = inbox(snapshot.INBOX_USER)
            upstream.set_latency(20)
            graphql = url + "/graphql"
            load.run(graphql, scenario.body(), scenario.headers, concurrency=1, count=10)
            load.run(graphql, scenario.body(), scenario.headers, concurrency=1, count=args.count)
        finally:
            _stop(facade)
            load.stop()
            upstream.stop()
        records = [json.loads(line) for line in out.read_text().splitlines()]
        measured = [s for s in map(_segments, records[10:]) if s]
    print(f"{len(measured)} inbox requests at 20 ms upstream latency, medians (ms):")
    for name in (*SEGMENTS, "total"):
        values = sorted(s[name] for s in measured)
        print(f"  {name:26s} {values[len(values) // 2]:7.2f}")
    return 0


if __name__ == "__main__":
    if __package__ in (None, ""):  # run as a script in the facade process
        # After PYTHONPATH: with --baseline, the facade's code must come from there.
        sys.path.append(str(HERE.parent))
        __package__ = "bench"
    raise SystemExit(main())
