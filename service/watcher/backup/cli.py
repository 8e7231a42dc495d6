"""`python -m watcher backup --to FILE` and `python -m watcher restore FILE`.

Same settings as `serve` (WATCHER_DB_PATH or --db-path, WATCHER_BUSY_TIMEOUT_MS). Exit status:
0 done; 1 the backup is damaged (checksum or integrity); 2 refused (bad arguments, nothing to
back up, a file in the way, a non-empty database without --force).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from watcher.backup import checksum
from watcher.backup.copy import (
    EVENT_TABLES,
    BackupError,
    Copied,
    DamagedError,
    Progress,
    backup,
    restore,
)
from watcher.config import Settings
from watcher.progress import ProgressBar

MIB = 1024 * 1024


def add_arguments(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], epilog: str
) -> None:
    """The two subcommands, for __main__'s parser."""
    formatter = argparse.RawDescriptionHelpFormatter
    made = commands.add_parser(
        "backup",
        help="write a consistent copy of the database (the service may keep running)",
        description="Write a consistent copy of the database, with FILE.sha256 beside it. "
        "Uses SQLite's online backup API: the service may keep running and writing.",
        epilog=epilog,
        formatter_class=formatter,
    )
    made.add_argument("--to", dest="target", type=Path, required=True, help="file to write")
    made.add_argument("--force", action="store_true", help="replace FILE if it exists")
    back = commands.add_parser(
        "restore",
        help="put a backup written by `backup` back into the database",
        description="Check FILE against FILE.sha256 and SQLite's integrity check, then copy it "
        "into the database (WATCHER_DB_PATH). Stop the service first; it migrates the restored "
        "schema forward when it starts.",
        epilog=epilog,
        formatter_class=formatter,
    )
    back.add_argument("source", type=Path, metavar="FILE", help="a file written by `backup`")
    back.add_argument(
        "--force", action="store_true", help="replace a database that already holds data"
    )
    for parser in (made, back):
        parser.add_argument("--db-path", type=Path, help="overrides WATCHER_DB_PATH")
        parser.add_argument(
            "--quiet", "-q", action="store_true", help="no progress bar, no summary"
        )


def _bar(args: argparse.Namespace, verb: str, unit: str) -> Progress | None:
    """A progress callback (done, total) drawing a bar on stderr, only on a terminal."""
    if args.quiet or not sys.stderr.isatty():
        return None
    bars: dict[int, ProgressBar] = {}

    def show(done: int, total: int) -> None:
        bar = bars.setdefault(total, ProgressBar(sys.stderr, total, verb, unit))
        bar(done)
        if done >= total:
            bar.finish()

    return show


def _events(rows: Mapping[str, int]) -> str:
    return ", ".join(f"{n:,} {EVENT_TABLES[table]}" for table, n in rows.items())


def _summary(copied: Copied) -> str:
    return (
        f"{copied.size_bytes / MIB:.1f} MiB, schema version {copied.schema_version}, "
        f"{_events(copied.rows) or 'no events'}"
    )


def _attempt(
    args: argparse.Namespace, verb: str, action: Callable[[Progress | None], Copied]
) -> Copied | int:
    """The copy (with a progress bar of its pages on a terminal), or the exit status after
    saying on stderr why it was not made."""
    try:
        return action(_bar(args, "copied" if verb == "backup" else "restored", "pages"))
    except BackupError as exc:
        print(f"{verb}: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, DamagedError) else 2


def run_backup(args: argparse.Namespace, settings: Settings) -> int:
    target = args.target
    if target.exists() and not args.force:
        print(f"backup: {target} exists; pass --force to replace it", file=sys.stderr)
        return 2
    if not target.parent.is_dir():
        print(f"backup: {target.parent} is not a directory", file=sys.stderr)
        return 2
    timeout = settings.busy_timeout_ms
    copied = _attempt(
        args,
        "backup",
        lambda bar: backup(settings.db_path, target, busy_timeout_ms=timeout, progress=bar),
    )
    if isinstance(copied, int):
        return copied
    if not args.quiet:
        print(f"wrote {target} ({_summary(copied)})", file=sys.stderr)
        print(f"wrote {checksum.checksum_path(target)} (sha256 {copied.sha256})", file=sys.stderr)
    return 0


def run_restore(args: argparse.Namespace, settings: Settings) -> int:
    source = args.source
    if not source.is_file():
        print(f"restore: no backup at {source}", file=sys.stderr)
        return 2
    verifying = _bar(args, "verified", "bytes")
    size = source.stat().st_size
    try:
        checksum.verify(source, None if verifying is None else lambda done: verifying(done, size))
    except checksum.ChecksumError as exc:
        print(f"restore: {exc}", file=sys.stderr)
        return 1
    timeout, force = settings.busy_timeout_ms, args.force
    copied = _attempt(
        args,
        "restore",
        lambda bar: restore(
            source, settings.db_path, force=force, busy_timeout_ms=timeout, progress=bar
        ),
    )
    if isinstance(copied, int):
        return copied
    if not args.quiet:
        print(f"restored {source} into {settings.db_path} ({_summary(copied)})", file=sys.stderr)
    return 0
