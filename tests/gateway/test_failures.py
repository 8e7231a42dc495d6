"""An instance that is down, silent or dies mid-answer: 503 with Retry-After, or a broken body."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from yarl import URL

from tests.gateway.conftest import Gateway, Instance
from tests.gateway.helpers import metric, raw_url
from watcher.app import create_app
from watcher.config import Settings

Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def raw_upstream() -> AsyncIterator[Callable[[Behaviour], Awaitable[URL]]]:
    """A TCP server on loopback that misbehaves as told (aiohttp would never answer like this)."""
    servers: list[asyncio.Server] = []

    async def start(behaviour: Behaviour) -> URL:
        server = await asyncio.start_server(behaviour, "127.0.0.1", 0)
        servers.append(server)
        return URL(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


async def test_unreachable_instance_is_503_with_retry_after(
    http, start_gateway, instances: dict[str, Instance]
):
    gateway = await start_gateway(
        {"os-1": instances["os-1"].url, "ds-2": f"http://127.0.0.1:{closed_port()}"},
        retry_after_s=7,
    )
    async with http.get(raw_url(gateway.url, "/api/ds-2/hw1/202012345")) as response:
        assert response.status == 503
        assert response.headers["Retry-After"] == "7"
        assert "ds-2" in (await response.json())["detail"]
    async with http.get(raw_url(gateway.url, "/api/os-1/hw1/202012345")) as response:
        assert response.status == 200  # the other class is unaffected
    text = await gateway.metrics(http)
    assert metric(text, "watcher_gateway_upstream_errors_total", class_div="ds-2") == 1
    assert metric(text, "watcher_gateway_upstream_errors_total", reason="connect") == 1
    assert metric(text, "watcher_gateway_requests_total", status="503") == 1


async def test_instance_that_stops_is_503_then_back_when_it_restarts(
    http, aiohttp_server, gateway: Gateway, instances: dict[str, Instance]
):
    ds2 = instances["ds-2"]
    target = raw_url(gateway.url, "/api/build_avg/ds-2/hw1")
    async with http.get(target) as response:
        assert response.status == 200  # pools a keep-alive connection to the instance
    await ds2.server.close()
    async with http.get(target) as response:
        assert response.status == 503
        assert "Retry-After" in response.headers
    # The pod comes back (same Service address, same volume): no gateway restart needed.
    app = create_app(Settings(db_path=ds2.db_path))
    await aiohttp_server(app, host="127.0.0.1", port=ds2.url.port)
    async with http.get(target) as response:
        assert response.status == 200


async def test_silent_instance_times_out_as_503(http, start_gateway, raw_upstream):
    async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the gateway gives up and closes the connection

    silent = await raw_upstream(never_answers)
    gateway = await start_gateway({"os-1": silent}, timeout_s=0.3)
    started = asyncio.get_running_loop().time()
    async with http.get(raw_url(gateway.url, "/api/run_avg/os-1/hw1")) as response:
        assert response.status == 503
        assert "Retry-After" in response.headers
    assert asyncio.get_running_loop().time() - started < 2
    text = await gateway.metrics(http)
    assert metric(text, "watcher_gateway_upstream_errors_total", reason="timeout") == 1


async def test_instance_dying_mid_answer_breaks_the_body_instead_of_ending_it(
    http, start_gateway, raw_upstream
):
    async def dies_mid_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        await writer.drain()
        writer.close()  # no terminating chunk: the answer is incomplete

    broken = await raw_upstream(dies_mid_body)
    gateway = await start_gateway({"os-1": broken})
    async with http.get(raw_url(gateway.url, "/api/os-1/hw1/7/logs/build")) as response:
        assert response.status == 200  # the status line was relayed before the failure
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()
    text = await gateway.metrics(http)
    assert metric(text, "watcher_gateway_upstream_errors_total", reason="aborted") == 1


async def test_invalid_http_from_an_instance_is_502(http, start_gateway, raw_upstream):
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.write(b"this is not HTTP\r\n\r\n")
        await writer.drain()
        writer.close()

    gateway = await start_gateway({"os-1": await raw_upstream(garbage)})
    async with http.get(raw_url(gateway.url, "/api/os-1/hw1/7")) as response:
        assert response.status == 502
