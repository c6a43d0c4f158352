"""The ``oneweb-graphql`` command: serve the facade, run the embedded runtime alone, print the SDL."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .shutdown import stop_cleanly_on_signals

if TYPE_CHECKING:
    from .startup import AnnouncingServer

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_RUNTIME_PORT = 8080
#: An import string, so that every worker process builds its own app from the environment.
APP_FACTORY = "server.app:create_app_from_env"
DISTRIBUTION = "oneweb-graphql"


def _version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"


def _add_listen_options(command: argparse.ArgumentParser, *, port: int) -> None:
    command.add_argument(
        "--host", default=DEFAULT_HOST, help="interface to listen on (default: %(default)s)"
    )
    command.add_argument(
        "--port",
        type=int,
        metavar="PORT",
        default=port,
        help="port to listen on; 0 picks a free one (default: %(default)s)",
    )


def _add_runtime_options(command: argparse.ArgumentParser, *, env: bool) -> None:
    db_default = "env ONEWEB_DB, else " if env else ""
    processes_default = "env ONEWEB_PROCESSES, else " if env else ""
    command.add_argument(
        "--db",
        type=Path,
        metavar="FILE",
        help=f"SQLite file of the embedded runtime (default: {db_default}"
        "runtime.sqlite3 in the user data dir)",
    )
    command.add_argument(
        "--processes",
        type=Path,
        metavar="DIR",
        help=f"folder of .bpmn files of the embedded runtime (default: {processes_default}"
        "the bundled processes)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oneweb-graphql",
        description="A GraphQL facade over the ONEWEB Process Runtime REST API.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="serve the GraphQL facade (and the embedded runtime when no upstream is set)",
        description="Serve the GraphQL facade. Every setting is also an ONEWEB_* environment "
        "variable; these options override them.",
    )
    _add_listen_options(serve, port=DEFAULT_PORT)
    serve.add_argument(
        "--upstream",
        metavar="URL",
        help="ONEWEB base URL (default: env ONEWEB_BASE_URL, else the embedded runtime)",
    )
    _add_runtime_options(serve, env=True)
    serve.add_argument(
        "--workers",
        type=int,
        metavar="N",
        default=1,
        help="processes sharing the port, each on its own socket (default: %(default)s)",
    )

    runtime = commands.add_parser(
        "runtime",
        help="run the embedded ONEWEB runtime alone",
        description="Serve the embedded ONEWEB-compatible runtime's REST API alone.",
    )
    _add_listen_options(runtime, port=DEFAULT_RUNTIME_PORT)
    _add_runtime_options(runtime, env=False)

    export = commands.add_parser(
        "export-schema",
        help="print the GraphQL SDL",
        description="Print the GraphQL schema (SDL) that the facade serves.",
    )
    export.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="write the SDL to FILE instead (default: standard output)",
    )
    commands.add_parser(
        "settings",
        help="print every setting (ONEWEB_* environment variable) as a Markdown table",
        description="Print every setting: its environment variable, default and meaning.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "export-schema":
        from schema import sdl

        if args.output is None:
            sys.stdout.write(sdl())
        else:
            args.output.write_text(sdl())
        return 0
    if args.command == "settings":
        from .settings_table import markdown_table

        sys.stdout.write(markdown_table())
        return 0
    if args.command == "runtime":
        return _run_runtime(args)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    return _serve(args)


def _run_runtime(args: argparse.Namespace) -> int:
    import uvicorn

    from backend.embedded.app import create_app as create_runtime_app
    from backend.embedded.store import default_db_path
    from backend.models import API_PREFIX

    from .startup import AnnouncingServer, listen_url

    stop_cleanly_on_signals()
    db_path = args.db or default_db_path()
    app = create_runtime_app(db_path=db_path, processes_dir=args.processes)

    def announce(port: int) -> None:
        _say(f"ONEWEB runtime at {listen_url(args.host, port)}{API_PREFIX} (data in {db_path})")

    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning")
    return _run(AnnouncingServer(config, on_start=announce))


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .settings import Settings
    from .startup import AnnouncingServer, describe_facade

    # The options become the environment, so that every worker process reads the same.
    for value, name in (
        (args.upstream, "BASE_URL"),
        (args.db, "DB"),
        (args.processes, "PROCESSES"),
    ):
        if value:
            os.environ[f"ONEWEB_{name}"] = str(value)
    settings = Settings()
    stop_cleanly_on_signals()

    def announce(port: int) -> None:
        _say(describe_facade(settings, host=args.host, port=port, version=_version()))

    options: dict[str, Any] = {
        "log_level": "warning",
        # uvicorn's own records go through the facade's handler (JSON when configured);
        # its access log stays off: it would print query strings, where GET variables are.
        "log_config": None,
        "access_log": False,
        # WebSocket keep-alive: a ping every interval; no pong within as long closes it.
        "ws_ping_interval": settings.live_keepalive_s,
        "ws_ping_timeout": settings.live_keepalive_s,
        # No per-message deflate: its compressor and decompressor kept about 115 KB per
        # WebSocket connection (a live subscription's whole budget is 20 KB), for updates
        # of a few KB of JSON. HTTP responses are not compressed either.
        "ws_per_message_deflate": False,
        # A stop waits for requests in flight, but an HTTP subscription never finishes on
        # its own: after as long as an upstream call may take, what is left is cancelled.
        "timeout_graceful_shutdown": settings.timeout_s,
    }
    if args.workers > 1:
        from .workers import serve_workers

        return serve_workers(
            app=APP_FACTORY,
            host=args.host,
            port=args.port,
            workers=args.workers,
            options=options,
            on_start=announce,
        )
    config = uvicorn.Config(APP_FACTORY, factory=True, host=args.host, port=args.port, **options)
    return _run(AnnouncingServer(config, on_start=announce))


def _run(server: AnnouncingServer) -> int:
    from .startup import STARTUP_FAILURE

    server.run()
    return 0 if server.started else STARTUP_FAILURE


def _say(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
