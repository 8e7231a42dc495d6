"""Requests as the real collectors send them, and a way to look at the database directly."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp


def snapshot_url(class_div: str, hw: str, student: str | int, filename: str, stamp: str) -> str:
    """The URL exactly as filemon builds it: plain concatenation, no percent-encoding.

    aiohttp's client (as in filemon) then encodes spaces and non-ASCII characters itself.
    """
    return "/api/" + class_div + "/" + hw + "/" + str(student) + "/" + filename + "/" + stamp


def db_rows(db_path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# procmon's payloads (CONTRACT §4.2) and the Jupyter hook's (§4.3).
BUILD = {
    "timestamp": "2025-03-10T06:03:00.123456",
    "exit_code": 0,
    "cmdline": "gcc main.c -o main",
    "cwd": "/workspace/os-1-202012345/hw1",
    "binary_path": "/usr/bin/x86_64-linux-gnu-gcc-13",
    "target_path": "/workspace/os-1-202012345/hw1/main.c",
}
FAILED_BUILD = {
    "timestamp": "2025-03-10T06:04:00",
    "exit_code": 1,
    "cmdline": "gcc main.c",
    "cwd": "/w",
    "binary_path": "/b",
    "target_path": "/t",
}
RUN = {
    "timestamp": "2025-03-10T06:05:00",
    "exit_code": 0,
    "cmdline": "./main",
    "cwd": "/workspace/os-1-202012345/hw1",
    "target_path": "/workspace/os-1-202012345/hw1/main",
    "process_type": "binary",
}
JUPYTER_RUN = {
    "timestamp": "2025-10-22T20:31:55.613932",
    "exit_code": 0,
    "cmdline": "<unknown>",
    "cwd": "/home/coder/project/hw1",
    "target_path": "ipykernel",
    "process_type": "python",
}
STUDENT = "/api/os-1/hw1/202012345"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def service_process(
    db_path: Path, **env: str
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """`python -m watcher serve` on a free loopback port; yields (process, base URL) when ready.

    Its stderr (the JSON log) is kept in a file beside the database: `<db>.log`.
    """
    port = free_port()
    environment = {
        **os.environ,
        "WATCHER_HOST": "127.0.0.1",
        "WATCHER_PORT": str(port),
        "WATCHER_DB_PATH": str(db_path),
        "WATCHER_LOG_FORMAT": "json",
        **env,
    }
    async with watcher_process("serve", environment, Path(str(db_path) + ".log")) as started:
        yield started


@contextlib.asynccontextmanager
async def watcher_process(
    command: str, environment: dict[str, str], log_path: Path, cwd: Path | None = None
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """`python -m watcher <command>` listening where `environment` says; yields (process, base
    URL) once its /readyz answers 200, and kills it at the end. Its stderr goes to `log_path`."""
    port = environment["WATCHER_GATEWAY_PORT" if command == "gateway" else "WATCHER_PORT"]
    log = open(log_path, "ab")  # noqa: SIM115, ASYNC230 (a plain file for the child, closed below)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "watcher", command, env=environment, cwd=cwd, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(process, base, command)
        yield process, base
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        log.close()


async def wait_ready(process: asyncio.subprocess.Process, base: str, what: str) -> None:
    """Until `base`/readyz answers 200; fails if the process exits or 30 s pass."""
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        while True:
            assert process.returncode is None, f"{what} exited during start-up"
            assert time.monotonic() < deadline, f"{what} did not become ready"
            with contextlib.suppress(aiohttp.ClientConnectionError):
                async with session.get(base + "/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.05)
