"""`python -m watcher backup --to FILE` and `python -m watcher restore FILE`, run as a person
runs them, against real databases (one of them behind a service under steady ingest)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import pty
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.backup.workload import Ingest, seqs_in
from tests.service.helpers import service_process
from tests.service.test_aggregates import AGGREGATE_TABLES
from tests.service.test_storage import ORIGINAL_SCHEMA
from watcher.store.bulk import REBUILD
from watcher.store.migrations import LATEST_VERSION

REPO = Path(__file__).resolve().parents[2]


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}


def watcher(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "watcher", *args],
        capture_output=True,
        text=True,
        env=environment(),
        cwd=cwd,  # no .env of the repository
        timeout=120,
    )


def volume(path: Path) -> Path:
    """A database path in a directory of its own (the service's log goes beside it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def query(db_path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def aggregates_match_the_rows(db_path: Path, scratch: Path) -> bool:
    """The trigger-maintained tables equal a rebuild from the raw rows (on a scratch copy)."""
    shutil.copy(db_path, scratch)
    conn = sqlite3.connect(scratch)
    try:

        def state() -> dict:
            return {t: sorted(conn.execute(f"SELECT * FROM {t}")) for t in AGGREGATE_TABLES}

        maintained = state()
        for statement in REBUILD:
            conn.execute(statement)
        return state() == maintained
    finally:
        conn.close()


async def test_backup_of_a_running_service_is_one_consistent_moment(tmp_path: Path) -> None:
    db_path = volume(tmp_path / "data" / "watcher.db")
    copy = tmp_path / "os-1.db"
    async with service_process(db_path) as (_, base):
        await Ingest(base).run(asyncio.Event(), total=500)  # something to copy
        ingest, stop = Ingest(base, first=500), asyncio.Event()
        sending = asyncio.create_task(ingest.run(stop))
        await asyncio.sleep(0.5)
        started = set(ingest.acked)
        backup = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "watcher", "backup", "--to", str(copy),
            "--db-path", str(db_path), env=environment(), cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await backup.communicate()
        stop.set()
        await sending
    assert backup.returncode == 0, err.decode()
    assert b"\r" not in err  # not a terminal: no progress bar
    assert len(ingest.acked) > len(started) + 50  # the service kept writing meanwhile
    found = seqs_in(copy)
    assert set(range(500)) | started <= found <= set(range(500)) | ingest.sent
    # One moment: every table's ids run without a gap, the aggregates agree with the rows.
    for table in ("snapshot", "buildlog", "runlog"):
        ids = [row[0] for row in query(copy, f"SELECT id FROM {table} ORDER BY id")]
        assert ids == list(range(1, len(ids) + 1)), table
    assert aggregates_match_the_rows(copy, tmp_path / "scratch.db")
    assert query(copy, "PRAGMA integrity_check") == [("ok",)]
    assert query(copy, "PRAGMA journal_mode") == [("delete",)]  # one file, no -wal
    digest = hashlib.sha256(copy.read_bytes()).hexdigest()
    assert (tmp_path / "os-1.db.sha256").read_text() == f"{digest}  os-1.db\n"
    check = await asyncio.create_subprocess_exec("sha256sum", "-c", "os-1.db.sha256", cwd=tmp_path)
    assert await check.wait() == 0
    [(snapshots,)] = query(copy, "SELECT COUNT(*) FROM snapshot")
    assert f"wrote {copy} (" in err.decode() and f"{snapshots:,} snapshots" in err.decode()


async def test_restore_puts_a_backup_back_and_the_service_serves_it(tmp_path: Path) -> None:
    original = volume(tmp_path / "original" / "watcher.db")
    async with service_process(original) as (_, base):
        await Ingest(base).run(asyncio.Event(), total=300)
    made = watcher("backup", "--to", "os-1.db", "--db-path", str(original), cwd=tmp_path)
    assert made.returncode == 0, made.stderr

    target = tmp_path / "new-volume" / "watcher.db"  # a directory that does not exist yet
    restored = watcher("restore", "os-1.db", "--db-path", str(target), cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert "restored" in restored.stderr and "schema version" in restored.stderr
    assert seqs_in(target) == set(range(300))
    assert query(target, "PRAGMA journal_mode") == [("wal",)]  # the service's mode
    async with service_process(target) as (_, base):  # and it serves it, taking more
        more = Ingest(base, first=300)
        await more.run(asyncio.Event(), total=10)
    assert len(more.acked) == 10
    assert seqs_in(target) == set(range(310))


async def test_restore_refuses_to_overwrite_data_unless_forced(tmp_path: Path) -> None:
    one, two = volume(tmp_path / "one" / "watcher.db"), volume(tmp_path / "two" / "watcher.db")
    async with service_process(one) as (_, base):
        await Ingest(base).run(asyncio.Event(), total=30)
    async with service_process(two) as (_, base):
        await Ingest(base, first=100).run(asyncio.Event(), total=5)
    assert watcher("backup", "--to", "one.db", "--db-path", str(one), cwd=tmp_path).returncode == 0
    before = two.read_bytes()

    refused = watcher("restore", "one.db", "--db-path", str(two), cwd=tmp_path)
    assert refused.returncode == 2
    assert "already holds data" in refused.stderr and "--force" in refused.stderr
    assert two.read_bytes() == before and seqs_in(two) == set(range(100, 105))

    forced = watcher("restore", "one.db", "--db-path", str(two), "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert seqs_in(two) == set(range(30))

    # A database the service created but never wrote to holds no data: no --force needed.
    empty = volume(tmp_path / "empty" / "watcher.db")
    async with service_process(empty):
        pass
    assert query(empty, "PRAGMA user_version") == [(LATEST_VERSION,)]
    allowed = watcher("restore", "one.db", "--db-path", str(empty), cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr


async def test_restore_checks_the_checksum_and_the_file(tmp_path: Path) -> None:
    source = volume(tmp_path / "source" / "watcher.db")
    async with service_process(source) as (_, base):
        await Ingest(base).run(asyncio.Event(), total=20)
    assert watcher("backup", "--to", "b.db", "--db-path", str(source), cwd=tmp_path).returncode == 0
    target = tmp_path / "target" / "watcher.db"

    damaged = tmp_path / "damaged.db"
    data = bytearray((tmp_path / "b.db").read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    shutil.copy(tmp_path / "b.db.sha256", tmp_path / "damaged.db.sha256")
    (tmp_path / "damaged.db.sha256").write_text(
        (tmp_path / "b.db.sha256").read_text().replace("b.db", "damaged.db")
    )
    result = watcher("restore", "damaged.db", "--db-path", str(target), cwd=tmp_path)
    assert result.returncode == 1 and "sha256" in result.stderr, result.stderr

    shutil.copy(tmp_path / "b.db", tmp_path / "lonely.db")  # no checksum beside it
    result = watcher("restore", "lonely.db", "--db-path", str(target), cwd=tmp_path)
    assert result.returncode == 1 and "lonely.db.sha256 is missing" in result.stderr

    result = watcher("restore", "nowhere.db", "--db-path", str(target), cwd=tmp_path)
    assert result.returncode == 2 and "no backup at nowhere.db" in result.stderr

    other = tmp_path / "other.db"  # a SQLite file, but not ours
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    digest = hashlib.sha256(other.read_bytes()).hexdigest()
    (tmp_path / "other.db.sha256").write_text(f"{digest}  other.db\n")
    result = watcher("restore", "other.db", "--db-path", str(target), cwd=tmp_path)
    assert result.returncode == 2 and "not a JCode Watcher database" in result.stderr
    assert not target.exists() or seqs_in(target) == set()


def test_backup_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    missing = watcher("backup", "--to", "x.db", "--db-path", "nope/watcher.db", cwd=tmp_path)
    assert missing.returncode == 2 and "no database at nope/watcher.db" in missing.stderr
    assert not (tmp_path / "nope").exists()  # never creates an empty database to back up
    (tmp_path / "x.db").write_text("precious")
    sqlite3.connect(tmp_path / "w.db").execute("CREATE TABLE snapshot (x)").connection.close()
    taken = watcher("backup", "--to", "x.db", "--db-path", "w.db", cwd=tmp_path)
    assert taken.returncode == 2 and "x.db exists" in taken.stderr
    assert (tmp_path / "x.db").read_text() == "precious"
    nodir = watcher("backup", "--to", "no/such/dir/x.db", "--db-path", "w.db", cwd=tmp_path)
    assert nodir.returncode == 2 and "not a directory" in nodir.stderr


def test_progress_bars_on_a_terminal(tmp_path: Path) -> None:
    db_path = tmp_path / "w.db"
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE snapshot (x BLOB)")
    conn.executemany("INSERT INTO snapshot VALUES (randomblob(4000))", [()] * 2000)
    conn.commit()
    conn.close()

    def on_a_terminal(*args: str) -> str:
        """Run with stderr on a pseudo-terminal; what it showed there."""
        leader, follower = pty.openpty()
        process = subprocess.Popen(
            [sys.executable, "-m", "watcher", *args], stderr=follower, stdout=subprocess.DEVNULL,
            env=environment(), cwd=tmp_path,
        )  # fmt: skip
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        assert process.wait(60) == 0, shown
        os.close(leader)
        return shown.decode()

    made = on_a_terminal("backup", "--to", "b.db", "--db-path", "w.db")
    assert "\rcopied" in made and "pages [" + "#" * 30 + "] 100%" in made
    back = on_a_terminal("restore", "b.db", "--db-path", "r.db")
    assert "\rverified" in back and "\rrestored" in back and "100%" in back
    quiet = on_a_terminal("backup", "--to", "c.db", "--db-path", "w.db", "--quiet")
    assert quiet == ""


async def test_an_older_schema_restored_is_migrated_when_the_service_starts(tmp_path: Path) -> None:
    """A backup of the original backend's database (schema version 0): restored as it is, then
    migrated forward by the service at start, its rows served."""
    original = tmp_path / "original.db"
    conn = sqlite3.connect(original)
    conn.executescript(ORIGINAL_SCHEMA)
    conn.close()
    made = watcher("backup", "--to", "old.db", "--db-path", str(original), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    target = volume(tmp_path / "class" / "watcher.db")
    restored = watcher("restore", "old.db", "--db-path", str(target), cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert "schema version 0, 2 snapshots, 1 builds, 0 runs" in restored.stderr
    path = "/api/snapshot_avg/os-1/hw1/202012345/main.c"
    async with (
        service_process(target) as (_, base),
        aiohttp.ClientSession() as session,
        session.get(base + path) as response,
    ):
        assert await response.json() == {"snapshot_avg": 2, "snapshot_size_avg": 125.0}
    assert query(target, "PRAGMA user_version") == [(LATEST_VERSION,)]
    assert query(target, "PRAGMA integrity_check") == [("ok",)]
