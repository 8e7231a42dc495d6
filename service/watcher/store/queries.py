"""Read queries. Each returns plain values (tuples of up to three) or named types and is served by
an index or by the maintained aggregates (store/schema/): none reads an assignment's whole
history."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

import aiosqlite

from watcher.events import LOG_TABLES
from watcher.records import Scope, StudentSnapshots, StudentTotals
from watcher.store.schema import BUCKET_SHIFT
from watcher.store.sqltime import compact_seconds

# One result row. The connections have no row_factory, so sqlite3 returns plain tuples (aiosqlite
# declares sqlite3.Row, the type a row_factory could make them); a column's type is the SQL's.
Row = tuple[Any, ...]
# The parameters of one statement.
Params = Sequence[object]


async def fetch_all(conn: aiosqlite.Connection, sql: str, params: Params) -> list[Row]:
    """Every row of one query, as tuples. One trip to the connection's thread: executing, fetching
    and closing a cursor one await at a time costs three, and each trip costs more CPU than most
    of these indexed queries themselves."""
    return cast(list[Row], list(await conn.execute_fetchall(sql, params)))


async def _first(conn: aiosqlite.Connection, sql: str, params: Params) -> Row | None:
    rows = await fetch_all(conn, sql, params)
    return tuple(rows[0]) if rows else None


# --- selection -------------------------------------------------------------------------------


async def filenames(conn: aiosqlite.Connection, scope: Scope, student_id: int) -> list[str]:
    rows = await fetch_all(
        conn,
        "SELECT filename FROM file_state"
        " WHERE class_div = ? AND hw_name = ? AND student_id = ? ORDER BY filename",
        (scope.class_div, scope.hw_name, student_id),
    )
    return [r[0] for r in rows]


async def file_timestamps(
    conn: aiosqlite.Connection, scope: Scope, student_id: int, filename: str
) -> list[str]:
    rows = await fetch_all(
        conn,
        "SELECT timestamp FROM snapshot WHERE class_div = ? AND hw_name = ? AND student_id = ?"
        " AND filename = ? ORDER BY timestamp",
        (scope.class_div, scope.hw_name, student_id, filename),
    )
    return [r[0] for r in rows]


# --- per student ---------------------------------------------------------------------------------


async def file_size_totals(
    conn: aiosqlite.Connection, scope: Scope, student_id: int, filename: str
) -> tuple[int, int | None]:
    row = await _first(
        conn,
        "SELECT snapshots, total_bytes FROM file_state WHERE class_div = ? AND hw_name = ?"
        " AND student_id = ? AND filename = ?",
        (scope.class_div, scope.hw_name, student_id, filename),
    )
    return (row[0], row[1]) if row else (0, None)


async def student_snapshots(
    conn: aiosqlite.Connection, scope: Scope, student_id: int
) -> StudentSnapshots:
    """The student's snapshots over all files: count, total bytes, first and two newest times."""
    key = (scope.class_div, scope.hw_name, student_id)
    row = await _first(
        conn,
        "SELECT snapshots, total_bytes, first_timestamp FROM student_state"
        " WHERE class_div = ? AND hw_name = ? AND student_id = ?",
        key,
    )
    if row is None:
        return StudentSnapshots(0, None, None, ())
    newest = await fetch_all(
        conn,
        "SELECT timestamp FROM snapshot WHERE class_div = ? AND hw_name = ? AND student_id = ?"
        " ORDER BY timestamp DESC LIMIT 2",
        key,
    )
    return StudentSnapshots(row[0], row[1], row[2], tuple(r[0] for r in newest))


# The end of bucket k; past year 9999 strftime gives NULL, which means "after everything".
_BOUNDARY = (
    "COALESCE(strftime('%Y%m%d_%H%M%S', ?5 + ({k} + 1) * ?6, 'unixepoch'), '99999999_999999')"
)
_BUCKET_OF_WALK = f"(({compact_seconds('walk.first')} - ?5) / ?6)"
_GRAPH = f"""
    WITH RECURSIVE walk(first) AS (
        VALUES (?4)
        UNION ALL
        SELECT (SELECT x.timestamp FROM snapshot AS x
                 WHERE x.class_div = ?1 AND x.hw_name = ?2 AND x.student_id = ?3
                   AND x.timestamp >= {_BOUNDARY.format(k=_BUCKET_OF_WALK)}
                 ORDER BY x.timestamp LIMIT 1)
          FROM walk WHERE walk.first IS NOT NULL
    ), buckets(k) AS (
        SELECT ({compact_seconds("first")} - ?5) / ?6 FROM walk WHERE first IS NOT NULL
    )
    SELECT k, (SELECT y.student_total FROM snapshot AS y
                WHERE y.class_div = ?1 AND y.hw_name = ?2 AND y.student_id = ?3
                  AND y.timestamp < {_BOUNDARY.format(k="buckets.k")}
                ORDER BY y.timestamp DESC, y.id DESC LIMIT 1)
      FROM buckets"""


async def code_size_buckets(
    conn: aiosqlite.Connection, scope: Scope, student_id: int, interval_minutes: int
) -> tuple[str | None, list[tuple[int, int]]]:
    """(first snapshot time, [(bucket number, code size after the bucket's last save)]).

    Buckets are `interval_minutes` wide from the first snapshot; only buckets with saves appear.
    The walk jumps from bucket to bucket with two index seeks each, so the cost follows the
    number of buckets in the answer, not the number of saves.
    """
    key = (scope.class_div, scope.hw_name, student_id)
    row = await _first(
        conn,
        f"SELECT first_timestamp, {compact_seconds('first_timestamp')} FROM student_state"
        " WHERE class_div = ? AND hw_name = ? AND student_id = ?",
        key,
    )
    if row is None:
        return None, []
    first, first_seconds = row
    buckets = await fetch_all(conn, _GRAPH, (*key, first, first_seconds, interval_minutes * 60))
    return first, buckets


BUILD_COLUMNS = ("binary_path", "cmdline", "exit_code", "cwd", "target_path", "timestamp")
RUN_COLUMNS = ("cmdline", "exit_code", "cwd", "target_path", "process_type", "timestamp")
_LOG_COLUMNS = {"buildlog": BUILD_COLUMNS, "runlog": RUN_COLUMNS}


# One build or run log row: its columns by name, in BUILD_COLUMNS or RUN_COLUMNS order, and its
# position in the newest-first order, (stored timestamp, id), where `before` resumes. A plain pair:
# a list holds thousands, and a class per row would cost more CPU than the row's query.
LogEntry = tuple[dict[str, Any], tuple[str, int]]


async def logs(
    conn: aiosqlite.Connection,
    table: str,
    scope: Scope,
    student_id: int,
    limit: int,
    before: tuple[str, int] | None = None,
    chunk: int = 256,
) -> AsyncIterator[LogEntry]:
    """Newest first, read `chunk` rows at a time (the caller may stop early, e.g. at a byte
    budget); `before` starts after an entry's position. `table` is 'buildlog' or 'runlog' (never
    user input)."""
    columns = _LOG_COLUMNS[table]
    key: tuple[object, ...] = (scope.class_div, scope.hw_name, student_id)
    after = ""
    if before is not None:
        after = " AND (timestamp < ? OR (timestamp = ? AND id < ?))"
        key = (*key, before[0], before[0], before[1])
    sql = (
        f"SELECT {', '.join(columns)}, id FROM {table} WHERE class_div = ? AND hw_name = ?"
        f" AND student_id = ?{after} ORDER BY timestamp DESC, id DESC LIMIT ?"
    )
    if limit <= chunk:  # one trip to the connection's thread (the portal's lists mostly)
        for row in await fetch_all(conn, sql, (*key, limit)):
            yield _log_entry(columns, row)
        return
    async with conn.execute(sql, (*key, limit)) as cursor:
        while rows := await cursor.fetchmany(chunk):
            for fetched in rows:
                yield _log_entry(columns, fetched)


def _log_entry(columns: tuple[str, ...], row: Sequence[Any]) -> LogEntry:
    """A row of `columns` and then the id."""
    fields = dict(zip(columns, row[:-1], strict=True))
    return fields, (fields["timestamp"], row[-1])


# --- per assignment ---------------------------------------------------------------------------


async def student_totals(conn: aiosqlite.Connection, scope: Scope) -> list[StudentTotals]:
    rows = await fetch_all(
        conn,
        "SELECT student_id, snapshots, total_bytes, latest_timestamp, latest_size, first_id"
        " FROM student_state WHERE class_div = ? AND hw_name = ?",
        (scope.class_div, scope.hw_name),
    )
    return [StudentTotals(*row) for row in rows]


async def size_buckets(conn: aiosqlite.Connection, scope: Scope) -> list[tuple[int, int]]:
    """The assignment's snapshot sizes in 256-byte buckets: ascending (bucket, count) rows, a
    few hundred at most."""
    return await fetch_all(
        conn,
        "SELECT bucket, n FROM size_bucket WHERE class_div = ? AND hw_name = ? ORDER BY bucket",
        (scope.class_div, scope.hw_name),
    )


async def size_in_bucket(conn: aiosqlite.Connection, scope: Scope, bucket: int, offset: int) -> int:
    """The size at sorted position `offset` among the assignment's snapshots in `bucket`."""
    row = await _first(
        conn,
        """SELECT file_size FROM (
               SELECT file_size, SUM(n) OVER (ORDER BY file_size) AS upto FROM size_count
                WHERE class_div = ? AND hw_name = ? AND file_size >= ? AND file_size < ?)
            WHERE upto > ? ORDER BY file_size LIMIT 1""",
        (
            scope.class_div,
            scope.hw_name,
            bucket << BUCKET_SHIFT,
            (bucket + 1) << BUCKET_SHIFT,
            offset,
        ),
    )
    assert row is not None, "size_bucket and size_count disagree"
    return int(row[0])


async def window_churn(
    conn: aiosqlite.Connection, scope: Scope, start: str, end: str
) -> list[tuple[int, int | None, int | None]]:
    """Per file, by student: the running churn at its first and last save in [start, end]."""
    return await fetch_all(
        conn,
        """SELECT f.student_id,
                  (SELECT s.churn_cum FROM snapshot AS s
                    WHERE s.class_div = f.class_div AND s.hw_name = f.hw_name
                      AND s.student_id = f.student_id AND s.filename = f.filename
                      AND s.timestamp >= ?3 AND s.timestamp <= ?4
                    ORDER BY s.timestamp, s.churn_cum LIMIT 1),
                  (SELECT s.churn_cum FROM snapshot AS s
                    WHERE s.class_div = f.class_div AND s.hw_name = f.hw_name
                      AND s.student_id = f.student_id AND s.filename = f.filename
                      AND s.timestamp >= ?3 AND s.timestamp <= ?4
                    ORDER BY s.timestamp DESC, s.churn_cum DESC LIMIT 1)
             FROM file_state AS f
            WHERE f.class_div = ?1 AND f.hw_name = ?2
            ORDER BY f.student_id""",
        (scope.class_div, scope.hw_name, start, end),
    )


async def log_counts(conn: aiosqlite.Connection, table: str, scope: Scope) -> tuple[int, int]:
    """(rows, distinct students) of 'buildlog' or 'runlog' in the assignment."""
    row = await _first(
        conn,
        "SELECT COALESCE(SUM(n), 0), COUNT(*) FROM log_count"
        " WHERE kind = ? AND class_div = ? AND hw_name = ?",
        (LOG_TABLES[table], scope.class_div, scope.hw_name),
    )
    assert row is not None
    return row[0], row[1]
