"""Loading many rows at once (benchmark seeding, imports) through the store's own schema.

Per-row triggers cost about as much as the insert itself; for a bulk load it is faster to insert
with the triggers dropped and rebuild every aggregate once. The triggers are taken from the
database itself (whatever its migrations made them) and put back as they were. The whole load is
one exclusive transaction: readers see all of it or none, and the service must not be writing
meanwhile.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from itertools import islice
from pathlib import Path

from watcher.store.schema import REBUILD
from watcher.store.writer import INSERTS


def bulk_load(
    path: Path,
    tables: Mapping[str, Iterable[tuple[object, ...]]],
    chunk: int = 50_000,
    cache_mib: int = 256,
) -> int:
    """Insert rows into a migrated database: `tables` maps a table to rows shaped as the
    writer's for it (writer.SnapshotRow, ...; plain tuples will do). Returns how many rows were
    loaded."""
    conn = sqlite3.connect(path, isolation_level=None)
    loaded = 0
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        # Index builds over millions of rows thrash SQLite's default 2 MB page cache.
        conn.execute(f"PRAGMA cache_size = -{cache_mib * 1024}")
        conn.execute("BEGIN EXCLUSIVE")
        try:
            triggers = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY rowid"
            ).fetchall()
            for name, _ in triggers:
                conn.execute(f'DROP TRIGGER "{name}"')
            for table, rows in tables.items():
                iterator = iter(rows)
                while batch := list(islice(iterator, chunk)):
                    conn.executemany(INSERTS[table], batch)
                    loaded += len(batch)
            for statement in REBUILD:
                conn.execute(statement)
            for _, sql in triggers:
                conn.execute(sql)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()
    return loaded
