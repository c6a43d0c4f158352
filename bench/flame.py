"""``python -m bench.flame``: a py-spy flame graph of the facade answering the inbox.

The same canned upstream and facade as ``python -m bench`` (one worker, upstream latency 0,
concurrency 1), sampled at 250 Hz for ``--seconds``. Writes ``bench/flamegraph.svg``
(``--out``) and prints the share of the samples by part: the upstream client, GraphQL
execution, the HTTP server, the rest. py-spy needs to attach to the process (root, or
``ptrace_scope`` 0).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from . import snapshot
from .processes import Facade, LoadGenerator, Upstream
from .scenarios import inbox

HERE = Path(__file__).resolve().parent
#: Where a sample's innermost frame of the facade's own or a library's code sits.
PARTS = (
    ("upstream client", ("httptools/", "backend/transport", "backend/http1", "backend/client")),
    ("GraphQL execution", ("graphql/", "strawberry/", "schema/", "resolvers/")),
    ("HTTP server", ("uvicorn/", "starlette/", "server/", "prometheus_client/")),
)


def shares(collapsed: str) -> dict[str, float]:
    """The share of samples per part, from py-spy's ``raw`` (collapsed stacks) output."""
    counts: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, number = line.rpartition(" ")
        part = "event loop, other"
        for frame in reversed(stack.split(";")):
            found = next((name for name, keys in PARTS if any(k in frame for k in keys)), None)
            if found:
                part = found
                break
        counts[part] += int(number)
    total = sum(counts.values()) or 1
    return {part: round(count / total, 3) for part, count in counts.most_common()}


def _record(pid: int, seconds: float, out: Path, fmt: str) -> subprocess.Popen[bytes]:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [spy, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "250"]
    return subprocess.Popen([*command, "-f", fmt, "-o", str(out), "--nonblocking"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=HERE / "flamegraph.svg")
    parser.add_argument("--raw", type=Path, help="also keep py-spy's collapsed stacks here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oneweb-flame-") as tmp:
        snapshot_path = Path(tmp) / "snapshot.json"
        snapshot.take(snapshot_path)
        upstream, load = Upstream(snapshot_path), LoadGenerator()
        facade = Facade(upstream.url, workers=1, env={"ONEWEB_MAX_CONCURRENCY": "32"})
        scenario = inbox(snapshot.INBOX_USER)
        body, headers = scenario.body(), scenario.headers
        raw = Path(tmp) / "stacks.txt"
        try:
            load.run(facade.graphql, body, headers, concurrency=1, seconds=1.0)
            # Two recordings of the same load: the SVG, and the stacks to sum up.
            recorders = [
                _record(facade.process.pid, args.seconds, args.out, "flamegraph"),
                _record(facade.process.pid, args.seconds, raw, "raw"),
            ]
            load.run(facade.graphql, body, headers, concurrency=1, seconds=args.seconds + 1)
            for recorder in recorders:
                recorder.wait()
        finally:
            facade.stop()
            load.stop()
            upstream.stop()
        if args.raw:
            shutil.copyfile(raw, args.raw)
        for part, share in shares(raw.read_text()).items():
            print(f"{share:6.1%}  {part}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
