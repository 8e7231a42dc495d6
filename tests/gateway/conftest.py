"""Real service instances and a real gateway, each an HTTP server on 127.0.0.1 in this process."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from tests.gateway.helpers import probe_app, write_configmap
from watcher.app import create_app
from watcher.config import Settings
from watcher.gateway.app import create_gateway_app
from watcher.gateway.config import GatewaySettings


@dataclasses.dataclass
class Instance:
    """One class's service: its own app, database and address."""

    class_div: str
    url: URL
    db_path: Path
    server: TestServer


@dataclasses.dataclass
class Gateway:
    url: URL
    routes_dir: Path  # a ConfigMap volume: write_configmap(routes_dir, {...}) publishes a table
    app: web.Application

    async def metrics(self, http: aiohttp.ClientSession) -> str:
        async with http.get(self.url / "metrics") as response:
            assert response.status == 200
            return await response.text()


def server_url(server: TestServer) -> URL:
    return URL(f"http://127.0.0.1:{server.port}")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain client, as filemon and the portal use (no base URL, no cookie jar)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session


@pytest.fixture
async def instances(aiohttp_server, tmp_path: Path) -> dict[str, Instance]:
    """Two service instances, for classes os-1 and ds-2, each on its own SQLite file."""
    found = {}
    for class_div in ("os-1", "ds-2"):
        db_path = tmp_path / class_div / "watcher.db"
        server = await aiohttp_server(create_app(Settings(db_path=db_path)), host="127.0.0.1")
        found[class_div] = Instance(class_div, server_url(server), db_path, server)
    return found


@pytest.fixture
async def probes(aiohttp_server) -> dict[str, URL]:
    """Two probe upstreams that echo what reached them, named a and b."""
    return {
        name: server_url(await aiohttp_server(probe_app(name), host="127.0.0.1"))
        for name in ("a", "b")
    }


StartGateway = Callable[..., Awaitable[Gateway]]


@pytest.fixture
def start_gateway(aiohttp_server, tmp_path: Path) -> StartGateway:
    """Start a gateway whose routing table is a ConfigMap-style directory under tmp_path."""
    count = 0

    async def start(routes: Mapping[str, Any] | None, **settings: Any) -> Gateway:
        nonlocal count
        count += 1
        routes_dir = tmp_path / f"routes-{count}"
        routes_dir.mkdir()
        if routes is not None:
            write_configmap(routes_dir, {k: str(v) for k, v in routes.items()})
        settings.setdefault("reload_interval_s", 0.02)
        app = create_gateway_app(
            GatewaySettings(routes_file=routes_dir / "routes.json", **settings)
        )
        server = await aiohttp_server(app, host="127.0.0.1")
        return Gateway(server_url(server), routes_dir, app)

    return start


@pytest.fixture
async def gateway(start_gateway: StartGateway, instances: dict[str, Instance]) -> Gateway:
    """The gateway in front of both instances, as the operator's table would describe them."""
    return await start_gateway({c: instance.url for c, instance in instances.items()})
