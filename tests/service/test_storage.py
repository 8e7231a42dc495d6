"""The database: survives restarts, upgrades every earlier schema, adopts the original's file."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

import pytest

from tests.service.helpers import db_rows, snapshot_url
from watcher.app import create_app
from watcher.config import Settings
from watcher.store import schema
from watcher.store.schema import LATEST_VERSION, MIGRATIONS

SCHEMA_DIR = Path(schema.__file__).parent
# Every released migration, byte for byte. A database that ran one keeps what it made, so a
# released file never changes: change the schema with a new migration (and add its hash here
# when it is released).
RELEASED = {
    1: "39083cec8bcfd65600a4ec17e014e6913960ff6f732e00be1cea9a20f59d9c48",
    2: "1045f46b90baf827c589e55cc2828409a4411acdad96e763a3ee89961c289979",
    3: "5723828ea4aa6e5e3a05ae41f109eff17716a7a3be74e738124660978be88173",
    4: "f1bc7d3d1e5f4ccef83324a754753fd79c22888d9701d633ac939df79f7ec681",
    5: "1acbb8b694e489ef970df969494066c138a8527ddfe783c50a52097695d3298d",
}

# The DDL SQLModel generated for the original backend (CONTRACT §2), and rows as it wrote them.
ORIGINAL_SCHEMA = """
CREATE TABLE snapshot (id INTEGER NOT NULL, class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL,
    student_id INTEGER NOT NULL, filename VARCHAR NOT NULL, timestamp VARCHAR NOT NULL,
    file_size INTEGER NOT NULL, PRIMARY KEY (id));
CREATE TABLE buildlog (id INTEGER NOT NULL, class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL,
    student_id INTEGER NOT NULL, cwd VARCHAR NOT NULL, binary_path VARCHAR NOT NULL,
    cmdline VARCHAR NOT NULL, exit_code INTEGER NOT NULL, target_path VARCHAR NOT NULL,
    timestamp DATETIME NOT NULL, PRIMARY KEY (id));
CREATE TABLE runlog (id INTEGER NOT NULL, class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL,
    student_id INTEGER NOT NULL, cmdline VARCHAR NOT NULL, exit_code INTEGER NOT NULL,
    cwd VARCHAR NOT NULL, target_path VARCHAR NOT NULL, process_type VARCHAR NOT NULL,
    timestamp DATETIME NOT NULL, PRIMARY KEY (id));
INSERT INTO snapshot VALUES (1, 'os-1', 'hw1', 202012345, 'main.c', '20250310_150000', 100);
INSERT INTO snapshot VALUES (2, 'os-1', 'hw1', 202012345, 'main.c', '20250310_150130', 150);
INSERT INTO buildlog VALUES (1, 'os-1', 'hw1', 202012345, '/w', '/b', 'gcc main.c', 1, '/t',
    '2025-03-10 15:04:00.000000');
"""


def _database_at(path, version: int) -> None:
    """A database as release `version` left it (0 = the original backend's file)."""
    conn = sqlite3.connect(path)
    conn.executescript(ORIGINAL_SCHEMA)
    for statements in MIGRATIONS[:version]:
        for statement in statements:
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()


def _normalized(text: str) -> str:
    """Schema text with layout left out: how a statement was wrapped is not the schema."""
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\s*([(),])\s*", r"\1", text).strip()


def test_released_migrations_never_change():
    for version, digest in RELEASED.items():
        (path,) = SCHEMA_DIR.glob(f"{version:04d}_*.sql")
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, path.name


def test_schema_sql_is_what_the_migrations_make():
    committed = (SCHEMA_DIR / "schema.sql").read_text()
    assert schema.fresh_dump() == committed, "run: python -m watcher.store.schema > schema.sql"


async def test_data_survives_a_restart(aiohttp_client, settings, db_path):
    client = await aiohttp_client(create_app(settings))
    url = snapshot_url("os-1", "hw1", "1", "main.c", "20250310_060000")
    assert (await client.post(url, json={"bytes": 42})).status == 200
    await client.close()

    client = await aiohttp_client(create_app(settings))
    body = await (await client.get("/api/snapshot_avg/os-1/hw1/1/main.c")).json()
    assert body == {"snapshot_avg": 1, "snapshot_size_avg": 42.0}


@pytest.mark.parametrize("version", range(LATEST_VERSION))
async def test_every_earlier_schema_is_upgraded_in_place(aiohttp_client, db_path, version):
    _database_at(db_path, version)
    client = await aiohttp_client(create_app(Settings(db_path=db_path)))
    assert db_rows(db_path, "PRAGMA user_version") == [(LATEST_VERSION,)]
    assert db_rows(db_path, "PRAGMA integrity_check") == [("ok",)]
    indexes = {
        name for (name,) in db_rows(db_path, "SELECT name FROM sqlite_master WHERE type = 'index'")
    }
    assert {"snapshot_by_file", "snapshot_by_student_time", "buildlog_by_student"} <= indexes
    # Step by step from `version`, the schema ends exactly as a fresh database's.
    conn = sqlite3.connect(db_path)
    try:
        upgraded = schema.dump(conn)
    finally:
        conn.close()
    assert _normalized(upgraded) == _normalized((SCHEMA_DIR / "schema.sql").read_text())
    # Old rows read back through the API, new rows go in beside them.
    body = await (await client.get("/api/os-1/hw1/202012345/main.c")).json()
    assert body == ["20250310_150000", "20250310_150130"]
    logs = await (await client.get("/api/os-1/hw1/202012345/logs/build")).json()
    assert logs[0]["timestamp"] == "2025-03-10T15:04:00"
    url = snapshot_url("os-1", "hw1", "202012345", "main.c", "20250310_061200")
    assert (await client.post(url, json={"bytes": 120})).status == 200
    body = await (await client.get("/api/snapshot_avg/os-1/hw1/202012345/main.c")).json()
    assert body == {"snapshot_avg": 3, "snapshot_size_avg": 123.33}


async def test_a_newer_schema_is_refused(aiohttp_client, db_path):
    _database_at(db_path, LATEST_VERSION)
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(RuntimeError, match="newer than this release"):
        await aiohttp_client(create_app(Settings(db_path=db_path)))


async def test_wal_and_pragmas(client, db_path):
    assert db_rows(db_path, "PRAGMA journal_mode") == [("wal",)]


async def test_database_directory_is_created(aiohttp_client, tmp_path):
    path = tmp_path / "nested" / "dir" / "watcher.db"
    client = await aiohttp_client(create_app(Settings(db_path=path)))
    assert (await client.get("/readyz")).status == 200
    assert path.exists()


async def test_bulk_load_gives_the_same_answers_as_ingest(aiohttp_client, tmp_path):
    """The seeding path (triggers dropped, aggregates rebuilt once) ends in the same state."""
    from watcher.store.bulk import bulk_load

    path = tmp_path / "bulk.db"
    client = await aiohttp_client(create_app(Settings(db_path=path)))  # creates and migrates
    rows = [
        ("os-1", "hw1", 202012345, "main.c", "20250310_150000", 100),
        ("os-1", "hw1", 202012345, "main.c", "20250310_150130", 150),
        ("os-1", "hw1", 202012345, "src@util.c", "20250310_150500", 40),
        ("os-1", "hw1", 202012345, "main.c", "20250310_151200", 120),
        ("os-1", "hw1", 202099999, "a.c", "20250310_160000", 10),
        ("os-1", "hw1", 202099999, "a.c", "20250310_160100", 30),
        ("os-1", "hw1", 202099999, "b.c", "20250310_160200", 5),
    ]
    build = ("os-1", "hw1", 202012345, "/w", "/b", "gcc", 0, "/w/a.c", "2025-03-10 15:03:00.000000")
    assert bulk_load(path, {"snapshot": rows, "buildlog": [build, build]}) == 9
    body = await (await client.get("/api/assignment/os-1/hw1")).json()
    assert (body["percentile_90"], body["avg_bytes"], body["top_7"][0]["code_size"]) == (
        132.0,
        58.75,
        5,
    )
    churn = await (await client.get("/api/total_graph_data/os-1/hw1/2025-03-10/2025-03-11")).json()
    assert churn == {"results": [{"student_num": 202012345, "size_change": 80.0},
                                 {"student_num": 202099999, "size_change": 20.0}]}  # fmt: skip
    graph = await (await client.get("/api/graph_data/os-1/hw1/202012345/5")).json()
    assert [t["total_size"] for t in graph["trends"]] == [150.0, 190.0, 160.0]
    assert await (await client.get("/api/build_avg/os-1/hw1")).json() == {"avg_count": 2.0}
    # The triggers are back: a normal write after the load keeps the aggregates current.
    url = snapshot_url("os-1", "hw1", "202012345", "main.c", "20250310_070000")
    assert (await client.post(url, json={"bytes": 200})).status == 200
    body = await (await client.get("/api/snapshot_avg/os-1/hw1/202012345/main.c")).json()
    assert body == {"snapshot_avg": 4, "snapshot_size_avg": 142.5}
