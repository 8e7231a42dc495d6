"""Numbered schema migrations, tracked in `PRAGMA user_version`.

Version 0 is an empty file *or* a database written by the original backend: it created the same
three tables (SQLModel's DDL, copied below) with no version. Migration 1 therefore creates them only
if missing, so pointing the service at an existing `database.db` adopts it in place, rows and all.
"""

from __future__ import annotations

import aiosqlite

from watcher.store import activity, aggregates, content

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the original's tables, column for column.
    (
        """CREATE TABLE IF NOT EXISTS snapshot (
            id INTEGER NOT NULL, class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL,
            student_id INTEGER NOT NULL, filename VARCHAR NOT NULL, timestamp VARCHAR NOT NULL,
            file_size INTEGER NOT NULL, PRIMARY KEY (id))""",
        """CREATE TABLE IF NOT EXISTS buildlog (
            id INTEGER NOT NULL, class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL,
            student_id INTEGER NOT NULL, cwd VARCHAR NOT NULL, binary_path VARCHAR NOT NULL,
            cmdline VARCHAR NOT NULL, exit_code INTEGER NOT NULL, target_path VARCHAR NOT NULL,
            timestamp DATETIME NOT NULL, PRIMARY KEY (id))""",
        """CREATE TABLE IF NOT EXISTS runlog (
            id INTEGER NOT NULL, class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL,
            student_id INTEGER NOT NULL, cmdline VARCHAR NOT NULL, exit_code INTEGER NOT NULL,
            cwd VARCHAR NOT NULL, target_path VARCHAR NOT NULL, process_type VARCHAR NOT NULL,
            timestamp DATETIME NOT NULL, PRIMARY KEY (id))""",
    ),
    # 2: an index for every query pattern (the original had none: every read was a full scan).
    (
        # Per-student and per-file reads; file_size included so summaries never touch the table.
        """CREATE INDEX IF NOT EXISTS snapshot_by_student
            ON snapshot (class_div, hw_name, student_id, filename, timestamp, file_size)""",
        # Class-wide time windows (total_graph_data).
        """CREATE INDEX IF NOT EXISTS snapshot_by_time
            ON snapshot (class_div, hw_name, timestamp)""",
        # Class-wide size distribution (percentiles).
        """CREATE INDEX IF NOT EXISTS snapshot_by_size
            ON snapshot (class_div, hw_name, file_size)""",
        """CREATE INDEX IF NOT EXISTS buildlog_by_student
            ON buildlog (class_div, hw_name, student_id, timestamp)""",
        """CREATE INDEX IF NOT EXISTS runlog_by_student
            ON runlog (class_div, hw_name, student_id, timestamp)""",
    ),
    # 3: maintained aggregates, so no analytics route reads an assignment's whole history.
    aggregates.TABLES + aggregates.INDEXES + aggregates.REBUILD + aggregates.TRIGGERS,
    # 4: the merged event stream and per-student measures behind the instructor insights.
    activity.REPLACED_TRIGGERS + activity.TABLES + activity.REBUILD + activity.TRIGGERS,
    # 5: snapshot content posted by collectors (issue 9).
    content.TABLES,
)

LATEST_VERSION = len(MIGRATIONS)


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer release; refuse rather than corrupt it."""


async def schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection) -> tuple[int, int]:
    """Apply every pending migration, each in its own transaction. Returns (from, to)."""
    start = await schema_version(conn)
    if start > LATEST_VERSION:
        raise SchemaTooNewError(
            f"database schema version {start} is newer than this release's {LATEST_VERSION}"
        )
    for version in range(start + 1, LATEST_VERSION + 1):
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version - 1]:
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {version}")
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
    return start, LATEST_VERSION
