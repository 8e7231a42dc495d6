"""The real process: `python -m watcher serve` starts, serves, and drains writes on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time

import aiohttp

from tests.service.helpers import db_rows, snapshot_url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _wait_ready(base: str, process) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            assert process.returncode is None, "server exited during start-up"
            try:
                async with session.get(base + "/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("server did not become ready")


async def test_serve_then_sigterm_keeps_every_acknowledged_write(tmp_path):
    port = _free_port()
    db_path = tmp_path / "data" / "watcher.db"
    env = {
        **os.environ,
        "WATCHER_HOST": "127.0.0.1",
        "WATCHER_PORT": str(port),
        "WATCHER_DB_PATH": str(db_path),
        "WATCHER_LOG_FORMAT": "json",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "watcher", "serve",
        env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(base, process)
        acknowledged = 0
        some_acknowledged = asyncio.Event()

        async def post(i: int) -> None:
            nonlocal acknowledged
            url = base + snapshot_url("os-1", "hw1", "7", f"f{i}.c", "20250310_060000")
            try:
                # A fresh session per request, as filemon does.
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(url, json={"bytes": i}) as response,
                ):
                    if response.status == 200:
                        acknowledged += 1
                        if acknowledged >= 20:
                            some_acknowledged.set()
            except aiohttp.ClientError:
                pass  # refused once shutdown began: not acknowledged, may or may not be stored

        writers = [asyncio.create_task(post(i)) for i in range(300)]
        await asyncio.wait_for(some_acknowledged.wait(), 30)
        process.send_signal(signal.SIGTERM)  # while most posts are still in flight
        await asyncio.gather(*writers)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    assert acknowledged >= 20
    (stored,) = db_rows(db_path, "SELECT COUNT(*) FROM snapshot")[0]
    assert stored >= acknowledged
    assert db_rows(db_path, "PRAGMA integrity_check") == [("ok",)]
    # JSON log lines carry the route template, never a token or body.
    lines = [line for line in stderr.decode().splitlines() if '"route"' in line]
    assert (
        lines
        and '"route": "/api/{class_div}/{hw_name}/{student_id}/{filename}/{timestamp}"'
        in "\n".join(lines)
    )
