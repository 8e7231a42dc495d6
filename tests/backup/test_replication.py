"""Continuous replication with the real Litestream, configured as the operator renders it, to a
file replica and to a real S3-compatible server: what survives a kill -9, a restore into an empty
volume, a point-in-time restore, and the init container's restore-only-if-missing command."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.backup.routes import answers
from tests.backup.tools import Replica, replicating, restore, tool, volume, watcher_cli
from tests.backup.workload import Ingest, seqs_in
from tests.service.helpers import service_process
from watcher.store.migrations import LATEST_VERSION
from watcher_operator import conventions as c
from watcher_operator import resources
from watcher_operator.spec import duration_ms

# The instance's WATCHER_WAL_AUTOCHECKPOINT under backup: checkpoints are Litestream's.
SERVICE_ENV = {c.WAL_AUTOCHECKPOINT_ENV: "0", "WATCHER_LOG_LEVEL": "warning"}
INGEST_SECONDS = 6.0


def sync_seconds(replica: Replica) -> float:
    return (duration_ms(replica.backup.sync_interval) or 0) / 1000


def integrity(db_path: Path) -> list[str]:
    conn = sqlite3.connect(db_path)
    try:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def schema_version(db_path: Path) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def init_container(
    replica: Replica, db_path: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """The operator's restore init container, its container paths mapped to local ones."""
    local = {c.LITESTREAM_CONFIG_PATH: str(replica.write_config(db_path)), c.DB_PATH: str(db_path)}
    args = [local.get(arg, arg) for arg in resources.restore_args()]
    return subprocess.run([str(tool("litestream")), *args], capture_output=True, text=True,
                          env=replica.env if env is None else env, timeout=120)  # fmt: skip


def restored_by_init_container(replica: Replica, db_path: Path) -> Path:
    result = init_container(replica, db_path)
    assert result.returncode == 0, result.stdout + result.stderr
    return db_path


async def shipped(replica: Replica, directory: Path, total: int) -> Ingest:
    """A service and Litestream on a new database in `directory`: `total` requests ingested,
    then, once Litestream has had two sync intervals to ship them, both killed (-9)."""
    db_path = volume(directory)
    config = replica.write_config(db_path)
    async with service_process(db_path, **SERVICE_ENV) as (server, base):
        with replicating(config, replica.env, directory / "litestream.log") as litestream:
            ingest = Ingest(base)
            await ingest.run(asyncio.Event(), total=total)
            await asyncio.sleep(2 * sync_seconds(replica) + 1)
            litestream.kill()
            server.kill()
    return ingest


async def test_kill_nine_loses_nothing_acknowledged_a_sync_interval_before(
    replica: Replica, tmp_path: Path
) -> None:
    live = volume(tmp_path / "live")
    config = replica.write_config(live)
    async with service_process(live, **SERVICE_ENV) as (server, base):
        with replicating(config, replica.env, tmp_path / "litestream.log") as litestream:
            ingest, stop = Ingest(base), asyncio.Event()
            sending = asyncio.create_task(ingest.run(stop))
            await asyncio.sleep(INGEST_SECONDS)  # sustained ingest, Litestream shipping it
            killed = time.monotonic()
            litestream.kill()  # SIGKILL, Litestream first: nothing is uploaded after `killed`
            server.kill()
            stop.set()
            await sending

    restored = tmp_path / "restored" / "watcher.db"  # an empty directory: a new volume
    restore(config, live, restored, replica.env)
    found = seqs_in(restored)
    due = ingest.acked_before(killed - sync_seconds(replica))
    late = set(ingest.acked) - due
    print(
        f"\n{replica.backup.url.split(':')[0]} replica: {len(ingest.acked)} POSTs acknowledged "
        f"in {INGEST_SECONDS:g} s, {len(due)} of them more than {replica.backup.sync_interval} "
        f"before the kill; restored {len(found)} rows: {len(due & found)}/{len(due)} of those, "
        f"{len(late & found)}/{len(late)} of the last {replica.backup.sync_interval}"
    )
    assert len(due) > 200  # the ingest was sustained
    assert due - found == set(), "acknowledged POSTs older than one sync interval are missing"
    assert found <= ingest.sent  # nothing appears that was never sent
    assert integrity(restored) == ["ok"]
    assert schema_version(restored) == LATEST_VERSION
    async with service_process(restored) as (_, restored_base):  # starts cleanly on it
        assert await answers(restored_base, restored)


async def test_a_restored_volume_replicates_on_and_answers_as_the_original(
    replica: Replica, tmp_path: Path
) -> None:
    """The operator's cycle: a volume is lost; its replacement is restored by the init
    container; the service and Litestream run on it and are lost again; the next replacement
    answers every route exactly as the database it was restored from."""
    wait = 2 * sync_seconds(replica) + 1
    ingest = await shipped(replica, tmp_path / "first", total=300)
    assert len(ingest.acked) == 300

    second = restored_by_init_container(replica, volume(tmp_path / "second"))  # a new volume
    config = replica.write_config(second)
    assert seqs_in(second) == set(range(300))
    async with service_process(second, **SERVICE_ENV) as (server, base):
        with replicating(config, replica.env, tmp_path / "second.log") as litestream:
            more = Ingest(base, first=300)
            await more.run(asyncio.Event(), total=300)
            assert len(more.acked) == 300
            original = await answers(base, second)
            await asyncio.sleep(wait)
            litestream.kill()
            server.kill()

    third = restored_by_init_container(replica, volume(tmp_path / "third"))
    assert seqs_in(third) == set(range(600))
    assert integrity(third) == ["ok"]
    async with service_process(third) as (_, base):
        restored = await answers(base, third)
    assert len(original) > 100
    assert restored.keys() == original.keys()
    differing = [path for path in original if restored[path] != original[path]]
    assert differing == []
    statuses = {path: status for path, (status, _) in original.items()}
    assert {p for p, status in statuses.items() if status != 200} <= {
        p for p in statuses if p.endswith("/diff")
    }
    assert sum(p.endswith("/content") for p in statuses) > 20  # stored contents were compared


async def test_point_in_time_restore_returns_exactly_the_rows_committed_before(
    replica: Replica, tmp_path: Path
) -> None:
    wait = 2 * sync_seconds(replica) + 1
    live = volume(tmp_path / "live")
    config = replica.write_config(live)
    async with service_process(live, **SERVICE_ENV) as (_, base):
        with replicating(config, replica.env, tmp_path / "litestream.log"):
            before = Ingest(base)
            await before.run(asyncio.Event(), total=200)
            await asyncio.sleep(wait)  # shipped
            moment = datetime.now(UTC)
            await asyncio.sleep(1.5)  # nothing is committed around the moment
            after = Ingest(base, first=200)
            await after.run(asyncio.Event(), total=200)
            await asyncio.sleep(wait)
    assert len(before.acked) == len(after.acked) == 200

    stamp = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    at_moment = tmp_path / "at-moment.db"
    restore(config, live, at_moment, replica.env, "-timestamp", stamp)
    latest = tmp_path / "latest.db"
    restore(config, live, latest, replica.env)
    print(f"\npoint in time {stamp}: {len(seqs_in(at_moment))} rows (200 committed before it, "
          f"200 after); latest: {len(seqs_in(latest))} rows")  # fmt: skip
    assert seqs_in(at_moment) == set(before.acked)
    assert seqs_in(latest) == set(before.acked) | set(after.acked)
    assert integrity(at_moment) == ["ok"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_the_init_container_restores_only_a_missing_database(
    replica: Replica, tmp_path: Path
) -> None:
    assert len((await shipped(replica, tmp_path / "source", total=50)).acked) == 50

    # An existing database with other data, configured to the same replica: left as it is.
    existing = volume(tmp_path / "existing")
    async with service_process(existing) as (_, base):
        await Ingest(base, first=1000).run(asyncio.Event(), total=20)
    files = {p.name: _digest(p) for p in existing.parent.iterdir() if p.is_file()}
    restored_by_init_container(replica, existing)
    assert {p.name: _digest(p) for p in existing.parent.iterdir() if p.is_file()} == files
    assert seqs_in(existing) == set(range(1000, 1020))

    # A missing database: restored from the replica.
    missing = restored_by_init_container(replica, tmp_path / "missing" / "watcher.db")
    assert seqs_in(missing) == set(range(50))
    assert integrity(missing) == ["ok"]


def test_the_init_container_starts_a_new_class_empty_and_never_guesses(
    replica: Replica, tmp_path: Path
) -> None:
    db_path = tmp_path / "data" / "watcher.db"  # the directory does not exist either
    # No replica yet (a new class): success, and no database; the service creates it.
    result = init_container(replica, db_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not db_path.exists()
    # A replica it cannot read: failure, so the pod does not start on an empty database.
    unreadable = dict(replica.env)
    if replica.backup.is_s3:
        unreadable["AWS_SECRET_ACCESS_KEY"] = "wrong"
    else:
        blocked = Path(replica.url.removeprefix("file://"))
        blocked.parent.mkdir(parents=True, exist_ok=True)
        blocked.write_text("not a directory")
    result = init_container(replica, db_path, unreadable)
    assert result.returncode != 0, result.stdout + result.stderr
    assert not db_path.exists()


async def test_a_backup_file_restored_into_a_replicated_class_reaches_the_replica(
    replica: Replica, tmp_path: Path
) -> None:
    """docs/backups.md's point-in-time procedure ends with `python -m watcher restore --force` into
    the paused class's volume: Litestream, started again with the pod, must ship what the
    restore wrote (it rewrote the database while Litestream was not running)."""
    await shipped(replica, tmp_path / "class", total=100)  # the class, replicated, then paused
    other = volume(tmp_path / "other")
    async with service_process(other) as (_, base):
        await Ingest(base, first=500).run(asyncio.Event(), total=20)
    backup_file = tmp_path / "point-in-time.db"
    live = tmp_path / "class" / "watcher.db"
    watcher_cli("backup", "--to", str(backup_file), "--db-path", str(other))
    watcher_cli("restore", str(backup_file), "--db-path", str(live), "--force")

    config = replica.write_config(live)  # unpaused: the pod starts again on the volume
    async with service_process(live, **SERVICE_ENV) as (server, base):
        with replicating(config, replica.env, tmp_path / "class-again.log") as litestream:
            more = Ingest(base, first=600)
            await more.run(asyncio.Event(), total=10)
            await asyncio.sleep(2 * sync_seconds(replica) + 1)
            litestream.kill()
            server.kill()
    assert len(more.acked) == 10
    restored = restored_by_init_container(replica, volume(tmp_path / "replacement"))
    assert seqs_in(restored) == set(range(500, 520)) | set(range(600, 610))
    assert integrity(restored) == ["ok"]
