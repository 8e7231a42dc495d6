"""Replication's cost and lag: the snapshot ingest rate with Litestream replicating to an S3
server relative to the rate without it, and how long a commit takes to reach the replica.

Everything is real and on 127.0.0.1: `python -m watcher serve` (temporary database), the
litestream binary with the configuration the operator renders for spec.backup (syncInterval 1s,
so WAL checked every 100 ms, uploaded every 700 ms) and the service as the operator sets it up
(WATCHER_WAL_AUTOCHECKPOINT=0), and versitygw serving a temporary directory as S3 (.tools/bin,
`make backup-tools`). The rate runs alternate without / with, twice, and the ratio is of the
medians. The lag is measured under the same sustained ingest: a probe POST every 0.2 s with a
size nothing else has, and a follower (`litestream restore -f`, polling the replica every
100 ms) watched every 20 ms; lag = first seen at the follower - acknowledged (a 200 follows the
COMMIT by milliseconds). The follower's polling is part of the figure, so it is an upper bound.

    python -m bench.backup_bench [--requests N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from tests.backup.tools import Replica, replicating, s3_replica, s3_server, tool, volume

from bench.data import CLASS, FIRST_STUDENT, Shape
from bench.harness import ingest_request, load, running_server

PROBE_BASE = 10_000_000  # probe sizes; the load's are below 65,537
PROBES = 50
REPLICATED_ENV = {"WATCHER_WAL_AUTOCHECKPOINT": "0"}  # as the operator sets it under backup


@dataclass
class Setup:
    workdir: Path
    replica: Replica | None  # None: no replication


@contextlib.asynccontextmanager
async def serving(setup: Setup, name: str) -> AsyncIterator[tuple[str, Path, Path | None]]:
    """A service on a new database, replicated if the setup says so: (base URL, db, config)."""
    db_path = volume(setup.workdir / name)
    if setup.replica is None:
        async with running_server(db_path) as server:
            yield server.base, db_path, None
        return
    config = setup.replica.write_config(db_path)
    async with running_server(db_path, extra_env=REPLICATED_ENV) as server:
        log = setup.workdir / f"{name}-litestream.log"
        with replicating(config, setup.replica.env, log):
            yield server.base, db_path, config


async def ingest_rate(setup: Setup, name: str, requests: int, concurrency: int) -> float:
    async with serving(setup, name) as (base, _, _):
        post = ingest_request(base, "/api", Shape())
        result = await load(post, total=requests, concurrency=concurrency, max_seconds=180)
    if result.errors:
        raise RuntimeError(f"{name}: {result.errors} failed requests {result.statuses}")
    return result.rate


async def replication_lag(setup: Setup, concurrency: int) -> list[float]:
    """Seconds from each probe's acknowledgement to its row at a follower of the replica."""
    assert setup.replica is not None
    acked: dict[int, float] = {}
    seen: dict[int, float] = {}
    async with serving(setup, "lag") as (base, db_path, config):
        follower = setup.workdir / "follower.db"
        following = await asyncio.create_subprocess_exec(
            str(tool("litestream")), "restore", "-config", str(config), "-no-expand-env",
            "-f", "-follow-interval", "100ms", "-o", str(follower), str(db_path),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            env=setup.replica.env,
        )  # fmt: skip
        stop = time.monotonic() + 2 + PROBES * 0.2 + 5
        try:
            async with aiohttp.ClientSession() as session:

                async def probe() -> None:
                    url = f"{base}/api/{CLASS}/probe/{FIRST_STUDENT}/probe.c/20250310_000000"
                    for k in range(PROBES):
                        async with session.post(url, json={"bytes": PROBE_BASE + k}) as response:
                            await response.read()
                            if response.status == 200:
                                acked[k] = time.monotonic()
                        await asyncio.sleep(0.2)

                async def watch() -> None:
                    while time.monotonic() < stop and len(seen) < PROBES:
                        for k in _probes_at(follower):
                            seen.setdefault(k, time.monotonic())
                        await asyncio.sleep(0.02)

                post = ingest_request(base, "/api", Shape())
                background = load(post, total=10**9, concurrency=concurrency,
                                  max_seconds=stop - time.monotonic())  # fmt: skip
                await asyncio.sleep(2)  # the load is sustained before the first probe
                await asyncio.gather(probe(), watch())
                await background
        finally:
            following.terminate()
            await following.wait()
    missing = set(acked) - set(seen)
    if missing:
        raise RuntimeError(f"{len(missing)} acknowledged probes never reached the follower")
    return sorted(seen[k] - acked[k] for k in acked)


def _probes_at(follower: Path) -> list[int]:
    if not follower.exists():
        return []
    try:
        conn = sqlite3.connect(f"{follower.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT file_size FROM snapshot WHERE file_size >= ?",
                                (PROBE_BASE,)).fetchall()  # fmt: skip
        finally:
            conn.close()
    except sqlite3.Error:
        return []  # the follower is being restored
    return [size - PROBE_BASE for (size,) in rows]


def _p95(values: list[float]) -> float:
    return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]


async def measure(requests: int = 15_000, concurrency: int = 64) -> dict:
    tool("litestream"), tool("versitygw")  # fail early, with the make target to run
    with tempfile.TemporaryDirectory(prefix="watcher-backup-bench-") as tmp:
        workdir = Path(tmp)
        with s3_server(workdir / "s3") as server:
            plain = Setup(workdir, None)
            replicated = Setup(workdir, s3_replica(server))
            without, with_ = [], []
            for round_ in range(2):
                without.append(await ingest_rate(plain, f"plain{round_}", requests, concurrency))
                with_.append(await ingest_rate(replicated, f"repl{round_}", requests, concurrency))
            lags = await replication_lag(replicated, concurrency)
    return {
        "requests_per_run": requests,
        "without_rps": statistics.median(without),
        "with_rps": statistics.median(with_),
        "runs_without_rps": without,
        "runs_with_rps": with_,
        "ratio": statistics.median(with_) / statistics.median(without),
        "lag_p50_s": statistics.median(lags),
        "lag_p95_s": _p95(lags),
        "lag_max_s": lags[-1],
        "probes": len(lags),
        "sync_interval": "1s",
    }


def render(result: dict) -> str:
    verdict = "met" if result["lag_p95_s"] <= 1 else "NOT MET"
    return (
        f"replication: ingest {result['with_rps']:.0f} req/s with Litestream to S3 vs"
        f" {result['without_rps']:.0f} without = {result['ratio']:.2f}; commit-to-replica lag"
        f" p50 {result['lag_p50_s']:.2f} s, p95 {result['lag_p95_s']:.2f} s, max"
        f" {result['lag_max_s']:.2f} s ({result['probes']} probes, syncInterval"
        f" {result['sync_interval']}; p95 <= 1 s {verdict})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.backup_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--requests", type=int, default=15_000, help="POSTs per rate run")
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    result = asyncio.run(measure(args.requests, args.concurrency))
    print(render(result))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
