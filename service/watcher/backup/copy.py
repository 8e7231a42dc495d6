"""Whole-database copies through SQLite's online backup API: into a backup file while the
service keeps running, and from a backup file back into the service's database.

The backup API copies pages, not rows, so it knows nothing of the schema; the only statements
here are pragmas and row counts for the summary. Both directions go through SQLite's locking,
which is what makes them safe beside a live service (and beside Litestream, which sees a
restore as one large transaction it replicates like any other).
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlencode

from watcher.backup.checksum import file_sha256, write_checksum
from watcher.store.migrations import LATEST_VERSION

# 1 MiB of 4 KiB pages per step: the progress bar moves, and the copy is not slowed much.
PAGES_PER_STEP = 256
EVENT_TABLES = {"snapshot": "snapshots", "buildlog": "builds", "runlog": "runs"}

Progress = Callable[[int, int], None]  # (pages copied, pages in all)


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why, for the person at the
    terminal."""


class DamagedError(BackupError):
    """A database file that fails SQLite's integrity check."""


@dataclasses.dataclass(frozen=True)
class Copied:
    path: Path
    pages: int
    size_bytes: int
    schema_version: int
    rows: Mapping[str, int]  # events by table: snapshot, buildlog, runlog
    sha256: str = ""  # of a backup file; empty for a restore


def _connect(path: Path, busy_timeout_ms: int, **uri: str) -> sqlite3.Connection:
    """isolation_level=None: the transactions here are the ones written out below."""
    if uri:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?{urlencode(uri)}", uri=True, isolation_level=None
        )
    else:
        conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    return conn


def _tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return [name for (name,) in rows]


def _event_rows(conn: sqlite3.Connection) -> dict[str, int]:
    present = set(_tables(conn))
    return {
        table: conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
        for table in EVENT_TABLES
        if table in present
    }


def _holds_data(conn: sqlite3.Connection) -> bool:
    """Whether any table has a row: a database the service created and never wrote to (its
    tables made by migrations, all empty) may be restored into without --force."""
    return any(
        conn.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}")').fetchone()[0]
        for table in _tables(conn)
    )


def _refuse_if_holding_data(target: Path, busy_timeout_ms: int) -> None:
    # Read-only: a refused restore leaves the target byte for byte as it was (a read-write
    # connection would checkpoint its WAL on close).
    conn = _connect(target, busy_timeout_ms, mode="ro")
    try:
        if _holds_data(conn):
            held = ", ".join(f"{n:,} {EVENT_TABLES[t]}" for t, n in _event_rows(conn).items())
            raise BackupError(
                f"{target} already holds data ({held or 'rows'}); restoring would replace "
                "all of it. Stop the service, then pass --force to replace it"
            )
    finally:
        conn.close()


def _check_integrity(conn: sqlite3.Connection, what: Path) -> None:
    found = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchmany(5)]
    if found != ["ok"]:
        raise DamagedError(f"{what} fails SQLite's integrity check: {'; '.join(found)}")


def _copy_pages(src: sqlite3.Connection, dst: sqlite3.Connection, progress: Progress | None) -> int:
    total: int = src.execute("PRAGMA page_count").fetchone()[0]

    def step(_status: int, remaining: int, pages: int) -> None:
        assert progress is not None
        progress(pages - remaining, pages)

    src.backup(dst, pages=PAGES_PER_STEP, progress=step if progress is not None else None)
    return total


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup(
    source: Path, target: Path, *, busy_timeout_ms: int, progress: Progress | None = None
) -> Copied:
    """Copy the database at `source` into `target` (a self-contained file in rollback-journal
    mode) and write `target.sha256`. Only a complete, checked copy takes the name `target`."""
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    partial = target.with_name(target.name + ".part")
    partial.unlink(missing_ok=True)
    try:
        src = _connect(source, busy_timeout_ms, mode="ro")
        try:
            # One read transaction for the whole copy: every step reads the same moment of the
            # database, and the service's writer goes on beside it (WAL: neither blocks the
            # other). Without it, each step would read anew and a write in between would make
            # SQLite start the copy over, possibly for ever under steady ingest.
            src.execute("BEGIN")
            version = src.execute("PRAGMA user_version").fetchone()[0]
            rows = _event_rows(src)
            dst = _connect(partial, busy_timeout_ms)
            try:
                pages = _copy_pages(src, dst, progress)
                # The copy carries the source's WAL flag; a backup is better as one file that
                # any sqlite3 opens without a -wal beside it.
                dst.execute("PRAGMA journal_mode = DELETE")
                _check_integrity(dst, target)
            finally:
                dst.close()
            src.execute("COMMIT")
        finally:
            src.close()
    except (sqlite3.Error, BackupError) as exc:
        partial.unlink(missing_ok=True)
        if isinstance(exc, BackupError):
            raise
        raise BackupError(f"cannot back up {source}: {exc}") from None
    _fsync(partial)
    digest = file_sha256(partial)
    os.replace(partial, target)
    write_checksum(target, digest)
    _fsync(target.parent)
    return Copied(target, pages, target.stat().st_size, version, rows, digest)


def restore(
    source: Path,
    target: Path,
    *,
    force: bool,
    busy_timeout_ms: int,
    progress: Progress | None = None,
) -> Copied:
    """Copy the backup file `source` into the database at `target` (created if missing).

    Refuses a damaged backup, a file that is not a watcher database, one written by a newer
    release, and - unless `force` - a target that already holds data. The target keeps WAL
    mode; its schema is the backup's, which the service migrates forward when it starts.
    """
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    try:
        # immutable: nothing writes to a backup file, so no locks and no -shm are needed.
        src = _connect(source, busy_timeout_ms, mode="ro", immutable="1")
        try:
            _check_integrity(src, source)
            if "snapshot" not in _tables(src):
                raise BackupError(f"{source} is not a JCode Watcher database (no snapshot table)")
            version = src.execute("PRAGMA user_version").fetchone()[0]
            if version > LATEST_VERSION:
                raise BackupError(
                    f"{source} has schema version {version}, newer than this release's "
                    f"{LATEST_VERSION}: restore it with the release that wrote it"
                )
            rows = _event_rows(src)
            if not force and target.exists():
                _refuse_if_holding_data(target, busy_timeout_ms)
            target.parent.mkdir(parents=True, exist_ok=True)
            dst = _connect(target, busy_timeout_ms)
            try:
                pages = _copy_pages(src, dst, progress)
                dst.execute("PRAGMA journal_mode = WAL")  # the service's mode
                _check_integrity(dst, target)
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot restore {source} into {target}: {exc}") from None
    return Copied(target, pages, target.stat().st_size, version, rows)
