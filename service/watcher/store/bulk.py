"""Loading many rows at once (benchmark seeding, imports) through the store's own schema.

Per-row triggers cost about as much as the insert itself; for a bulk load it is faster to insert
with the triggers dropped and rebuild every aggregate once. The whole load is one exclusive
transaction: readers see all of it or none, and the service must not be writing meanwhile.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping
from itertools import islice
from pathlib import Path

from watcher.store import activity, aggregates
from watcher.store.writer import INSERTS


def _named(ddl: str) -> str:
    return re.search(r"CREATE TRIGGER (\w+)", ddl)[1]


# Every trigger the schema has (a later schema's version of a trigger replaces the earlier one),
# and the statements that recompute what they maintain.
_CURRENT = {_named(ddl): ddl for ddl in aggregates.TRIGGERS + activity.TRIGGERS}
TRIGGERS = tuple(_CURRENT.values())
TRIGGER_NAMES = tuple(_CURRENT)
REBUILD = aggregates.REBUILD + activity.REBUILD


def bulk_load(
    path: Path,
    tables: Mapping[str, Iterable[tuple]],
    chunk: int = 50_000,
    cache_mib: int = 256,
) -> int:
    """Insert rows into a migrated database: `tables` maps a table to rows shaped as the
    writer's INSERT for it takes them. Returns how many rows were loaded."""
    conn = sqlite3.connect(path, isolation_level=None)
    loaded = 0
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        # Index builds over millions of rows thrash SQLite's default 2 MB page cache.
        conn.execute(f"PRAGMA cache_size = -{cache_mib * 1024}")
        conn.execute("BEGIN EXCLUSIVE")
        try:
            for name in TRIGGER_NAMES:
                conn.execute(f"DROP TRIGGER IF EXISTS {name}")
            for table, rows in tables.items():
                iterator = iter(rows)
                while batch := list(islice(iterator, chunk)):
                    conn.executemany(INSERTS[table], batch)
                    loaded += len(batch)
            for statement in REBUILD + TRIGGERS:
                conn.execute(statement)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()
    return loaded
