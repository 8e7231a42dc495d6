"""`python -m bench.triggers`: CPU per row of the writer's snapshot INSERT, with the triggers
that maintain every aggregate and with none, in batches of 32 like the group commit; no HTTP.

What it shows is how much of a snapshot POST's cost is SQLite keeping the aggregates current
(docs/benchmarks.md, "Server CPU per request")."""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from watcher.config import Settings
from watcher.store.database import open_database
from watcher.store.writer import INSERTS

BATCH = 32


def rows(count: int, seed: int = 1) -> list[tuple[str, str, int, str, str, int]]:
    """Saves of 200 students, 5 assignments and 10 files in time order, as the writer binds them."""
    rnd = random.Random(seed)
    made = []
    for i in range(count):
        clock = f"{9 + i // 3600 % 10:02d}{i // 60 % 60:02d}{i % 60:02d}"
        made.append(
            (
                "os-1",
                f"hw{i % 5}",
                202000000 + i % 200,
                f"f{i % 10}.c",
                f"20250310_{clock}",
                rnd.randint(50, 5000),
            )
        )
    made.sort(key=lambda row: row[4])
    return made


def per_row_cpu(path: Path, *, triggers: bool, count: int) -> float:
    """Microseconds of this process's CPU per inserted row, into a freshly migrated database."""
    asyncio.run(_migrate(path))
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = NORMAL")
        if not triggers:
            names = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'snapshot'"
            ).fetchall()
            for (name,) in names:
                conn.execute(f"DROP TRIGGER {name}")
        data = rows(count)
        began = time.process_time()
        for start in range(0, count, BATCH):
            conn.execute("BEGIN")
            conn.executemany(INSERTS["snapshot"], data[start : start + BATCH])
            conn.execute("COMMIT")
        return (time.process_time() - began) / count * 1e6
    finally:
        conn.close()


async def _migrate(path: Path) -> None:
    database = await open_database(Settings(db_path=path))
    await database.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.triggers", description=__doc__)
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="watcher-triggers-") as tmp:
        for label, triggers in (("all triggers", True), ("no triggers", False)):
            figures = [
                per_row_cpu(Path(tmp) / f"{label}-{n}.db", triggers=triggers, count=args.rows)
                for n in range(args.runs)
            ]
            print(f"{label}: " + ", ".join(f"{f:.1f}" for f in figures) + " µs of CPU per row")


if __name__ == "__main__":
    main()
