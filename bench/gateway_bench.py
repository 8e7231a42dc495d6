"""Gateway overhead: the snapshot ingest rate through the gateway relative to the direct rate.

A real service (`python -m watcher serve`, temporary database) and a real gateway
(`python -m watcher gateway`, routing its class to that service) run as subprocesses on 127.0.0.1.
One aiohttp client session POSTs snapshots at a fixed concurrency, first straight to the service,
then through the gateway. Both processes log at WARNING, so neither pays for per-request access
lines. The load generator shares the machine with both servers, so only the ratio means much.

    python -m bench.gateway_bench [--requests N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

HOST = "127.0.0.1"
CLASS = "os-1"
MAX_PHASE_S = 120.0  # a phase stops here even if requests remain
WARM_UP = 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def _process(command: str, env: dict[str, str], cwd: Path) -> AsyncIterator[str]:
    """`python -m watcher <command>` listening on a free loopback port; yields its base URL."""
    port = _free_port()
    prefix = "WATCHER_GATEWAY_" if command == "gateway" else "WATCHER_"
    env = {
        **os.environ,
        f"{prefix}HOST": HOST,
        f"{prefix}PORT": str(port),
        f"{prefix}LOG_LEVEL": "warning",
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "watcher", command, env=env, cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://{HOST}:{port}"
    try:
        await _wait_ready(base, process)
        yield base
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _wait_ready(base: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"{base}: exited with {process.returncode} during start-up")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(base + "/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{base} did not become ready")


async def _drive(
    session: aiohttp.ClientSession, base: str, first: int, requests: int, concurrency: int
) -> float:
    """POST `requests` snapshots with `concurrency` workers; returns acknowledged per second."""
    numbers = iter(range(first, first + requests))
    deadline = time.monotonic() + MAX_PHASE_S
    acknowledged = 0

    async def worker() -> None:
        nonlocal acknowledged
        for n in numbers:
            if time.monotonic() > deadline:
                return
            # A distinct row each time, named as filemon names files (student, @-path, UTC).
            url = (f"{base}/api/{CLASS}/hw{n % 5}/{202000000 + n % 400}/src@f{n % 7}.c/"
                   f"20250310_{n // 3600 % 24:02d}{n // 60 % 60:02d}{n % 60:02d}")  # fmt: skip
            async with session.post(url, json={"bytes": n % 4096}) as response:
                await response.read()
                if response.status == 200:
                    acknowledged += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    if acknowledged < requests:
        raise RuntimeError(f"{base}: only {acknowledged} of {requests} POSTs acknowledged")
    return acknowledged / elapsed


async def measure(requests: int = 5000, concurrency: int = 64) -> dict:
    """Snapshot POSTs per second, direct and through the gateway, and their ratio."""
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp:
        work = Path(tmp)
        routes = work / "routes.json"
        service_env = {"WATCHER_DB_PATH": str(work / "watcher.db")}
        async with _process("serve", service_env, work) as service:
            routes.write_text(json.dumps({CLASS: service}))
            gateway_env = {"WATCHER_GATEWAY_ROUTES_FILE": str(routes)}
            async with (
                _process("gateway", gateway_env, work) as gateway,
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session,
            ):
                await _drive(session, service, 0, WARM_UP, concurrency)
                await _drive(session, gateway, WARM_UP, WARM_UP, concurrency)
                first = 2 * WARM_UP
                direct = await _drive(session, service, first, requests, concurrency)
                through = await _drive(session, gateway, first + requests, requests, concurrency)
    return {"direct_rps": direct, "gateway_rps": through, "ratio": through / direct}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.gateway_bench", description=__doc__)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    result = asyncio.run(measure(args.requests, args.concurrency))
    print(
        f"gateway overhead ({args.requests} snapshot POSTs, concurrency {args.concurrency}): "
        f"direct {result['direct_rps']:.0f}/s, through the gateway "
        f"{result['gateway_rps']:.0f}/s, ratio {result['ratio']:.2f}"
    )


if __name__ == "__main__":
    main()
