"""Pieces every benchmark needs: a real server process and a bounded HTTP load generator.

Everything talks to 127.0.0.1 only, and every load loop is bounded by a request count and a
deadline, so a run always ends by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench.data import CLASS, FIRST_STUDENT, Shape
from watcher.config import Settings
from watcher.store.database import open_database

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: asyncio.subprocess.Process
    base: str

    def peak_rss_bytes(self) -> int:
        """VmHWM: the most resident memory the process has had so far."""
        if self.process.returncode is not None:
            raise RuntimeError(f"server exited with {self.process.returncode}")
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0


async def create_database(path: Path) -> None:
    """A database at `path` created and migrated by the service's own code, then closed."""
    database = await open_database(Settings(db_path=path))
    await database.close()


@contextlib.asynccontextmanager
async def running_server(
    db_path: Path, *, command: str = "serve", extra_env: dict[str, str] | None = None
) -> AsyncIterator[Server]:
    port = free_port()
    prefix = "WATCHER_GATEWAY_" if command == "gateway" else "WATCHER_"
    env = {
        **os.environ,
        f"{prefix}HOST": HOST,
        f"{prefix}PORT": str(port),
        "WATCHER_DB_PATH": str(db_path),
        f"{prefix}LOG_LEVEL": "warning",
        "WATCHER_BENCH_ROUTES": "true",
        **(extra_env or {}),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "watcher", command, env=env, stdout=asyncio.subprocess.DEVNULL
    )
    server = Server(process, f"http://{HOST}:{port}")
    try:
        await _wait_ready(server)
        yield server
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 60)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _wait_ready(server: Server, within_s: float = 60) -> None:
    deadline = time.monotonic() + within_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if server.process.returncode is not None:
                raise RuntimeError("server exited during start-up")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(server.base + "/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError("server did not become ready")


@dataclass
class LoadResult:
    ok: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")


Request = Callable[[aiohttp.ClientSession, int], Awaitable[int]]


async def load(
    request: Request,
    *,
    total: int,
    concurrency: int,
    max_seconds: float,
    session: aiohttp.ClientSession | None = None,
) -> LoadResult:
    """Send `total` requests with `concurrency` workers (stopping at `max_seconds`)."""
    result = LoadResult()
    counter = iter(range(total))
    deadline = time.monotonic() + max_seconds
    own_session = session is None
    connector = aiohttp.TCPConnector(limit=concurrency)
    session = session or aiohttp.ClientSession(connector=connector)

    async def worker() -> None:
        for i in counter:
            if time.monotonic() > deadline:
                return
            started = time.perf_counter()
            try:
                status = await request(session, i)
            except aiohttp.ClientError:
                result.errors += 1
                continue
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if 200 <= status < 300:
                result.ok += 1
            else:
                result.errors += 1

    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        result.elapsed = time.perf_counter() - started
        if own_session:
            await session.close()
    return result


def ingest_request(base: str, prefix: str, shape: Shape):
    rng = random.Random(7)

    async def post(session: aiohttp.ClientSession, i: int) -> int:
        student = FIRST_STUDENT + rng.randrange(shape.students)
        # Collector time is "now" (UTC), as filemon sends it: newer than any seeded save.
        now = datetime.now(UTC).strftime("%Y%m%d_%H%M%S")
        url = (f"{base}{prefix}/{CLASS}/hw{rng.randrange(shape.assignments)}/{student}/"
               f"src@file{rng.randrange(shape.files)}.c/{now}")  # fmt: skip
        async with session.post(url, json={"bytes": rng.randint(0, 65536)}) as response:
            await response.read()
            return response.status

    return post
