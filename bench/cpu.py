"""Server CPU seconds per request (issue 18): what each class's instance and the gateway cost in a
cluster, where each gets a CPU limit.

The server runs as a process of its own; its CPU time (user + system, all threads) is read from
/proc before and after each slice of requests, and divided by the requests it answered. The
median over the slices of a phase is the figure; the no-op route (parsed like a snapshot POST,
nothing stored) is measured on the same server in the same run as the reference. The load
generator shares the machine but not the process, so its own cost is not counted.

    python -m bench.cpu [--requests N] [--saves S] [--skip-reads] [--skip-gateway]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench.data import CLASS, FIRST_STUDENT, Shape
from bench.harness import HOST, Server, free_port, ingest_request, load, running_server

CONCURRENCY = 32
SLICES = 8
TICKS = os.sysconf("SC_CLK_TCK")

# Targets of issue 18, in microseconds of server CPU per request.
INGEST_TARGET_US = 150
READ_TARGET_US = 250
GATEWAY_TARGET_US = 100
INGEST_NOOP_TARGET = 0.7
GATEWAY_RATIO_TARGET = 0.8


async def wait_listening(base: str, process: asyncio.subprocess.Process) -> None:
    """Until the server at `base` answers anything (the floor app has no /readyz)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            if process.returncode is not None:
                raise RuntimeError(f"{base} exited during start-up")
            try:
                async with session.post(base + "/ping", data=b"{}") as response:
                    await response.read()
                    return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"{base} did not start")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, all its threads included (/proc/<pid>/stat fields 14, 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


Request = Callable[[aiohttp.ClientSession, int], Awaitable[int]]


async def cpu_per_request(
    pids: list[int], request: Request, total: int, concurrency: int = CONCURRENCY
) -> dict:
    """Median CPU seconds per answered request of the processes `pids`, over SLICES slices."""
    per_request: list[float] = []
    rates: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await load(
            request, total=min(200, total), concurrency=concurrency, max_seconds=30, session=session
        )  # fmt: skip  (warm-up: connections, caches)
        for _ in range(SLICES):
            before = sum(cpu_seconds(pid) for pid in pids)
            result = await load(request, total=max(1, total // SLICES), concurrency=concurrency,
                                max_seconds=120, session=session)  # fmt: skip
            spent = sum(cpu_seconds(pid) for pid in pids) - before
            if result.errors:
                raise RuntimeError(f"{result.errors} failed requests: {result.statuses}")
            per_request.append(spent / max(1, result.ok))
            rates.append(result.rate)
    return {
        "cpu_us": statistics.median(per_request) * 1e6,
        "cpu_us_slices": [round(x * 1e6, 1) for x in per_request],
        "rate": statistics.median(rates),
    }


def post_log(base: str, kind: str, shape: Shape) -> Request:
    rng = random.Random(9)

    async def post(session: aiohttp.ClientSession, i: int) -> int:
        student = FIRST_STUDENT + rng.randrange(shape.students)
        hw = f"hw{rng.randrange(shape.assignments)}"
        cwd = f"/workspace/{CLASS}-{student}/{hw}"
        body = {
            "timestamp": datetime.now(UTC).isoformat(timespec="microseconds")[:-6],
            "exit_code": rng.choice((0, 0, 1)),
            "cmdline": "gcc main.c -o main" if kind == "build" else "./main",
            "cwd": cwd,
            "target_path": f"{cwd}/main.c" if kind == "build" else f"{cwd}/main",
        }
        if kind == "build":
            body["binary_path"] = "/usr/bin/x86_64-linux-gnu-gcc-12"
        else:
            body["process_type"] = "binary"
        url = f"{base}/api/{CLASS}/{hw}/{student}/logs/{kind}"
        async with session.post(url, json=body) as response:
            await response.read()
            return response.status

    return post


def get(base: str, make_path: Callable[[random.Random], str]) -> Request:
    rng = random.Random(11)

    async def request(session: aiohttp.ClientSession, i: int) -> int:
        async with session.get(base + make_path(rng)) as response:
            await response.read()
            return response.status

    return request


async def floor_phase(requests: int) -> dict:
    """The same snapshot POSTs answered by a bare aiohttp app (bench/floor_app.py)."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.floor_app", str(port), stdout=asyncio.subprocess.DEVNULL
    )
    base = f"http://{HOST}:{port}"
    try:
        await wait_listening(base, process)
        return await cpu_per_request([process.pid], ingest_request(base, "/api", Shape()),
                                     requests)  # fmt: skip
    finally:
        process.terminate()
        await process.wait()


async def ingest_phase(workdir: Path, requests: int) -> dict:
    shape = Shape()
    out: dict = {"floor": await floor_phase(requests)}
    async with running_server(workdir / "cpu-ingest.db") as server:
        pid = [server.process.pid]
        out["noop"] = await cpu_per_request(pid, ingest_request(server.base, "/_bench/noop", shape),
                                            requests)  # fmt: skip
        out["snapshot"] = await cpu_per_request(pid, ingest_request(server.base, "/api", shape),
                                                requests)  # fmt: skip
        out["build"] = await cpu_per_request(pid, post_log(server.base, "build", shape), requests)
        out["run"] = await cpu_per_request(pid, post_log(server.base, "run", shape), requests)
    return out


async def read_phase(workdir: Path, requests: int, saves: int) -> dict:
    """GETs on a database of its own (`python -m bench.cpu`); make bench uses reads_on."""
    from bench.__main__ import seed

    shape = Shape(saves=saves)
    db = workdir / "cpu-reads.db"
    await seed(db, shape)
    async with running_server(db) as server:
        return await reads_on(server, shape, requests)


async def reads_on(server: Server, shape: Shape, requests: int) -> dict:
    """Every GET route's CPU per request on a running, seeded server, beside its no-op POST."""
    from bench.__main__ import query_paths

    pid = [server.process.pid]
    out: dict = {"snapshots": shape.snapshots}
    out["noop"] = await cpu_per_request(pid, ingest_request(server.base, "/_bench/noop", shape),
                                        requests)  # fmt: skip
    routes = {}
    for name, make_path in query_paths(shape).items():
        # The dashboard answers for 200 students at once: measured, reported apart.
        count = requests // 10 if name.startswith("v2 dashboard") else requests
        routes[name] = await cpu_per_request(pid, get(server.base, make_path), count)
    out["routes"] = routes
    return out


async def gateway_phase(workdir: Path, requests: int) -> dict:
    shape = Shape()
    routes = workdir / "routes.json"
    async with running_server(workdir / "cpu-gateway.db") as service:
        service_pid = [service.process.pid]
        direct = await cpu_per_request(service_pid, ingest_request(service.base, "/api", shape),
                                       requests)  # fmt: skip
        routes.write_text(json.dumps({CLASS: service.base}))
        env = {"WATCHER_GATEWAY_ROUTES_FILE": str(routes)}
        async with running_server(routes, command="gateway", extra_env=env) as gateway:
            through = await cpu_per_request(
                [gateway.process.pid], ingest_request(gateway.base, "/api", shape), requests
            )
    return {"direct": direct, "gateway": through, "ratio": through["rate"] / direct["rate"]}


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def render(report: dict) -> str:
    lines = ["", "Server CPU per request (median of slices; us = microseconds)", ""]
    row = "{:<34}{:>10}  {}"
    lines.append(row.format("request", "CPU us", "target"))
    ingest = report.get("ingest")
    if ingest:
        noop = ingest["noop"]["cpu_us"]
        if "floor" in ingest:
            floor = ingest["floor"]["cpu_us"]
            lines.append(row.format("bare aiohttp POST (floor)", f"{floor:.0f}", ""))
        lines.append(row.format("no-op POST (reference)", f"{noop:.0f}", ""))
        for kind in ("snapshot", "build", "run"):
            us = ingest[kind]["cpu_us"]
            target = f"<= {INGEST_TARGET_US} {verdict(us <= INGEST_TARGET_US)}"
            lines.append(row.format(f"{kind} POST", f"{us:.0f}", target))
        ratio = noop / ingest["snapshot"]["cpu_us"]
        target = f">= {INGEST_NOOP_TARGET} {verdict(ratio >= INGEST_NOOP_TARGET)}"
        lines.append(row.format("ingest / no-op (CPU ratio)", f"{ratio:.2f}", target))
    reads = report.get("reads")
    if reads:
        lines += ["", f"GETs at {reads['snapshots']:,} snapshots"
                  f" (no-op POST on this server: {reads['noop']['cpu_us']:.0f} us)"]  # fmt: skip
        routes = reads["routes"]
        counted = []
        for name, figures in routes.items():
            us = figures["cpu_us"]
            apart = name.startswith("v2 dashboard")
            if not apart:
                counted.append(us)
            lines.append(row.format(name, f"{us:.0f}", "(reported apart)" if apart else ""))
        median = statistics.median(counted)
        target = f"<= {READ_TARGET_US} {verdict(median <= READ_TARGET_US)}"
        lines.append(row.format("median across GET routes", f"{median:.0f}", target))
    gateway = report.get("gateway")
    if gateway:
        added, ratio = gateway["gateway"]["cpu_us"], gateway["ratio"]
        lines += [
            "",
            row.format("gateway CPU per proxied POST", f"{added:.0f}",
                       f"<= {GATEWAY_TARGET_US} {verdict(added <= GATEWAY_TARGET_US)}"),
            row.format("gateway / direct throughput", f"{ratio:.2f}",
                       f">= {GATEWAY_RATIO_TARGET} {verdict(ratio >= GATEWAY_RATIO_TARGET)}"),
        ]  # fmt: skip
    return "\n".join(lines)


async def run(args) -> dict:
    report: dict = {}
    with tempfile.TemporaryDirectory(prefix="watcher-cpu-") as tmp:
        workdir = Path(tmp)
        report["ingest"] = await ingest_phase(workdir, args.requests)
        if not args.skip_reads:
            report["reads"] = await read_phase(workdir, args.requests, args.saves)
        if not args.skip_gateway:
            report["gateway"] = await gateway_phase(workdir, args.requests)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__)
    parser.add_argument("--requests", type=int, default=8000, help="requests per phase")
    parser.add_argument("--saves", type=int, default=100, help="saves per file (100: 1M)")
    parser.add_argument("--skip-reads", action="store_true")
    parser.add_argument("--skip-gateway", action="store_true")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    print(render(report))


if __name__ == "__main__":
    main()
