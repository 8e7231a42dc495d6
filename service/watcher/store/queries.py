"""Read queries. Each returns plain tuples or dataclasses; every one is served by an index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from watcher.analytics.summary import StudentTotals


@dataclass(frozen=True)
class Scope:
    """A class's assignment: the key of nearly every query."""

    class_div: str
    hw_name: str


async def _all(conn: aiosqlite.Connection, sql: str, params: Sequence) -> list[tuple]:
    async with conn.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def _one(conn: aiosqlite.Connection, sql: str, params: Sequence) -> tuple:
    async with conn.execute(sql, params) as cursor:
        row = await cursor.fetchone()
    assert row is not None, "aggregate queries always return a row"
    return tuple(row)


# --- selection -------------------------------------------------------------------------------


async def filenames(conn: aiosqlite.Connection, scope: Scope, student_id: int) -> list[str]:
    rows = await _all(
        conn,
        "SELECT DISTINCT filename FROM snapshot"
        " WHERE class_div = ? AND hw_name = ? AND student_id = ? ORDER BY filename",
        (scope.class_div, scope.hw_name, student_id),
    )
    return [r[0] for r in rows]


async def file_timestamps(
    conn: aiosqlite.Connection, scope: Scope, student_id: int, filename: str
) -> list[str]:
    rows = await _all(
        conn,
        "SELECT timestamp FROM snapshot WHERE class_div = ? AND hw_name = ? AND student_id = ?"
        " AND filename = ? ORDER BY timestamp, id",
        (scope.class_div, scope.hw_name, student_id, filename),
    )
    return [r[0] for r in rows]


# --- per student ---------------------------------------------------------------------------------


async def file_size_totals(
    conn: aiosqlite.Connection, scope: Scope, student_id: int, filename: str
) -> tuple[int, int | None]:
    count, total = await _one(
        conn,
        "SELECT COUNT(*), SUM(file_size) FROM snapshot WHERE class_div = ? AND hw_name = ?"
        " AND student_id = ? AND filename = ?",
        (scope.class_div, scope.hw_name, student_id, filename),
    )
    return count, total


async def student_activity(
    conn: aiosqlite.Connection, scope: Scope, student_id: int
) -> tuple[int, int | None, str | None, list[str]]:
    """(count, total bytes, first timestamp, the two newest timestamps) over all files."""
    key = (scope.class_div, scope.hw_name, student_id)
    count, total, first = await _one(
        conn,
        "SELECT COUNT(*), SUM(file_size), MIN(timestamp) FROM snapshot"
        " WHERE class_div = ? AND hw_name = ? AND student_id = ?",
        key,
    )
    newest = await _all(
        conn,
        "SELECT timestamp FROM snapshot WHERE class_div = ? AND hw_name = ? AND student_id = ?"
        " ORDER BY timestamp DESC LIMIT 2",
        key,
    )
    return count, total, first, [r[0] for r in newest]


async def student_snapshots(
    conn: aiosqlite.Connection, scope: Scope, student_id: int
) -> list[tuple[str, str, int]]:
    """(timestamp, filename, size) in time order, ties in insertion order."""
    return await _all(
        conn,
        "SELECT timestamp, filename, file_size FROM snapshot"
        " WHERE class_div = ? AND hw_name = ? AND student_id = ? ORDER BY timestamp, id",
        (scope.class_div, scope.hw_name, student_id),
    )


BUILD_COLUMNS = ("binary_path", "cmdline", "exit_code", "cwd", "target_path", "timestamp")
RUN_COLUMNS = ("cmdline", "exit_code", "cwd", "target_path", "process_type", "timestamp")


async def logs(
    conn: aiosqlite.Connection, table: str, scope: Scope, student_id: int, limit: int
) -> list[tuple]:
    """Newest first. `table` is 'buildlog' or 'runlog' (never user input)."""
    columns = {"buildlog": BUILD_COLUMNS, "runlog": RUN_COLUMNS}[table]
    return await _all(
        conn,
        f"SELECT {', '.join(columns)} FROM {table} WHERE class_div = ? AND hw_name = ?"
        " AND student_id = ? ORDER BY timestamp DESC, id DESC LIMIT ?",
        (scope.class_div, scope.hw_name, student_id, limit),
    )


# --- per assignment ---------------------------------------------------------------------------


async def student_totals(conn: aiosqlite.Connection, scope: Scope) -> list[StudentTotals]:
    # Among rows at a student's latest second the original keeps the first inserted (lowest id).
    rows = await _all(
        conn,
        """SELECT t.student_id, t.n, t.total, t.latest, t.first_id,
                  (SELECT file_size FROM snapshot AS x
                    WHERE x.class_div = ?1 AND x.hw_name = ?2 AND x.student_id = t.student_id
                      AND x.timestamp = t.latest ORDER BY x.id LIMIT 1)
             FROM (SELECT student_id, COUNT(*) AS n, SUM(file_size) AS total,
                          MAX(timestamp) AS latest, MIN(id) AS first_id
                     FROM snapshot WHERE class_div = ?1 AND hw_name = ?2
                    GROUP BY student_id) AS t""",
        (scope.class_div, scope.hw_name),
    )
    return [
        StudentTotals(student_id, count, total, latest, size, first_id)
        for student_id, count, total, latest, first_id, size in rows
    ]


async def size_histogram(conn: aiosqlite.Connection, scope: Scope) -> list[tuple[int, int]]:
    return await _all(
        conn,
        "SELECT file_size, COUNT(*) FROM snapshot WHERE class_div = ? AND hw_name = ?"
        " GROUP BY file_size ORDER BY file_size",
        (scope.class_div, scope.hw_name),
    )


async def window_snapshots(
    conn: aiosqlite.Connection, scope: Scope, start: str, end: str
) -> list[tuple[int, str, int]]:
    """(student, file, size) with start <= timestamp <= end, by student, file, time."""
    return await _all(
        conn,
        "SELECT student_id, filename, file_size FROM snapshot WHERE class_div = ? AND hw_name = ?"
        " AND timestamp BETWEEN ? AND ? ORDER BY student_id, filename, timestamp, id",
        (scope.class_div, scope.hw_name, start, end),
    )


async def log_counts(conn: aiosqlite.Connection, table: str, scope: Scope) -> tuple[int, int]:
    """(rows, distinct students) of 'buildlog' or 'runlog' in the assignment."""
    assert table in ("buildlog", "runlog")
    rows, students = await _one(
        conn,
        f"SELECT COUNT(*), COUNT(DISTINCT student_id) FROM {table}"
        " WHERE class_div = ? AND hw_name = ?",
        (scope.class_div, scope.hw_name),
    )
    return rows, students
