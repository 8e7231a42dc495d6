"""`python -m watcher export progsnap2`: the HTTP export's archive, written to a file.

Same settings as `serve` (WATCHER_DB_PATH or --db-path, WATCHER_EXPORT_KEY, WATCHER_SNAPSHOT_DIR,
WATCHER_EXPORT_DESCRIPTION / _CONTACT_NAME / _CONTACT_EMAIL or their flags), same parameters as the
route, same code (export.archive). The database may be in use by a running service: the export
reads one consistent moment of it beside the writer.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
from datetime import datetime

from watcher.config import Settings
from watcher.content import ContentReader
from watcher.export import selection
from watcher.export.archive import Contact, write_progsnap2
from watcher.progress import ProgressBar
from watcher.settings import email_address
from watcher.store.export import ExportSourceError, Selection, count_events, export_connection
from watcher.timefmt import KST


class UsageError(ValueError):
    """A parameter the export cannot run with; the message names it."""


def contact_of(args: argparse.Namespace, settings: Settings) -> Contact:
    """README.txt's description and contact: the flags, else the settings."""
    contact = Contact.of(settings)
    if args.contact_email is not None:
        try:
            email = email_address(args.contact_email)
        except ValueError as exc:
            raise UsageError(f"--contact-email {args.contact_email!r}: {exc}") from None
        contact = dataclasses.replace(contact, email=email)
    if args.contact_name is not None:
        contact = dataclasses.replace(contact, name=args.contact_name.strip())
    if args.description is not None and args.description.strip():
        contact = dataclasses.replace(contact, description=args.description.strip())
    return contact


_FLAGS = {"class_div": "--class", "assignment": "--assignment", "from": "--from", "to": "--to",
          "pseudonymize": "--pseudonymize"}  # fmt: skip


def selection_of(args: argparse.Namespace, settings: Settings) -> tuple[Selection, bytes | None]:
    """The route's rules (export/selection.py), each message naming the flag."""
    try:
        return selection.check(
            args.class_div, args.assignment, args.start, args.end, args.pseudonymize,
            settings.export_key,
        )  # fmt: skip
    except selection.SelectionError as exc:
        problems = "; ".join(f"{_FLAGS[p.field]} {p.value!r}: {p.message}" for p in exc.problems)
        raise UsageError(problems) from None


async def _export(
    args: argparse.Namespace,
    settings: Settings,
    selection: Selection,
    key: bytes | None,
    contact: Contact,
) -> int:
    partial = args.output.with_name(args.output.name + ".part")
    show = not args.quiet and sys.stderr.isatty()
    async with export_connection(settings.db_path, settings.busy_timeout_ms) as conn:
        bar = None
        if show:
            total = sum((await count_events(conn, selection)).values())
            bar = ProgressBar(sys.stderr, total, unit="")  # the pass names the unit
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
                    contact=contact,
                    progress=None if bar is None else lambda phase, done: bar(done, phase),
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
        contact = contact_of(args, settings)
    except UsageError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_export(args, settings, selection, key, contact))
    except ExportSourceError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 2
