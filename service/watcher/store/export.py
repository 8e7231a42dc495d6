"""The SQL of the ProgSnap2 export (issue 9): a class's snapshots, builds and runs in time order.

An export reads a whole class (or one assignment) once, so it gets a connection of its own rather
than holding one of the service's few pooled readers for minutes. Everything is read inside one
read transaction: the three tables, the counts and the code-state map describe the same moment,
whatever is ingested meanwhile (WAL lets the writer carry on beside it). The HTTP route never
keeps that transaction open while a client is slow: it writes the archive to a spool file first
(export/spool.py).

Rows are never loaded all at once: each table is read by one ordered query, fetched in chunks, and
the three streams are merged by time in Python. SQLite sorts what no index orders (temp_store is
set to FILE, so a large sort spills to disk instead of growing memory).

The order of events, here and in the v2 timeline (store/insights.py): by time, a save's stamp
(whole seconds) counting as the start of its second, so within a second the saves come first (in
the order they were posted, by id), then builds and runs by their exact time, a build before a run
at the same instant.
"""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Sequence
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import aiosqlite

from watcher.store.queries import Params, Row
from watcher.timefmt import COMPACT, STORED_LOG, format_time, parse_compact

CHUNK_ROWS = 1000

SNAPSHOT = "snapshot"
BUILD = "build"
RUN = "run"
# At the same instant a save comes before the compile that reads it, and the compile before the run.
KIND_RANK = {SNAPSHOT: 0, BUILD: 1, RUN: 2}
_TABLES = {SNAPSHOT: "snapshot", BUILD: "buildlog", RUN: "runlog"}
# The two orders the events are read in: Event.sort_key and Event.student_key.
SortKey = tuple[datetime, int, int] | tuple[str, int, datetime, int, int]


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
    """One row of any of the three tables, as the export needs it (no cwd or cmdline: they name the
    student's workspace and would defeat pseudonymisation)."""

    kind: str  # SNAPSHOT, BUILD or RUN
    row_id: int
    hw_name: str
    student_id: int
    moment: datetime  # naive KST
    filename: str | None = None  # snapshots: the file, `/` written as `@`
    file_size: int | None = None  # snapshots: bytes; 0 is a deletion
    exit_code: int | None = None  # builds and runs
    jupyter: bool = False  # runs: a notebook cell run reported by the Jupyter hook
    target_path: str | None = None  # builds: the compiled source file
    code_state_id: str | None = None  # the code state recorded by the export's first pass

    @property
    def sort_key(self) -> tuple[datetime, int, int]:
        return (self.moment, KIND_RANK[self.kind], self.row_id)

    @property
    def student_key(self) -> tuple[str, int, datetime, int, int]:
        """One student's assignment's events together, in time order."""
        return (self.hw_name, self.student_id, *self.sort_key)

    @property
    def event_id(self) -> str:
        return f"{self.kind}-{self.row_id}"


@dataclass(frozen=True)
class Baseline:
    """A file's last save before the export's window: where its code stood when the window began."""

    hw_name: str
    student_id: int
    filename: str
    row_id: int
    file_size: int


@asynccontextmanager
async def export_connection(
    path: Path, busy_timeout_ms: int
) -> AsyncIterator[aiosqlite.Connection]:
    """A connection inside one read transaction, rolled back at the end.

    Not `query_only`: the export keeps its code-state map in TEMP tables. Nothing else is written.
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
        for statement in _TEMP_TABLES:
            await conn.execute(statement)
        await conn.execute("BEGIN")
        try:
            yield conn
        finally:
            await conn.execute("ROLLBACK")
    finally:
        await conn.close()


# Every event's CodeStateID, and each code state's LinkTables row: on disk, not in memory.
_TEMP_TABLES = (
    "CREATE TEMP TABLE IF NOT EXISTS export_code_state (kind INTEGER NOT NULL,"
    " row_id INTEGER NOT NULL, code_state_id TEXT NOT NULL, PRIMARY KEY (kind, row_id))"
    " WITHOUT ROWID",
    "CREATE TEMP TABLE IF NOT EXISTS export_code_state_link (code_state_id TEXT PRIMARY KEY,"
    " files INTEGER NOT NULL, unknown TEXT NOT NULL) WITHOUT ROWID",
)


def _ceil_second(moment: datetime) -> datetime | None:
    """The first whole second at or after `moment`; None past year 9999."""
    if not moment.microsecond:
        return moment
    try:
        return moment.replace(microsecond=0) + timedelta(seconds=1)
    except OverflowError:
        return None


def _bound_text(kind: str, bound: datetime) -> str:
    """A window bound as the table's stored text. Snapshot times are `YYYYMMDD_HHMMSS`, log times
    `YYYY-MM-DD HH:MM:SS.ffffff`: both compare as text in time order. Snapshots have whole
    seconds: t >= x and t < x both hold exactly when they hold for x rounded up to the second."""
    if kind != SNAPSHOT:
        return format_time(bound, STORED_LOG)
    second = _ceil_second(bound)
    return "99999999_999999" if second is None else format_time(second, COMPACT)


def _where(selection: Selection, kind: str, alias: str = "") -> tuple[str, list[str]]:
    """The WHERE clause of one table (columns prefixed with `alias`)."""
    clauses, params = [f"{alias}class_div = ?"], [selection.class_div]
    if selection.hw_name is not None:
        clauses.append(f"{alias}hw_name = ?")
        params.append(selection.hw_name)
    for bound, op in ((selection.start, ">="), (selection.end, "<")):
        if bound is not None:
            clauses.append(f"{alias}timestamp {op} ?")
            params.append(_bound_text(kind, bound))
    return " AND ".join(clauses), params


async def count_events(conn: aiosqlite.Connection, selection: Selection) -> dict[str, int]:
    """Rows per kind that `events` will yield (for progress reporting and tests)."""
    counts = {}
    for kind, table in _TABLES.items():
        where, params = _where(selection, kind)
        async with conn.execute(f"SELECT count(*) FROM {table} WHERE {where}", params) as cursor:
            row = await cursor.fetchone()
        counts[kind] = row[0] if row else 0
    return counts


async def _chunks(
    conn: aiosqlite.Connection, sql: str, params: Params, chunk: int
) -> AsyncGenerator[Row, None]:
    async with conn.execute(sql, params) as cursor:
        while rows := await cursor.fetchmany(chunk):
            for row in rows:
                yield tuple(row)


def _code_state(kind: str, with_states: bool) -> tuple[str, str]:
    """(column, join) of an event's recorded CodeStateID; NULL in the first pass, which is still
    writing the map (a statement must not read a table the connection changes under it)."""
    if not with_states:
        return "NULL", ""
    return "m.code_state_id", (
        f" LEFT JOIN temp.export_code_state AS m ON m.kind = {KIND_RANK[kind]} AND m.row_id = s.id"
    )


def _snapshot_time(stamp: str) -> datetime:
    """A stored `YYYYMMDD_HHMMSS` (strptime is the export's slowest step otherwise)."""
    try:
        return datetime(int(stamp[0:4]), int(stamp[4:6]), int(stamp[6:8]), int(stamp[9:11]),
                        int(stamp[11:13]), int(stamp[13:15]))  # fmt: skip
    except ValueError:
        return parse_compact(stamp)  # raises the usual error for a malformed stamp


def _snapshot_event(r: Row) -> Event:
    return Event(SNAPSHOT, r[0], r[1], r[2], _snapshot_time(r[3]), filename=r[4], file_size=r[5],
                 code_state_id=r[6])  # fmt: skip


def _build_event(r: Row) -> Event:
    return Event(BUILD, r[0], r[1], r[2], datetime.fromisoformat(r[3]), exit_code=r[4],
                 target_path=r[5], code_state_id=r[6])  # fmt: skip


def _run_event(r: Row) -> Event:
    return Event(RUN, r[0], r[1], r[2], datetime.fromisoformat(r[3]), exit_code=r[4],
                 jupyter=bool(r[5]), code_state_id=r[6])  # fmt: skip


# Per kind: the columns after (id, hw_name, student_id, timestamp), and the row's Event.
_READS: dict[str, tuple[str, Callable[[Row], Event]]] = {
    SNAPSHOT: ("s.filename, s.file_size", _snapshot_event),
    BUILD: ("s.exit_code, s.target_path", _build_event),
    RUN: ("s.exit_code, s.target_path = 'ipykernel'", _run_event),
}


async def _read(
    conn: aiosqlite.Connection,
    kind: str,
    selection: Selection,
    chunk: int,
    order: str,
    with_states: bool,
) -> AsyncGenerator[Event, None]:
    """One table's events of the selection in `order`, `chunk` rows fetched at a time."""
    where, params = _where(selection, kind, "s.")
    state, join = _code_state(kind, with_states)
    columns, event = _READS[kind]
    sql = (
        f"SELECT s.id, s.hw_name, s.student_id, s.timestamp, {columns}, {state}"
        f" FROM {_TABLES[kind]} AS s{join} WHERE {where} ORDER BY {order}"
    )
    async with aclosing(_chunks(conn, sql, params, chunk)) as rows:
        async for r in rows:
            yield event(r)


async def _merge(
    streams: Sequence[AsyncGenerator[Event, None]], key: Callable[[Event], SortKey]
) -> AsyncGenerator[Event, None]:
    """Streams each sorted by `key` -> one stream sorted by it (one head per stream held). The
    streams are closed when the merge ends or is closed, so no cursor outlives the export."""
    try:
        heap: list[tuple[SortKey, int, Event]] = []
        for index, stream in enumerate(streams):
            first = await anext(stream, None)
            if first is not None:
                heap.append((key(first), index, first))
        heapq.heapify(heap)
        while heap:
            _key, index, event = heap[0]
            yield event
            following = await anext(streams[index], None)
            if following is None:
                heapq.heappop(heap)
            else:
                heapq.heapreplace(heap, (key(following), index, following))
    finally:
        for stream in streams:
            await stream.aclose()


def events(
    conn: aiosqlite.Connection, selection: Selection, chunk: int = CHUNK_ROWS
) -> AsyncGenerator[Event, None]:
    """Every snapshot, build and run of the selection in time order (the module's rule), with the
    code state recorded for it. At most `chunk` rows per table are in memory at a time."""
    order = "s.timestamp, s.id"
    streams = [_read(conn, kind, selection, chunk, order, True) for kind in _TABLES]
    return _merge(streams, lambda e: e.sort_key)


def student_events(
    conn: aiosqlite.Connection, selection: Selection, chunk: int = CHUNK_ROWS
) -> AsyncGenerator[Event, None]:
    """The same events grouped by assignment and student, each group in time order (served by
    the per-student indexes), without code states (the first pass records them)."""
    order = "s.hw_name, s.student_id, s.timestamp, s.id"
    streams = [_read(conn, kind, selection, chunk, order, False) for kind in _TABLES]
    return _merge(streams, lambda e: e.student_key)


async def baselines(
    conn: aiosqlite.Connection, selection: Selection
) -> AsyncGenerator[Baseline, None]:
    """Each file's last save before the window's start, by assignment, student and file (nothing
    when the window has no start)."""
    if selection.start is None:
        return
    where, params = _where(Selection(selection.class_div, selection.hw_name), SNAPSHOT)
    sql = (
        "SELECT hw_name, student_id, filename, id, file_size FROM ("
        " SELECT hw_name, student_id, filename, id, file_size, ROW_NUMBER() OVER ("
        "  PARTITION BY hw_name, student_id, filename ORDER BY timestamp DESC, id DESC) AS n"
        f" FROM snapshot WHERE {where} AND timestamp < ?) WHERE n = 1"
        " ORDER BY hw_name, student_id, filename"
    )
    bound = _bound_text(SNAPSHOT, selection.start)
    async with aclosing(_chunks(conn, sql, [*params, bound], CHUNK_ROWS)) as rows:
        async for r in rows:
            yield Baseline(*r)


def stamp_in_selection(stamp: str, selection: Selection) -> bool:
    """Whether a snapshot's `YYYYMMDD_HHMMSS` time falls in the selection's window."""
    if selection.start is not None and stamp < _bound_text(SNAPSHOT, selection.start):
        return False
    return selection.end is None or stamp < _bound_text(SNAPSHOT, selection.end)


async def record_code_states(
    conn: aiosqlite.Connection, pairs: Iterable[tuple[str, int, str]]
) -> None:
    """Remember (kind, row id) -> CodeStateID for the MainTable pass."""
    await conn.executemany(
        "INSERT OR REPLACE INTO temp.export_code_state (kind, row_id, code_state_id)"
        " VALUES (?, ?, ?)",
        [(KIND_RANK[kind], row_id, state) for kind, row_id, state in pairs],
    )


async def record_link_rows(
    conn: aiosqlite.Connection, rows: Iterable[tuple[str, int, str]]
) -> None:
    """Remember each code state's LinkTables row (the first time it is written)."""
    await conn.executemany(
        "INSERT OR IGNORE INTO temp.export_code_state_link (code_state_id, files, unknown)"
        " VALUES (?, ?, ?)",
        list(rows),
    )


async def link_rows(conn: aiosqlite.Connection) -> AsyncGenerator[tuple[str, int, str], None]:
    """Every code state's LinkTables row, by id."""
    sql = "SELECT code_state_id, files, unknown FROM temp.export_code_state_link ORDER BY 1"
    async with aclosing(_chunks(conn, sql, (), CHUNK_ROWS)) as rows:
        async for row in rows:
            yield row


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
