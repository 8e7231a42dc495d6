"""Page timings (issue 17): the /ui pages loaded by Debian's Chromium (Playwright, never a
downloaded browser) against the 1M-snapshot server, timed by the browser's own performance
timeline: the page marks `watcher:ready` once every panel is drawn, and `startTime` is
milliseconds since the navigation began."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
from pathlib import Path

from bench.data import CLASS, FIRST_STUDENT
from watcher.content.blobs import pack

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync"]  # fmt: skip
ASSIGNMENT = f"/ui/classes/{CLASS}/assignments/hw0"
PAGES = {
    "assignment page (200 students)": ASSIGNMENT,
    "student page (1,400 events)": f"{ASSIGNMENT}/students/{FIRST_STUDENT}",
}
MARKS = ("watcher:table", "watcher:timeline", "watcher:ready")


def give_content(db_path: Path, student: int = FIRST_STUDENT, hw: str = "hw0") -> int:
    """Text content for every save of the benched student, so the page's replay reads and diffs
    real versions (the bulk-seeded rows have sizes only). Returns the versions given content."""
    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute(
            "SELECT id, filename, file_size FROM snapshot WHERE class_div = ? AND hw_name = ?"
            " AND student_id = ? ORDER BY filename, timestamp, id",
            (CLASS, hw, student),
        ).fetchall()
        with conn:
            for row_id, filename, size in rows:
                lines = "".join(f"int {filename[:-2]}_{k} = {k};\n" for k in range(size // 16 + 1))
                blob = pack(lines[:size].encode())
                conn.execute(
                    "INSERT OR REPLACE INTO snapshot_content (snapshot_id, hash) VALUES (?, ?)",
                    (row_id, blob.hash),
                )
                conn.execute(
                    "INSERT OR IGNORE INTO content_blob (hash, size, text, data)"
                    " VALUES (?, ?, ?, ?)",
                    (blob.hash, blob.size, int(blob.text), blob.data),
                )
        return len(rows)
    finally:
        conn.close()


def chromium_present() -> bool:
    return CHROMIUM.exists()


async def page_timings(base: str, loads: int = 10, warm_up: int = 2) -> dict | None:
    """p50/p95 of each mark per page over `loads` loads (after `warm_up` loads that fill the
    asset cache, as an instructor's second visit would); None without Chromium."""
    if not chromium_present():
        return None
    from playwright.async_api import async_playwright

    results: dict = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        for name, path in PAGES.items():
            samples: dict[str, list[float]] = {}
            for i in range(warm_up + loads):
                await page.goto(base + path)
                await page.wait_for_selector("main[data-ready=true]", timeout=60_000)
                marks = await page.evaluate(
                    "(names) => Object.fromEntries(names.map((n) =>"
                    " [n, performance.getEntriesByName(n)[0]?.startTime ?? null]))",
                    list(MARKS),
                )
                if i >= warm_up:
                    for mark, ms in marks.items():
                        if ms is not None:
                            samples.setdefault(mark, []).append(ms)
            results[name] = {mark: _summary(values) for mark, values in samples.items()}
        await browser.close()
    return results


def _summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {
        "p50_ms": statistics.median(ordered),
        "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "loads": len(ordered),
    }


# The API routes each page calls, to print the page's time beside theirs.
PAGE_ROUTES = {
    "assignment page (200 students)": (
        "v2 dashboard",
        "v2 code-size (40 points)",
        "total_graph_data",
    ),
    "student page (1,400 events)": ("v2 timeline (all, limit 10000)",),
}
TARGET_MS = 1000


def render_pages(pages: dict | None, api_1m: dict) -> list[str]:
    if pages is None:
        return ["", f"pages: not measured (--skip-pages, or {CHROMIUM} not found)"]
    lines = ["", f"{'page @1M, browser performance timing':<44}{'p50/p95 ms':>14}  target"]
    for name, marks in pages.items():
        ready = marks["watcher:ready"]
        verdict = "met" if ready["p95_ms"] <= TARGET_MS else "NOT MET"
        lines.append(
            f"{name + ', everything drawn':<44}{ready['p50_ms']:>7.0f}{ready['p95_ms']:>7.0f}"
            f"  p95 <= {TARGET_MS} ms {verdict}"
        )
        for mark in ("watcher:table", "watcher:timeline"):
            if mark in marks:
                what = "table drawn" if mark == "watcher:table" else "timeline drawn"
                lines.append(
                    f"{'  ' + what:<44}{marks[mark]['p50_ms']:>7.0f}{marks[mark]['p95_ms']:>7.0f}"
                )
        for route in PAGE_ROUTES[name]:
            if route in api_1m:
                api = api_1m[route]
                lines.append(
                    f"{'  beside it, API ' + route:<44}{api['p50_ms']:>7.1f}{api['p95_ms']:>7.1f}"
                )
    return lines


async def _standalone(args) -> None:
    """Only the pages, and the API routes they call, at 1M snapshots (a part of `make bench`)."""
    from bench.__main__ import bench_queries, query_paths, seed
    from bench.data import Shape
    from bench.harness import running_server

    shape = Shape(saves=args.saves)
    with tempfile.TemporaryDirectory(prefix="watcher-bench-pages-", dir=args.workdir) as tmp:
        db = Path(args.db) if args.db else Path(tmp) / "pages.db"
        if not db.exists():
            print(f"seeding {shape.snapshots:,} snapshots ...", flush=True)
            await seed(db, shape)
            give_content(db)
        async with running_server(db) as server:
            wanted = {r for routes in PAGE_ROUTES.values() for r in routes}
            paths = {k: v for k, v in query_paths(shape).items() if k in wanted}
            api = await bench_queries(server, shape, args.query_requests, paths)
            pages = await page_timings(server.base, loads=args.loads)
    print("\n".join(render_pages(pages, api)))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__)
    parser.add_argument("--saves", type=int, default=100, help="saves per file (100: 1M rows)")
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--query-requests", type=int, default=100)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--db", default=None, help="a database to keep: seeded once, then reused")
    asyncio.run(_standalone(parser.parse_args()))


if __name__ == "__main__":
    main()
