"""The ``oneweb-graphql`` command: serve the facade, run the embedded runtime alone, print the SDL."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_RUNTIME_PORT = 8080
#: An import string, so that every worker process builds its own app from the environment.
APP_FACTORY = "server.app:create_app_from_env"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oneweb-graphql",
        description="A GraphQL facade over the ONEWEB Process Runtime REST API.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="serve the GraphQL facade (and the embedded runtime when no upstream is set)",
    )
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument(
        "--upstream",
        help="ONEWEB base URL (default: env ONEWEB_BASE_URL, else the embedded runtime)",
    )
    serve.add_argument(
        "--workers", type=int, default=1, help="processes sharing the port (default 1)"
    )

    runtime = commands.add_parser("runtime", help="run the embedded ONEWEB runtime alone")
    runtime.add_argument("--host", default=DEFAULT_HOST)
    runtime.add_argument("--port", type=int, default=DEFAULT_RUNTIME_PORT)
    runtime.add_argument("--db", type=Path, help="SQLite file (default: in the user data dir)")
    runtime.add_argument(
        "--processes", type=Path, help="folder of .bpmn files (default: the bundled samples)"
    )

    commands.add_parser("export-schema", help="print the GraphQL SDL")
    return parser


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def stop_cleanly_on_signals() -> None:
    """Make a stop signal after uvicorn's graceful shutdown an exit with status 0."""
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again to
    # whatever handler was there before it: this one makes that a clean exit (status 0).
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _exit_cleanly)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    if args.command == "export-schema":
        from schema import sdl

        sys.stdout.write(sdl())
        return 0

    import uvicorn

    stop_cleanly_on_signals()

    if args.command == "runtime":
        from backend.embedded.app import create_app as create_runtime_app
        from backend.embedded.store import default_db_path

        app = create_runtime_app(db_path=args.db or default_db_path(), processes_dir=args.processes)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
        return 0

    if args.upstream:
        os.environ["ONEWEB_BASE_URL"] = args.upstream
    if args.workers < 1:
        _parser().error("--workers must be at least 1")
    options: dict[str, Any] = {
        "log_level": "warning",
        # uvicorn's own records go through the facade's handler (JSON when configured);
        # its access log stays off: it would print query strings, where GET variables are.
        "log_config": None,
        "access_log": False,
    }
    if args.workers > 1:
        from .workers import serve_workers

        return serve_workers(
            app=APP_FACTORY, host=args.host, port=args.port, workers=args.workers, options=options
        )
    uvicorn.run(APP_FACTORY, factory=True, host=args.host, port=args.port, **options)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
