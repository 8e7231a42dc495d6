"""The SQL of the ProgSnap2 export (issue 9): a class's snapshots, builds and runs in time order.

An export reads a whole class (or one assignment) once, so it gets a connection of its own rather
than holding one of the service's few pooled readers for minutes. Everything is read inside one
read transaction: the three tables, the counts and the code-state map describe the same moment,
whatever is ingested meanwhile (WAL lets the writer carry on beside it).

Rows are never loaded all at once: each table is read by one ordered query, fetched in chunks, and
the three streams are merged by time in Python. SQLite sorts what no index orders (temp_store is
set to FILE, so a large sort spills to disk instead of growing memory).
"""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import aiosqlite

from watcher.timefmt import COMPACT, STORED_LOG, format_time, parse_compact

CHUNK_ROWS = 1000

SNAPSHOT = "snapshot"
BUILD = "build"
RUN = "run"
# At the same instant a save comes before the compile that reads it, and the compile before the run.
_KIND_RANK = {SNAPSHOT: 0, BUILD: 1, RUN: 2}


class ExportSourceError(Exception):
    """The database file cannot be exported (missing, or not a JCode Watcher database)."""


@dataclass(frozen=True)
class Selection:
    """What to export. Times are naive KST wall clock; `start` is inclusive, `end` exclusive, so
    consecutive windows (week 1, week 2, ...) never export a row twice."""

    class_div: str
    hw_name: str | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class Event:
    """One row of any of the three tables, as the export needs it (no cwd, cmdline or paths: they
    name the student's workspace and would defeat pseudonymisation)."""

    kind: str  # SNAPSHOT, BUILD or RUN
    row_id: int
    hw_name: str
    student_id: int
    moment: datetime  # naive KST
    filename: str | None = None  # snapshots: the file, `/` written as `@`
    file_size: int | None = None  # snapshots: bytes; 0 is a deletion
    exit_code: int | None = None  # builds and runs
    jupyter: bool = False  # runs: a notebook cell run reported by the Jupyter hook
    code_state_id: str | None = None  # snapshots whose content was exported

    @property
    def sort_key(self) -> tuple[datetime, int, int]:
        return (self.moment, _KIND_RANK[self.kind], self.row_id)


@asynccontextmanager
async def export_connection(
    path: Path, busy_timeout_ms: int
) -> AsyncIterator[aiosqlite.Connection]:
    """A connection inside one read transaction, rolled back at the end.

    Not `query_only`: the export keeps its code-state map in a TEMP table. Nothing else is written.
    """
    try:
        # mode=rw: a missing file is an error, not a new empty database.
        uri = f"file:{quote(str(path))}?mode=rw"
        conn = await aiosqlite.connect(uri, uri=True, isolation_level=None)
    except sqlite3.OperationalError as exc:
        raise ExportSourceError(f"cannot open the database {path}: {exc}") from None
    try:
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        await conn.execute("PRAGMA temp_store = FILE")
        async with conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            " AND name IN ('snapshot', 'buildlog', 'runlog')"
        ) as cursor:
            row = await cursor.fetchone()
        if not row or row[0] != 3:
            raise ExportSourceError(f"{path} is not a JCode Watcher database")
        await conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS export_code_state"
            " (snapshot_id INTEGER PRIMARY KEY, code_state_id TEXT NOT NULL)"
        )
        await conn.execute("BEGIN")
        try:
            yield conn
        finally:
            await conn.execute("ROLLBACK")
    finally:
        await conn.close()


def _ceil_second(moment: datetime) -> datetime | None:
    """The first whole second at or after `moment`; None past year 9999."""
    if not moment.microsecond:
        return moment
    try:
        return moment.replace(microsecond=0) + timedelta(seconds=1)
    except OverflowError:
        return None


def _where(selection: Selection, kind: str) -> tuple[str, list]:
    """The WHERE clause of one table. Snapshot times are `YYYYMMDD_HHMMSS`, log times
    `YYYY-MM-DD HH:MM:SS.ffffff`: both compare as text in time order."""
    clauses, params = ["class_div = ?"], [selection.class_div]
    if selection.hw_name is not None:
        clauses.append("hw_name = ?")
        params.append(selection.hw_name)
    for bound, op in ((selection.start, ">="), (selection.end, "<")):
        if bound is None:
            continue
        if kind == SNAPSHOT:
            # Snapshots have whole seconds: t >= x and t < x both hold exactly when they hold
            # for x rounded up to the second.
            second = _ceil_second(bound)
            text = "99999999_999999" if second is None else format_time(second, COMPACT)
        else:
            text = format_time(bound, STORED_LOG)
        clauses.append(f"timestamp {op} ?")
        params.append(text)
    return " AND ".join(clauses), params


async def count_events(conn: aiosqlite.Connection, selection: Selection) -> dict[str, int]:
    """Rows per kind that `events` will yield (for progress reporting and tests)."""
    counts = {}
    for kind, table in ((SNAPSHOT, "snapshot"), (BUILD, "buildlog"), (RUN, "runlog")):
        where, params = _where(selection, kind)
        async with conn.execute(f"SELECT count(*) FROM {table} WHERE {where}", params) as cursor:
            row = await cursor.fetchone()
        counts[kind] = row[0] if row else 0
    return counts


async def _chunks(
    conn: aiosqlite.Connection, sql: str, params: Sequence, chunk: int
) -> AsyncIterator[tuple]:
    async with conn.execute(sql, params) as cursor:
        while rows := await cursor.fetchmany(chunk):
            for row in rows:
                yield tuple(row)


async def _snapshots(conn, selection: Selection, chunk: int) -> AsyncIterator[Event]:
    where, params = _where(selection, SNAPSHOT)
    sql = (
        "SELECT s.id, s.hw_name, s.student_id, s.filename, s.timestamp, s.file_size,"
        " m.code_state_id FROM snapshot AS s"
        " LEFT JOIN temp.export_code_state AS m ON m.snapshot_id = s.id"
        f" WHERE {where} ORDER BY s.timestamp, s.id"
    )
    async for r in _chunks(conn, sql, params, chunk):
        yield Event(SNAPSHOT, r[0], r[1], r[2], parse_compact(r[4]), filename=r[3],
                    file_size=r[5], code_state_id=r[6])  # fmt: skip


async def _builds(conn, selection: Selection, chunk: int) -> AsyncIterator[Event]:
    where, params = _where(selection, BUILD)
    sql = (
        "SELECT id, hw_name, student_id, timestamp, exit_code FROM buildlog"
        f" WHERE {where} ORDER BY timestamp, id"
    )
    async for r in _chunks(conn, sql, params, chunk):
        yield Event(BUILD, r[0], r[1], r[2], datetime.fromisoformat(r[3]), exit_code=r[4])


async def _runs(conn, selection: Selection, chunk: int) -> AsyncIterator[Event]:
    where, params = _where(selection, RUN)
    sql = (
        "SELECT id, hw_name, student_id, timestamp, exit_code, target_path = 'ipykernel'"
        f" FROM runlog WHERE {where} ORDER BY timestamp, id"
    )
    async for r in _chunks(conn, sql, params, chunk):
        yield Event(RUN, r[0], r[1], r[2], datetime.fromisoformat(r[3]), exit_code=r[4],
                    jupyter=bool(r[5]))  # fmt: skip


async def _merge(streams: Sequence[AsyncIterator[Event]]) -> AsyncIterator[Event]:
    """Streams each sorted by `sort_key` -> one stream sorted by it (one head per stream held)."""
    heap: list[tuple[tuple, int, Event]] = []
    for index, stream in enumerate(streams):
        first = await anext(stream, None)
        if first is not None:
            heap.append((first.sort_key, index, first))
    heapq.heapify(heap)
    while heap:
        _key, index, event = heap[0]
        yield event
        following = await anext(streams[index], None)
        if following is None:
            heapq.heappop(heap)
        else:
            heapq.heapreplace(heap, (following.sort_key, index, following))


def events(
    conn: aiosqlite.Connection, selection: Selection, chunk: int = CHUNK_ROWS
) -> AsyncIterator[Event]:
    """Every snapshot, build and run of the selection in time order; ties: saves, then builds,
    then runs, each by id. At most `chunk` rows per table are in memory at a time."""
    return _merge(
        [
            _snapshots(conn, selection, chunk),
            _builds(conn, selection, chunk),
            _runs(conn, selection, chunk),
        ]
    )


async def snapshot_files(
    conn: aiosqlite.Connection, selection: Selection
) -> AsyncIterator[tuple[str, int, str]]:
    """(hw_name, student_id, filename) of every file with a snapshot in the selection."""
    where, params = _where(selection, SNAPSHOT)
    sql = (
        f"SELECT DISTINCT hw_name, student_id, filename FROM snapshot WHERE {where}"
        " ORDER BY hw_name, student_id, filename"
    )
    async for row in _chunks(conn, sql, params, CHUNK_ROWS):
        yield row[0], row[1], row[2]


def stamp_in_selection(stamp: str, selection: Selection) -> bool:
    """Whether a snapshot's `YYYYMMDD_HHMMSS` time falls in the selection's window."""
    for bound, inside in ((selection.start, True), (selection.end, False)):
        if bound is None:
            continue
        second = _ceil_second(bound)
        text = "99999999_999999" if second is None else format_time(second, COMPACT)
        if (stamp >= text) != inside:
            return False
    return True


async def record_code_states(conn: aiosqlite.Connection, pairs: Iterable[tuple[int, str]]) -> None:
    """Remember snapshot id -> CodeStateID for the MainTable pass (TEMP table: disk, not memory)."""
    await conn.executemany(
        "INSERT OR REPLACE INTO temp.export_code_state (snapshot_id, code_state_id) VALUES (?, ?)",
        list(pairs),
    )


async def has_content_tables(conn: aiosqlite.Connection) -> bool:
    """Whether the database has the content tables (a database of the original backend, or of a
    release before issue 9, has none)."""
    async with conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        " AND name IN ('snapshot_content', 'content_blob')"
    ) as cursor:
        row = await cursor.fetchone()
    return bool(row and row[0] == 2)


async def has_stored_content(conn: aiosqlite.Connection) -> bool:
    """Whether any snapshot has posted content (the content tables must exist)."""
    async with conn.execute("SELECT EXISTS (SELECT 1 FROM snapshot_content)") as cursor:
        row = await cursor.fetchone()
    return bool(row and row[0])
