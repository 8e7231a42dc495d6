"""Under more writes than the writer can take: 503 with Retry-After, nothing else, nothing lost."""

from __future__ import annotations

import asyncio

from tests.service.helpers import db_rows, snapshot_url
from watcher.app import create_app
from watcher.config import Settings


async def test_a_full_queue_answers_503_and_loses_nothing(aiohttp_client, tmp_path):
    db_path = tmp_path / "w.db"
    # A tiny queue and slow commits: the writer cannot keep up with 300 concurrent POSTs.
    settings = Settings(db_path=db_path, queue_max=4, batch_max=4, batch_delay_ms=20)
    client = await aiohttp_client(create_app(settings))

    async def post(i: int) -> tuple[int, str | None, int]:
        url = snapshot_url("os-1", "hw1", "1", f"f{i}.c", "20250310_060000")
        response = await client.post(url, json={"bytes": i})
        await response.read()
        return response.status, response.headers.get("Retry-After"), i

    results = await asyncio.gather(*(post(i) for i in range(300)))
    statuses = {status for status, _, _ in results}
    assert statuses == {200, 503}, statuses
    refused = [r for r in results if r[0] == 503]
    assert all(retry_after == "1" for _, retry_after, _ in refused)
    acknowledged = {f"f{i}.c" for status, _, i in results if status == 200}
    stored = [name for (name,) in db_rows(db_path, "SELECT filename FROM snapshot")]
    assert set(stored) == acknowledged  # every 200 is stored, no 503 is
    assert len(stored) == len(acknowledged)
    metrics = await (await client.get("/metrics")).text()
    assert 'status="503"' in metrics
    # Once the burst is over the service takes writes again.
    url = snapshot_url("os-1", "hw1", "1", "after.c", "20250310_060000")
    assert (await client.post(url, json={"bytes": 1})).status == 200


async def test_a_stalled_body_gets_408_and_frees_the_connection(aiohttp_client, tmp_path):
    settings = Settings(db_path=tmp_path / "w.db", read_timeout_s=0.5)
    client = await aiohttp_client(create_app(settings))
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    path = snapshot_url("os-1", "hw1", "1", "slow.c", "20250310_060000")
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        'Content-Length: 100\r\n\r\n{"bytes":'.encode()
    )
    await writer.drain()  # ... and the rest of the body never comes
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    length = int(
        next(
            line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        ).split(b":")[1]
    )
    body = await asyncio.wait_for(reader.readexactly(length), 10)
    writer.close()
    assert head.startswith(b"HTTP/1.1 408")
    assert b'"detail"' in body
    assert db_rows(tmp_path / "w.db", "SELECT COUNT(*) FROM snapshot") == [(0,)]
