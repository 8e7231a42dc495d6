"""The real process: `python -m watcher serve` drains writes on SIGTERM, survives SIGKILL."""

from __future__ import annotations

import asyncio
import signal

import aiohttp

from tests.service.helpers import db_rows, service_process, snapshot_url

SNAPSHOT_ROUTE = '"route": "/api/{class_div}/{hw_name}/{student_id}/{filename}/{timestamp}"'


async def _post_many(base: str, count: int, acknowledged: list[int], started: asyncio.Event):
    """`count` snapshot POSTs, each its own file so it can be found exactly once afterwards."""

    async def post(session: aiohttp.ClientSession, i: int) -> None:
        url = base + snapshot_url("os-1", "hw1", "7", f"f{i}.c", "20250310_060000")
        try:
            async with session.post(url, json={"bytes": i}) as response:
                if response.status == 200:
                    acknowledged.append(i)
                    if len(acknowledged) >= 20:
                        started.set()
        except aiohttp.ClientError:
            pass  # cut off by the signal: not acknowledged, may or may not be stored

    connector = aiohttp.TCPConnector(limit=64, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(post(session, i) for i in range(count)))


def _stored_files(db_path) -> list[str]:
    return [name for (name,) in db_rows(db_path, "SELECT filename FROM snapshot")]


async def test_sigterm_during_ingest_keeps_every_acknowledged_write(tmp_path):
    db_path = tmp_path / "watcher.db"
    acknowledged: list[int] = []
    started = asyncio.Event()
    async with service_process(db_path) as (process, base):
        load = asyncio.create_task(_post_many(base, 400, acknowledged, started))
        await asyncio.wait_for(started.wait(), 30)
        process.send_signal(signal.SIGTERM)  # while most posts are still in flight
        await load
        assert await asyncio.wait_for(process.wait(), 30) == 0
    stored = _stored_files(db_path)
    assert len(acknowledged) >= 20
    assert len(stored) == len(set(stored))
    assert {f"f{i}.c" for i in acknowledged} <= set(stored)
    assert db_rows(db_path, "PRAGMA integrity_check") == [("ok",)]
    log = (tmp_path / "watcher.db.log").read_text()
    assert SNAPSHOT_ROUTE in log  # JSON lines name the route template


async def test_sigkill_loses_no_acknowledged_write(tmp_path):
    db_path = tmp_path / "watcher.db"
    acknowledged: list[int] = []
    started = asyncio.Event()
    async with service_process(db_path) as (process, base):
        load = asyncio.create_task(_post_many(base, 3000, acknowledged, started))
        await asyncio.wait_for(started.wait(), 30)
        await asyncio.sleep(0.2)  # well into the run, with batches committing
        process.kill()
        await process.wait()
        await load
    sent_before_kill = len(acknowledged)
    # Restart on the same file: it opens, recovers the WAL, and has every acknowledged row once.
    async with (
        service_process(db_path) as (_, base),
        aiohttp.ClientSession() as session,
        session.get(base + "/api/os-1/hw1/7") as response,
    ):
        listed = set(await response.json())
    stored = _stored_files(db_path)
    assert 20 <= sent_before_kill < 3000, sent_before_kill
    assert len(stored) == len(set(stored)), "a row was stored twice"
    assert {f"f{i}.c" for i in acknowledged} <= set(stored)
    assert listed == set(stored)
    assert db_rows(db_path, "PRAGMA integrity_check") == [("ok",)]
    print(f"SIGKILL: {sent_before_kill} acknowledged, {len(stored)} stored, 3000 sent")
