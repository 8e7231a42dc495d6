"""`python -m bench.triggers`: CPU per row of the writer's snapshot INSERT, with the triggers
that maintain every aggregate and with none, in batches of 32 like the group commit; no HTTP.

What it shows is how much of a snapshot POST's cost is SQLite keeping the aggregates current
(docs/benchmarks.md, "Server CPU per request")."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.data import Shape, snapshot_rows
from bench.harness import create_database
from watcher.store.writer import INSERTS

BATCH = 32


def per_row_cpu(path: Path, *, triggers: bool, saves: int) -> float:
    """Microseconds of this process's CPU per inserted row, into a freshly migrated database:
    the bench's class of 200 students, 5 assignments and 10 files, `saves` saves per file."""
    asyncio.run(create_database(path))
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = NORMAL")
        if not triggers:
            names = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'snapshot'"
            ).fetchall()
            for (name,) in names:
                conn.execute(f"DROP TRIGGER {name}")
        # In time order, as collectors post them: consecutive rows are other students' saves,
        # not one student's files in a row, which would keep the same B-tree pages hot.
        data = sorted(snapshot_rows(Shape(saves=saves)), key=lambda row: row[4])
        began = time.process_time()
        for start in range(0, len(data), BATCH):
            conn.execute("BEGIN")
            conn.executemany(INSERTS["snapshot"], data[start : start + BATCH])
            conn.execute("COMMIT")
        return (time.process_time() - began) / len(data) * 1e6
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.triggers", description=__doc__)
    parser.add_argument("--saves", type=int, default=4, help="saves per file (10,000 rows each)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="watcher-triggers-") as tmp:
        for label, triggers in (("all triggers", True), ("no triggers", False)):
            figures = [
                per_row_cpu(Path(tmp) / f"{label}-{n}.db", triggers=triggers, saves=args.saves)
                for n in range(args.runs)
            ]
            print(f"{label}: " + ", ".join(f"{f:.1f}" for f in figures) + " µs of CPU per row")


if __name__ == "__main__":
    main()
