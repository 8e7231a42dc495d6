"""The gateway under the adversarial pass of issue 19: classes isolated from each other, slow
clients kept away from instances, tokens on what names internal addresses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer
from yarl import URL

from tests.gateway.conftest import server_url
from tests.gateway.helpers import gateway_process
from tests.service.helpers import snapshot_url
from watcher.app import create_app
from watcher.config import Settings


class HangingInstance:
    """An instance that accepts connections and never answers; counts what reached it."""

    def __init__(self) -> None:
        self.connections = 0
        self.server: asyncio.Server | None = None
        self._arrived = asyncio.Event()

    async def wait_for_connections(self, count: int) -> None:
        while self.connections < count:
            self._arrived.clear()
            await self._arrived.wait()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._arrived.set()
        try:
            await reader.read()  # until the gateway gives up and closes
        finally:
            writer.close()

    async def start(self) -> URL:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return URL(f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}")


@pytest.fixture
async def hanging() -> AsyncIterator[HangingInstance]:
    instance = HangingInstance()
    yield instance
    if instance.server is not None:
        instance.server.close()


async def test_a_hanging_class_does_not_hold_up_another(http, start_gateway, instances, hanging):
    down = await hanging.start()
    gateway = await start_gateway(
        {"os-1": instances["os-1"].url, "hang-1": down},
        upstream_connections=6,
        upstream_connections_per_instance=2,
        timeout_s=30,
    )

    async def stuck(i: int) -> None:
        url = gateway.url / "api/hang-1/hw1/7"
        async with http.get(url):
            pass

    load = [asyncio.create_task(stuck(i)) for i in range(8)]
    await asyncio.wait_for(hanging.wait_for_connections(2), 10)
    # The hanging class has its two connections and six requests queued for them; os-1 is served
    # at once (with one shared pool of 6 it would wait for the hanging requests to time out).
    async with asyncio.timeout(5), http.get(gateway.url / "api/os-1/hw1/7") as response:
        assert response.status == 200
    assert hanging.connections == 2
    for task in load:
        task.cancel()
    await asyncio.gather(*load, return_exceptions=True)


async def test_a_slow_body_gets_408_without_touching_the_instance(start_gateway, hanging):
    down = await hanging.start()
    gateway = await start_gateway({"hang-1": down}, body_timeout_s=1)
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.url.port)
    target = snapshot_url("hang-1", "hw1", "7", "a.c", "20250310_060000")
    head = f"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n{{"
    writer.write(head.encode())
    await writer.drain()
    async with asyncio.timeout(10):
        status = await reader.readline()
        answer = await reader.readuntil(b"}")  # aiohttp then lingers a while before closing
    writer.close()
    assert status.startswith(b"HTTP/1.1 408"), status
    assert b"request body not received" in answer
    assert hanging.connections == 0


@pytest.fixture
async def locked_instance(aiohttp_server, tmp_path) -> tuple[URL, TestServer]:
    settings = Settings(db_path=tmp_path / "docs-1.db", ingest_token="in-1", read_token="rd-2")
    server = await aiohttp_server(create_app(settings), host="127.0.0.1")
    return server_url(server), server


async def test_a_class_named_docs_needs_tokens_through_the_gateway(
    http, start_gateway, locked_instance
):
    url, _ = locked_instance
    gateway = await start_gateway({"docs-1": url})
    post = gateway.url.with_path(
        snapshot_url("docs-1", "hw1", "202012345", "m.c", "20250310_060130")
    )
    async with http.post(post, json={"bytes": 1}) as response:
        assert response.status == 401
    async with http.get(gateway.url / "api/docs-1/hw1/202012345") as response:
        assert response.status == 401
    headers = {"Authorization": "Bearer rd-2"}
    async with http.get(gateway.url / "api/docs-1/hw1/202012345", headers=headers) as response:
        assert (response.status, await response.json()) == (200, [])


async def test_readiness_details_and_the_docs_page_need_the_read_token(http, start_gateway, probes):
    gateway = await start_gateway({"os-1": probes["a"]}, read_token="gw-read")
    async with http.get(gateway.url / "readyz") as response:
        # kubelet's probe: the status only, nothing about files or instances.
        assert (response.status, await response.json()) == (200, {"status": "ready"})
    headers = {"Authorization": "Bearer gw-read"}
    async with http.get(gateway.url / "readyz", headers=headers) as response:
        assert (await response.json())["checks"]["classes"] == 1
    for sent in ({}, {"Authorization": "Bearer wrong"}):
        async with http.get(gateway.url / "api/docs", headers=sent) as response:
            assert response.status == 401
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert str(probes["a"]) not in await response.text()
    async with http.get(gateway.url / "api/docs", headers=headers) as response:
        assert response.status == 200
        assert str(probes["a"]) in await response.text()


async def test_the_gateway_process_closes_connections_without_a_request_head(tmp_path):
    async with gateway_process(tmp_path, {}, WATCHER_GATEWAY_HEADER_TIMEOUT_S="1") as (_, base):
        reader, writer = await asyncio.open_connection("127.0.0.1", URL(base).port)
        started = time.monotonic()
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 8) == b""
        assert time.monotonic() - started < 5
        writer.close()
