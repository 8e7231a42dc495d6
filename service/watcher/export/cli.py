"""`python -m watcher export progsnap2`: the HTTP export's archive, written to a file.

Same settings as `serve` (WATCHER_DB_PATH or --db-path, WATCHER_EXPORT_KEY, WATCHER_SNAPSHOT_DIR),
same parameters as the route, same code (export.archive). The database may be in use by a running
service: the export reads one consistent moment of it beside the writer.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import datetime

from watcher.api.params import parse_datetime
from watcher.config import Settings
from watcher.content import ContentReader
from watcher.export.archive import write_progsnap2
from watcher.names import CLASS_DIV, HW_NAME
from watcher.progress import ProgressBar
from watcher.store.export import ExportSourceError, Selection, count_events, export_connection
from watcher.timefmt import KST


class UsageError(ValueError):
    """A parameter the export cannot run with; the message names it."""


def _bound(raw: str | None, flag: str) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = parse_datetime(raw)
        if moment.tzinfo is not None:
            moment = moment.astimezone(KST).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError) as exc:
        raise UsageError(f"{flag} {raw!r}: expected an ISO 8601 date-time ({exc})") from None
    return moment


def selection_of(args: argparse.Namespace, settings: Settings) -> tuple[Selection, bytes | None]:
    """The same checks as the route's, with the flag's name in each message."""
    if not CLASS_DIV.fullmatch(args.class_div):
        raise UsageError(f"--class {args.class_div!r}: expected <subject>-<division>, e.g. os-1")
    if args.assignment is not None and not HW_NAME.fullmatch(args.assignment):
        raise UsageError(f"--assignment {args.assignment!r}: expected a name such as hw1")
    start, end = _bound(args.start, "--from"), _bound(args.end, "--to")
    if start is not None and end is not None and end <= start:
        raise UsageError("--to must be later than --from")
    key = None
    if args.pseudonymize:
        if not settings.export_key:
            raise UsageError("--pseudonymize needs a key: set WATCHER_EXPORT_KEY")
        key = settings.export_key.encode()
    return Selection(args.class_div, args.assignment, start, end), key


async def _export(
    args: argparse.Namespace, settings: Settings, selection: Selection, key: bytes | None
) -> int:
    partial = args.output.with_name(args.output.name + ".part")
    show = not args.quiet and sys.stderr.isatty()
    async with export_connection(settings.db_path, settings.busy_timeout_ms) as conn:
        bar = None
        if show:
            bar = ProgressBar(sys.stderr, sum((await count_events(conn, selection)).values()))
        try:
            with partial.open("wb") as out:

                async def sink(data: bytes) -> None:
                    out.write(data)

                counts = await write_progsnap2(
                    conn,
                    selection,
                    sink,
                    created=datetime.now(KST),
                    key=key,
                    content=ContentReader.from_settings(settings),
                    progress=bar,
                )
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        if bar is not None:
            bar.finish()
    # Only a complete archive takes the name: a failed export leaves no zip that looks whole.
    os.replace(partial, args.output)
    if not args.quiet:
        summary = ", ".join(f"{n:,} {kind}" for kind, n in sorted(counts.items())) or "no events"
        print(f"wrote {args.output}: {summary}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Exit status: 0 written, 2 bad parameters or database."""
    try:
        selection, key = selection_of(args, settings)
    except UsageError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_export(args, settings, selection, key))
    except ExportSourceError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 2
