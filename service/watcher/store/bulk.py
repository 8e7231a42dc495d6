"""Loading many rows at once (benchmark seeding, imports) through the store's own schema.

Per-row triggers cost about as much as the insert itself; for a bulk load it is faster to insert
with the triggers dropped and rebuild every aggregate once. The whole load is one exclusive
transaction: readers see all of it or none, and the service must not be writing meanwhile.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from itertools import islice
from pathlib import Path

from watcher.store.aggregates import REBUILD, TRIGGERS
from watcher.store.writer import INSERTS

_TRIGGER_NAMES = ("snapshot_aggregates", "snapshot_out_of_order", "buildlog_aggregates",
                  "runlog_aggregates")  # fmt: skip


def bulk_load(path: Path, table: str, rows: Iterable[tuple], chunk: int = 50_000) -> int:
    """Insert `rows` (as the writer's INSERT for `table` takes them) into a migrated database."""
    conn = sqlite3.connect(path, isolation_level=None)
    loaded = 0
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("BEGIN EXCLUSIVE")
        try:
            for name in _TRIGGER_NAMES:
                conn.execute(f"DROP TRIGGER IF EXISTS {name}")
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
