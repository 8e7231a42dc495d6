"""The gateway's own routes, and `python -m watcher gateway` as a real process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

from tests.gateway.conftest import Gateway, Instance
from tests.gateway.helpers import gateway_process, metric
from tests.service.helpers import db_rows, snapshot_url


async def test_health_readiness_and_metrics(http, gateway: Gateway):
    async with http.get(gateway.url / "healthz") as response:
        assert (response.status, await response.json()) == (200, {"status": "ok"})
    async with http.get(gateway.url / "readyz") as response:
        body = await response.json()
        assert response.status == 200
        assert body["checks"]["classes"] == 2
    async with http.get(gateway.url / "metrics") as response:
        assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        text = await response.text()
    assert metric(text, "watcher_gateway_routes") == 2
    assert metric(text, "watcher_gateway_routes_loaded") == 1
    assert metric(text, "watcher_gateway_requests_total", family="/readyz", status="200") == 1
    assert "process_resident_memory_bytes" in text


async def test_docs_page_links_every_class_instance(http, gateway: Gateway, instances):
    headers = {"Accept": "application/json"}
    async with http.get(gateway.url / "api" / "docs", headers=headers) as response:
        body = await response.json()
    assert body["classes"] == {
        c: {"upstream": str(i.url), "docs": f"{i.url}/api/docs"} for c, i in instances.items()
    }
    async with http.get(gateway.url / "api" / "docs") as response:
        assert response.content_type == "text/html"
        page = await response.text()
    for instance in instances.values():
        assert f'href="{instance.url}/api/docs"' in page
    # The links work: each instance serves its Swagger UI there.
    async with http.get(body["classes"]["os-1"]["docs"]) as response:
        assert response.status == 200
    async with http.get(gateway.url / "docs", allow_redirects=False) as response:
        assert (response.status, response.headers["Location"]) == (302, "/api/docs")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_python_m_watcher_gateway_serves_and_stops_on_sigterm(
    http, tmp_path, instances: dict[str, Instance]
):
    routes = {"os-1": str(instances["os-1"].url)}
    env = {
        "WATCHER_GATEWAY_LOG_FORMAT": "json",
        "WATCHER_PORT": "not a port",  # the service's settings do not concern the gateway
    }
    async with gateway_process(tmp_path, routes, **env) as (process, base):
        url = base + snapshot_url("os-1", "hw1", 7, "과제.py", "20250310_060000")
        async with http.post(url, json={"bytes": 9}) as response:
            assert response.status == 200
        assert db_rows(instances["os-1"].db_path, "SELECT filename FROM snapshot") == [("과제.py",)]
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
    log = (tmp_path / "gateway.log").read_text()
    assert '"message": "routing table' in log
    assert '"class_div": "os-1"' in log  # the access line of the forwarded POST


async def test_invalid_gateway_setting_stops_at_start_naming_it(tmp_path):
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "watcher", "gateway",
        env={**os.environ, "WATCHER_GATEWAY_TIMEOUT_S": "soon"}, cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 2
    assert b"WATCHER_GATEWAY_TIMEOUT_S" in stderr
