"""Command line: `python -m watcher serve`, `gateway`, `export`, `backup` or `restore` (`--help`
lists every setting)."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from watcher import __version__
from watcher.config import Settings, describe
from watcher.eventloop import loop_name, new_event_loop
from watcher.gateway.config import describe as describe_gateway
from watcher.settings import EnvSettings, SettingsError

log = logging.getLogger("watcher")


def _settings_epilog(rows: list[tuple[str, str, str]] | None = None) -> str:
    lines = ["environment (also read from ./.env; flags win over the environment):"]
    for name, default, doc in describe() if rows is None else rows:
        lines.append(f"  {name}  (default: {default or 'empty'})")
        lines.extend(textwrap.wrap(doc, 76, initial_indent="      ", subsequent_indent="      "))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m watcher", description=__doc__)
    parser.add_argument("--version", action="version", version=f"jcode-watcher {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the HTTP service",
        description="Run the JCode Watcher service.",
        epilog=_settings_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", help="overrides WATCHER_HOST")
    serve.add_argument("--port", type=int, help="overrides WATCHER_PORT")
    serve.add_argument("--db-path", type=Path, help="overrides WATCHER_DB_PATH")
    gateway = commands.add_parser(
        "gateway",
        help="run the gateway that routes each class's requests to its instance",
        description="Run the JCode Watcher gateway: one address for collectors and the portal.",
        epilog=_settings_epilog(describe_gateway()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    gateway.add_argument("--host", help="overrides WATCHER_GATEWAY_HOST")
    gateway.add_argument("--port", type=int, help="overrides WATCHER_GATEWAY_PORT")
    gateway.add_argument("--routes-file", type=Path, help="overrides WATCHER_GATEWAY_ROUTES_FILE")
    export = commands.add_parser("export", help="write a data set of a class's history")
    formats = export.add_subparsers(dest="format", required=True)
    progsnap2 = formats.add_parser(
        "progsnap2",
        help="a ProgSnap2 zip (the same as GET /api/v2/classes/{class_div}/export/progsnap2)",
        description="Write a class's saves, builds and runs as a ProgSnap2 zip archive.",
        epilog=_settings_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _export_arguments(progsnap2)
    from watcher.backup.cli import add_arguments as backup_arguments

    backup_arguments(commands, _settings_epilog())
    return parser


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--class", dest="class_div", required=True, help="class, e.g. os-1")
    parser.add_argument("--assignment", help="only this assignment (default: all of the class)")
    parser.add_argument("--from", dest="start", help="events at or after (ISO 8601; none = KST)")
    parser.add_argument("--to", dest="end", help="events before (ISO 8601; none = KST)")
    parser.add_argument(
        "--pseudonymize",
        action="store_true",
        help="SubjectID as HMAC pseudonym (WATCHER_EXPORT_KEY)",
    )
    parser.add_argument(
        "--description", help="README.txt's description (WATCHER_EXPORT_DESCRIPTION)"
    )
    parser.add_argument("--contact-name", help="README.txt's contact (WATCHER_EXPORT_CONTACT_NAME)")
    parser.add_argument(
        "--contact-email", help="the contact's email address (WATCHER_EXPORT_CONTACT_EMAIL)"
    )
    parser.add_argument("--output", "-o", type=Path, required=True, help="zip file to write")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    parser.add_argument("--db-path", type=Path, help="overrides WATCHER_DB_PATH")


S = TypeVar("S", bound=EnvSettings)


def load_settings(cls: type[S], overrides: dict[str, Any]) -> S | None:
    """Settings from the environment with command-line flags on top; None (after saying why on
    stderr) when a value is invalid."""
    try:
        settings = cls.from_env()
    except SettingsError as exc:
        print(f"invalid setting: {exc}", file=sys.stderr)
        return None
    return dataclasses.replace(settings, **{k: v for k, v in overrides.items() if v is not None})


def gateway(args: argparse.Namespace) -> int:
    from watcher.gateway.app import create_gateway_app
    from watcher.gateway.config import GatewaySettings
    from watcher.logsetup import configure_logging

    overrides = {"host": args.host, "port": args.port, "routes_file": args.routes_file}
    settings = load_settings(GatewaySettings, overrides)
    if settings is None:
        return 2
    configure_logging(settings.log_level, settings.log_format)
    loop = new_event_loop(settings.event_loop)
    log.info(
        "jcode-watcher %s gateway on http://%s:%d, routing table %s, %s event loop",
        __version__,
        settings.host,
        settings.port,
        settings.routes_file,
        loop_name(loop),
    )
    web.run_app(
        create_gateway_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=None,  # the gateway's middleware logs each request once, with its class
        shutdown_timeout=settings.shutdown_timeout_s,
        keepalive_timeout=settings.header_timeout_s,  # the header deadline (see serve below)
        loop=loop,
        print=None,
    )
    return 0


def serve(settings: Settings) -> None:
    from watcher.app import create_app
    from watcher.logsetup import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    loop = new_event_loop(settings.event_loop)
    log.info(
        "jcode-watcher %s on http://%s:%d, database %s, %s event loop",
        __version__,
        settings.host,
        settings.port,
        settings.db_path.resolve(),
        loop_name(loop),
    )
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=None,  # the observe middleware logs each request once, with its route
        shutdown_timeout=settings.shutdown_timeout_s,
        # aiohttp closes a connection still waiting for a complete request head when its
        # keep-alive timer fires, from the moment it opens: that timer is the header deadline.
        keepalive_timeout=settings.header_timeout_s,
        loop=loop,
        print=None,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "gateway":  # its own WATCHER_GATEWAY_* settings, not the service's
        return gateway(args)
    if args.command == "export":
        from watcher.export.cli import run as export

        exported = load_settings(Settings, {"db_path": args.db_path})
        return 2 if exported is None else export(args, exported)
    if args.command in ("backup", "restore"):
        from watcher.backup.cli import run_backup, run_restore

        chosen = load_settings(Settings, {"db_path": args.db_path})
        if chosen is None:
            return 2
        return (run_backup if args.command == "backup" else run_restore)(args, chosen)
    overrides = {"host": args.host, "port": args.port, "db_path": args.db_path}
    settings = load_settings(Settings, overrides)
    if settings is None:
        return 2
    if args.command == "serve":
        serve(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
