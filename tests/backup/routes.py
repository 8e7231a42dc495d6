"""Every legacy and v2 GET route, asked of a service for all the classes, assignments, students
and files its database holds; two services on two databases are compared answer by answer."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path
from urllib.parse import quote

import aiohttp

LEGACY_ASSIGNMENT = (
    "/api/assignment/{c}/{hw}",
    "/api/total_graph_data/{c}/{hw}/2025-03-01T00:00:00/2025-03-31T23:59:59",
    "/api/build_avg/{c}/{hw}",
    "/api/run_avg/{c}/{hw}",
)
LEGACY_STUDENT = (
    "/api/{c}/{hw}/{s}",
    "/api/assignments/snapshot_avg/{c}/{hw}/{s}",
    "/api/graph_data/{c}/{hw}/{s}/5",
    "/api/graph_data/{c}/{hw}/{s}/60",
    "/api/{c}/{hw}/{s}/logs/build",
    "/api/{c}/{hw}/{s}/logs/run",
)
LEGACY_FILE = ("/api/{c}/{hw}/{s}/{f}", "/api/snapshot_avg/{c}/{hw}/{s}/{f}")
V2_CLASS = (
    "/api/v2/classes/{c}/assignments",
    "/api/v2/classes/{c}/export/progsnap2",
)
V2_ASSIGNMENT = (
    "/api/v2/classes/{c}/assignments/{hw}/dashboard",
    "/api/v2/classes/{c}/assignments/{hw}/dashboard?format=csv&sort=churn_bytes&order=desc",
)
V2_STUDENT = ("/api/v2/classes/{c}/assignments/{hw}/students/{s}/timeline?limit=10000",)
V2_FILE = tuple(
    "/api/v2/classes/{c}/assignments/{hw}/students/{s}/files/{f}" + tail
    # A bare /diff is the latest change: a 404 when that version has no stored content.
    for tail in ("/versions", "/replay?content=true", "/diff")
)


def paths(db_path: Path) -> list[str]:
    """The GET paths to ask, from what the database holds."""
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        files = conn.execute(
            "SELECT DISTINCT class_div, hw_name, student_id, filename FROM snapshot"
        ).fetchall()
        students = conn.execute(
            "SELECT class_div, hw_name, student_id FROM snapshot UNION "
            "SELECT class_div, hw_name, student_id FROM buildlog UNION "
            "SELECT class_div, hw_name, student_id FROM runlog"
        ).fetchall()
    finally:
        conn.close()
    found: list[str] = []
    assignments = sorted({(c, hw) for c, hw, _ in students})
    for c in sorted({c for c, _ in assignments}):
        found += [t.format(c=c) for t in V2_CLASS]
    for c, hw in assignments:
        found += [t.format(c=c, hw=hw) for t in LEGACY_ASSIGNMENT + V2_ASSIGNMENT]
    for c, hw, s in sorted(students):
        found += [t.format(c=c, hw=hw, s=s) for t in LEGACY_STUDENT + V2_STUDENT]
    for c, hw, s, f in sorted(files):
        name = quote(f, safe="@")
        found += [t.format(c=c, hw=hw, s=s, f=name) for t in LEGACY_FILE + V2_FILE]
    return found


async def answers(base: str, db_path: Path) -> dict[str, tuple[int, bytes]]:
    """Path -> (status, body) for every path, plus each stored version's content."""
    found: dict[str, tuple[int, bytes]] = {}
    async with aiohttp.ClientSession() as session:

        async def get(path: str) -> tuple[int, bytes]:
            async with session.get(base + path) as response:
                body = await response.read()
            if path.endswith("/export/progsnap2") and response.status == 200:
                # The archive's metadata says when it was made; its tables must be the same.
                archive = zipfile.ZipFile(io.BytesIO(body))
                body = archive.read("MainTable.csv")
            return response.status, body

        for path in paths(db_path):
            found[path] = await get(path)
            if path.endswith("/versions") and found[path][0] == 200:
                stored = [v["stamp"] for v in json.loads(found[path][1])["versions"]
                          if v["available"]]  # fmt: skip
                for stamp in stored:
                    found[path + f"/{stamp}/content"] = await get(path + f"/{stamp}/content")
                if len(stored) >= 2:  # the diff between the last two stored versions
                    diff = (
                        path.removesuffix("/versions") + f"/diff?from={stored[-2]}&to={stored[-1]}"
                    )
                    found[diff] = await get(diff)
    return found
