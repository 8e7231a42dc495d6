"""Routing tables written the way kubelet writes them, a probe upstream, and metric reading."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path

from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from yarl import URL

from tests.service.helpers import free_port, watcher_process

ROUTES_KEY = "routes.json"


def write_configmap(directory: Path, routes: Mapping[str, str] | bytes) -> Path:
    """Publish a routing table as kubelet updates a ConfigMap volume (its AtomicWriter).

    The data lives in a fresh hidden directory `..<timestamp>`; the symlink `..data` is replaced
    by a rename (atomic), and `routes.json` is a symlink to `..data/routes.json`. Returns the
    path the gateway reads.
    """
    content = routes if isinstance(routes, bytes) else json.dumps(dict(routes)).encode()
    directory.mkdir(parents=True, exist_ok=True)
    version = directory / f"..{time.time_ns()}"
    version.mkdir()
    (version / ROUTES_KEY).write_bytes(content)
    data_link = directory / "..data"
    old = data_link.resolve() if data_link.is_symlink() else None
    staged = directory / "..data_tmp"
    staged.symlink_to(version.name)
    os.replace(staged, data_link)
    visible = directory / ROUTES_KEY
    if not visible.is_symlink():
        visible.symlink_to(Path("..data") / ROUTES_KEY)
    if old is not None:  # kubelet removes the previous version once the swap is done
        (old / ROUTES_KEY).unlink()
        old.rmdir()
    return visible


def raw_url(base: URL, target: str) -> URL:
    """`base` + a request target sent exactly as written (no quoting by yarl or aiohttp)."""
    return URL(str(base) + target, encoded=True)


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus exposition (0 when it is absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


async def eventually(check: Callable[[], Awaitable[bool]], within_s: float = 5.0) -> None:
    """Wait until `check()` is true (the gateway polls its table every few tens of ms here)."""
    deadline = time.monotonic() + within_s
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def probe_app(name: str) -> web.Application:
    """An upstream that reports what reached it, for checks the service's answers cannot show.

    JSON answer: its name, the method, the request target as received, every header, and the
    body's length, SHA-256 and Transfer-Encoding. `?download=N` answers N bytes streamed in
    chunks instead; `?gzip=1` answers a gzip-encoded body; `?hop=1` adds hop-by-hop headers.
    """

    async def handle(request: web.Request) -> web.StreamResponse:
        if "download" in request.query:
            data = pattern(int(request.query["download"]))
            response = web.StreamResponse(headers={"X-Probe": name})
            await response.prepare(request)
            for offset in range(0, len(data), 65536):
                await response.write(data[offset : offset + 65536])
            await response.write_eof()
            return response
        body = await request.read()
        report = {
            "name": name,
            "method": request.method,
            "target": request.raw_path,
            "headers": [[k, v] for k, v in request.headers.items()],
            "length": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
        }
        data = json.dumps(report).encode()
        headers = {"X-Probe": name}
        if "gzip" in request.query:
            data = gzip.compress(data)
            headers["Content-Encoding"] = "gzip"
        response = web.Response(body=data, content_type="application/json", headers=headers)
        if "hop" in request.query:
            response.headers["Connection"] = "X-Hop"  # names X-Hop as hop-by-hop
            response.headers["X-Hop"] = "for the gateway only"
            response.headers["Keep-Alive"] = "timeout=5"
        response.headers.add("Set-Cookie", "a=1")
        response.headers.add("Set-Cookie", "b=2")
        return response

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def pattern(size: int) -> bytes:
    return (bytes(range(256)) * (size // 256 + 1))[:size]


@contextlib.asynccontextmanager
async def gateway_process(
    tmp_path: Path, routes: Mapping[str, str], **env: str
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """`python -m watcher gateway` on a free loopback port with `routes` as its table; yields
    (process, base URL) once it is ready. Its stderr is kept in `tmp_path / "gateway.log"`."""
    routes_file = write_configmap(tmp_path / "routes", dict(routes))
    port = free_port()
    environment = {
        **os.environ,
        "WATCHER_GATEWAY_HOST": "127.0.0.1",
        "WATCHER_GATEWAY_PORT": str(port),
        "WATCHER_GATEWAY_ROUTES_FILE": str(routes_file),
        **env,
    }
    async with watcher_process(
        "gateway", environment, tmp_path / "gateway.log", tmp_path
    ) as started:
        yield started
