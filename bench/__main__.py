"""`make bench`: ingest, storage ceiling, query latency at 10k and 1M snapshots, mixed load,
/metrics cost and memory, gateway overhead, replication's cost and lag, printed as one table
and saved as JSON (bench/results/).

Every number that matters is a ratio against a reference measured in the same run, because the
machine is shared and absolute times vary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bench import cpu
from bench.data import CLASS, FIRST_STUDENT, Shape, log_rows, snapshot_rows
from bench.harness import create_database, ingest_request, load, running_server
from bench.pages import give_content, page_timings, render_pages
from watcher.store.bulk import bulk_load
from watcher.store.writer import INSERTS

RESULTS = Path(__file__).parent / "results"
SUMMARY_ROUTES = {"assignment", "total_graph_data", "build_avg", "run_avg", "graph_data (60)"}
DASHBOARD_ROUTES = {"v2 dashboard"}  # issue 8: p95 <= 100 ms for 200 students at 1M snapshots
V2 = f"/api/v2/classes/{CLASS}/assignments"


def query_paths(shape: Shape) -> dict[str, callable]:
    def student(rng: random.Random) -> tuple[str, int]:
        return f"hw{rng.randrange(shape.assignments)}", FIRST_STUDENT + rng.randrange(
            shape.students
        )

    def pick(make):
        return lambda rng: make(rng, *student(rng))

    return {
        "files": pick(lambda r, hw, s: f"/api/{CLASS}/{hw}/{s}"),
        "timeline": pick(lambda r, hw, s: f"/api/{CLASS}/{hw}/{s}/file{r.randrange(10)}.c"),
        "snapshot_avg": pick(lambda r, hw, s: f"/api/snapshot_avg/{CLASS}/{hw}/{s}/file3.c"),
        "assignments/snapshot_avg": pick(
            lambda r, hw, s: f"/api/assignments/snapshot_avg/{CLASS}/{hw}/{s}"
        ),
        "graph_data (60)": pick(lambda r, hw, s: f"/api/graph_data/{CLASS}/{hw}/{s}/60"),
        "logs/build (limit 100)": pick(
            lambda r, hw, s: f"/api/{CLASS}/{hw}/{s}/logs/build?limit=100"
        ),
        "logs/run (limit 100)": pick(lambda r, hw, s: f"/api/{CLASS}/{hw}/{s}/logs/run?limit=100"),
        "assignment": lambda r: f"/api/assignment/{CLASS}/hw{r.randrange(shape.assignments)}",
        "total_graph_data": lambda r: (
            f"/api/total_graph_data/{CLASS}/hw{r.randrange(shape.assignments)}"
            "/2025-03-01T00:00:00/2025-03-31T23:59:59"
        ),
        "build_avg": lambda r: f"/api/build_avg/{CLASS}/hw{r.randrange(shape.assignments)}",
        "run_avg": lambda r: f"/api/run_avg/{CLASS}/hw{r.randrange(shape.assignments)}",
        "v2 dashboard": lambda r: f"{V2}/hw{r.randrange(shape.assignments)}/dashboard",
        "v2 dashboard, 15 min window": lambda r: (
            f"{V2}/hw{r.randrange(shape.assignments)}/dashboard"
            "?from=2025-03-10T10:00:00&to=2025-03-10T10:14:59"
        ),
        "v2 timeline (limit 100)": pick(
            lambda r, hw, s: f"{V2}/{hw}/students/{s}/timeline?limit=100"
        ),
        "v2 assignments": lambda r: f"/api/v2/classes/{CLASS}/assignments",
        # What the /ui pages ask for beyond the routes above (issue 17).
        "v2 code-size (40 points)": lambda r: (
            f"{V2}/hw{r.randrange(shape.assignments)}/code-size?points=40"
        ),
        "v2 timeline (all, limit 10000)": pick(
            lambda r, hw, s: f"{V2}/{hw}/students/{s}/timeline?limit=10000"
        ),
    }


def get_request(base: str, make_path):
    rng = random.Random(11)

    async def get(session: aiohttp.ClientSession, i: int) -> int:
        async with session.get(base + make_path(rng)) as response:
            await response.read()
            return response.status

    return get


async def seed(path: Path, shape: Shape) -> float:
    started = time.perf_counter()
    await create_database(path)
    bulk_load(
        path,
        {
            "snapshot": snapshot_rows(shape),
            "buildlog": log_rows(shape, "buildlog"),
            "runlog": log_rows(shape, "runlog"),
        },
    )
    return time.perf_counter() - started


def count_rows(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


async def raw_sqlite_rate(path: Path, rows: int = 100_000, batch: int = 512) -> float:
    """The storage ceiling: the writer's own INSERT (with triggers) in batches, no HTTP."""
    await create_database(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    data = list(snapshot_rows(Shape(students=100, assignments=1, files=10, saves=rows // 1000)))
    started = time.perf_counter()
    for i in range(0, len(data), batch):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERTS["snapshot"], data[i : i + batch])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return len(data) / elapsed


async def metrics_scrape_ms(base: str, samples: int = 20) -> float:
    async with aiohttp.ClientSession() as session:
        result = await load(get_request(base, lambda rng: "/metrics"), total=samples,
                            concurrency=1, max_seconds=30, session=session)  # fmt: skip
    return result.median_ms


async def bench_ingest(workdir: Path, args) -> dict:
    shape = Shape()
    db = workdir / "ingest.db"
    out: dict = {}
    async with running_server(db) as server:
        out["metrics_scrape_ms_before"] = await metrics_scrape_ms(server.base)
        noop = await load(ingest_request(server.base, "/_bench/noop", shape),
                          total=args.noop_requests, concurrency=64, max_seconds=60)  # fmt: skip
        ingest = await load(ingest_request(server.base, "/api", shape),
                            total=args.ingest_requests, concurrency=64,
                            max_seconds=240)  # fmt: skip
        out["metrics_scrape_ms_after"] = await metrics_scrape_ms(server.base)
        out["ingest_peak_rss_mb"] = server.peak_rss_bytes() / 2**20
    out.update(
        noop_rps=noop.rate,
        ingest_rps=ingest.rate,
        ingest_ratio=ingest.rate / noop.rate,
        ingest_ok=ingest.ok,
        ingest_errors=ingest.errors + noop.errors,
        ingest_rows=count_rows(db, "snapshot"),
        ingest_p99_ms=ingest.percentile_ms(99),
    )
    out["raw_sqlite_rows_per_s"] = await raw_sqlite_rate(workdir / "raw.db")
    return out


async def bench_queries(
    server, shape: Shape, requests: int, paths: dict | None = None
) -> dict[str, dict]:
    results = {}
    async with aiohttp.ClientSession() as session:
        for name, make_path in (paths or query_paths(shape)).items():
            await load(
                get_request(server.base, make_path),
                total=20,
                concurrency=1,
                max_seconds=30,
                session=session,
            )  # fmt: skip  (warm-up)
            result = await load(get_request(server.base, make_path), total=requests,
                                concurrency=1, max_seconds=60, session=session)  # fmt: skip
            assert result.errors == 0, (name, result.statuses)
            results[name] = {
                "p50_ms": result.percentile_ms(50),
                "p95_ms": result.percentile_ms(95),
                "p99_ms": result.percentile_ms(99),
            }
    return results


async def bench_mixed(server, shape: Shape, seconds: float) -> dict:
    paths = query_paths(shape)
    summary = [paths[name] for name in ("assignment", "total_graph_data", "graph_data (60)",
                                        "logs/build (limit 100)", "build_avg")]  # fmt: skip

    def reads():
        return get_request(server.base, lambda rng: rng.choice(summary)(rng))

    def writes():
        return ingest_request(server.base, "/api", shape)

    big = 10**9
    solo_writes = await load(writes(), total=big, concurrency=32, max_seconds=seconds)
    solo_reads = await load(reads(), total=big, concurrency=8, max_seconds=seconds)
    both_writes, both_reads = await asyncio.gather(
        load(writes(), total=big, concurrency=32, max_seconds=seconds),
        load(reads(), total=big, concurrency=8, max_seconds=seconds),
    )
    return {
        "solo_ingest_rps": solo_writes.rate,
        "solo_query_rps": solo_reads.rate,
        "mixed_ingest_rps": both_writes.rate,
        "mixed_query_rps": both_reads.rate,
        "ingest_kept": both_writes.rate / solo_writes.rate,
        "query_kept": both_reads.rate / solo_reads.rate,
        "errors": sum(r.errors for r in (solo_writes, solo_reads, both_writes, both_reads)),
    }


async def run(args) -> dict:
    report: dict = {"started": datetime.now(UTC).isoformat(timespec="seconds")}
    began = time.perf_counter()

    def progress(what: str) -> None:
        print(f"[{time.perf_counter() - began:6.0f} s] {what} ...", flush=True)

    with tempfile.TemporaryDirectory(prefix="watcher-bench-", dir=args.workdir) as tmp:
        workdir = Path(tmp)
        progress("ingest")
        report["ingest"] = await bench_ingest(workdir, args)
        progress("CPU per request: ingest")
        report["cpu"] = {"ingest": await cpu.ingest_phase(workdir, args.cpu_requests)}
        report["queries"] = {}
        for label, saves in (("10k", 1), ("1M", args.saves)):
            shape = Shape(saves=saves)
            db = workdir / f"q{label}.db"
            progress(f"seeding {shape.snapshots:,} snapshots")
            report[f"seed_seconds_{label}"] = await seed(db, shape)
            if label == "1M":
                give_content(db)  # the benched student's replay has text to read and diff
            async with running_server(db) as server:
                progress(f"queries at {label}")
                report["queries"][label] = await bench_queries(server, shape, args.query_requests)
                if label == "1M" and not args.skip_pages:
                    progress("pages in Chromium")
                    report["pages"] = await page_timings(server.base)
                if label == "1M":
                    progress("CPU per request: reads")
                    report["cpu"]["reads"] = await cpu.reads_on(server, shape, args.cpu_requests)
                    progress("mixed load")
                    report["mixed"] = await bench_mixed(server, shape, args.mixed_seconds)
                    report["peak_rss_mb_1M"] = server.peak_rss_bytes() / 2**20
        if not args.skip_gateway:
            try:
                from bench.gateway_bench import measure
            except ImportError:
                report["gateway"] = None
            else:
                progress("gateway")
                report["gateway"] = await measure()
                progress("CPU per request: gateway")
                report["cpu"]["gateway"] = await cpu.gateway_phase(workdir, args.cpu_requests)
        if not args.skip_backup:
            from bench.backup_bench import measure as measure_backup

            progress("replication (Litestream to S3)")
            report["backup"] = await measure_backup()
    report["total_seconds"] = time.perf_counter() - began
    return report


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def render(report: dict) -> str:
    ing = report["ingest"]
    lines = ["", "JCode Watcher benchmark (ratios are against references measured in this run)", ""]
    lines.append(f"{'measure':<44}{'value':>14}  target")
    rows = [
        ("no-op POST rate (reference), req/s", f"{ing['noop_rps']:.0f}", ""),
        ("snapshot ingest rate, req/s (c=64)", f"{ing['ingest_rps']:.0f}", ""),
        ("ingest / no-op", f"{ing['ingest_ratio']:.2f}",
         f">= 0.70 {verdict(ing['ingest_ratio'] >= 0.7)}"),
        ("ingest acknowledged / rows in database", f"{ing['ingest_ok']}/{ing['ingest_rows']}",
         verdict(ing["ingest_ok"] == ing["ingest_rows"] and ing["ingest_errors"] == 0)),
        ("raw SQLite batched insert, rows/s", f"{ing['raw_sqlite_rows_per_s']:.0f}", "ceiling"),
        ("/metrics scrape before ingest, ms (median)",
         f"{ing['metrics_scrape_ms_before']:.2f}", ""),
        (f"/metrics scrape after {ing['ingest_ok']:,} POSTs, ms",
         f"{ing['metrics_scrape_ms_after']:.2f}",
         f"<= 20 {verdict(ing['metrics_scrape_ms_after'] <= 20)}"),
    ]  # fmt: skip
    for name, value, target in rows:
        lines.append(f"{name:<44}{value:>14}  {target}")
    small, large = report["queries"]["10k"], report["queries"]["1M"]
    lines += ["", f"{'route':<30}{'p50/p95/p99 @10k ms':>22}{'p50/p95/p99 @1M ms':>22}"
              f"{'growth':>8}  target"]  # fmt: skip
    for name in small:
        a, b = small[name], large[name]
        growth = b["p95_ms"] / a["p95_ms"]
        target = f"growth <= 3 {verdict(growth <= 3)}"
        if name in SUMMARY_ROUTES:
            target += f", p95 <= 50 ms {verdict(b['p95_ms'] <= 50)}"
        if name in DASHBOARD_ROUTES:
            target += f", p95 <= 100 ms {verdict(b['p95_ms'] <= 100)}"
        lines.append(
            f"{name:<30}{a['p50_ms']:>8.2f}{a['p95_ms']:>7.2f}{a['p99_ms']:>7.2f}"
            f"{b['p50_ms']:>8.2f}{b['p95_ms']:>7.2f}{b['p99_ms']:>7.2f}{growth:>8.2f}  {target}"
        )
    lines += render_pages(report.get("pages"), large)
    mixed = report["mixed"]
    lines += [
        "",
        f"mixed @1M: ingest {mixed['mixed_ingest_rps']:.0f} req/s of {mixed['solo_ingest_rps']:.0f}"
        f" solo ({mixed['ingest_kept']:.0%}), queries {mixed['mixed_query_rps']:.0f} of"
        f" {mixed['solo_query_rps']:.0f} solo ({mixed['query_kept']:.0%});"
        f" >= 30% each {verdict(min(mixed['ingest_kept'], mixed['query_kept']) >= 0.3)}",
        f"peak RSS: ingest server {ing['ingest_peak_rss_mb']:.0f} MB, 1M-snapshot server"
        f" {report['peak_rss_mb_1M']:.0f} MB;"
        f" <= 200 MB {verdict(report['peak_rss_mb_1M'] <= 200)}",
        f"seeding: 10k in {report['seed_seconds_10k']:.1f} s,"
        f" 1M in {report['seed_seconds_1M']:.1f} s (bulk path: rows, then aggregates rebuilt once)",
    ]
    gateway = report.get("gateway")
    if gateway:
        lines.append(
            f"gateway: {gateway['gateway_rps']:.0f} req/s through it vs {gateway['direct_rps']:.0f}"
            f" direct = {gateway['ratio']:.2f}"
        )
    lines.append(cpu.render(report["cpu"]))
    if report.get("backup"):
        from bench.backup_bench import render as render_backup

        lines.append(render_backup(report["backup"]))
    lines.append(f"whole benchmark: {report['total_seconds']:.0f} s")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--saves", type=int, default=100, help="saves per file at the large size")
    parser.add_argument("--ingest-requests", type=int, default=100_000)
    parser.add_argument("--noop-requests", type=int, default=20_000)
    parser.add_argument("--query-requests", type=int, default=200)
    parser.add_argument("--mixed-seconds", type=float, default=8)
    parser.add_argument("--skip-gateway", action="store_true")
    parser.add_argument("--cpu-requests", type=int, default=4000, help="per CPU-per-request phase")
    parser.add_argument("--skip-pages", action="store_true", help="no /ui timings in Chromium")
    parser.add_argument("--skip-backup", action="store_true")
    parser.add_argument("--workdir", default=None, help="where temporary databases go")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    print(render(report))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench-{report['started'].replace(':', '')}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nJSON: {out}")


if __name__ == "__main__":
    main()
