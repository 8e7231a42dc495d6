"""The maintained aggregates answer exactly what a full scan of the history would (CONTRACT §3).

Random saves — out of order, several in the same second, sizes across buckets — go in over HTTP;
every summary route is then compared with the original's algorithm run over all raw rows, and the
trigger-maintained tables with a from-scratch rebuild.
"""

from __future__ import annotations

import math
import random
import sqlite3
from collections import defaultdict

import pytest

from tests.service.helpers import db_rows, snapshot_url
from tests.service.reference import code_size_trends
from watcher.store.schema import REBUILD

AGGREGATE_TABLES = ("file_state", "student_state", "size_count", "size_bucket", "log_count")


def np_round2(x: float) -> float:
    return round(x * 100) / 100


def np_percentile(values: list[int], percent: float) -> float:
    ordered = sorted(values)
    position = percent / 100 * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    t = position - low
    a, b = ordered[low], ordered[high]
    return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t


def reference_assignment(rows: list[tuple]) -> dict:
    """services/assignment.py of the original, over (id, student, file, timestamp, size) rows."""
    sizes = [r[4] for r in rows]
    latest: dict[int, tuple[str, int]] = {}
    per_student: dict[int, list[int]] = defaultdict(list)
    for _, student, _, stamp, size in rows:  # DB order
        if student not in latest or stamp > latest[student][0]:
            latest[student] = (stamp, size)
        per_student[student].append(size)
    order = sorted(latest.items(), key=lambda item: item[1][0], reverse=True)
    means = [np_round2(sum(v) / len(v)) for v in per_student.values()]
    return {
        "percentile_90": np_round2(np_percentile(sizes, 90)),
        "percentile_50": np_round2(np_percentile(sizes, 50)),
        "avg_bytes": np_round2(sum(means) / len(means)),
        "avg_num": np_round2(len(rows) / len(per_student)),
        "top_7": [
            {"student_num": s, "timestamp": stamp, "code_size": size}
            for s, (stamp, size) in order[:7]
        ],
    }


def reference_churn(rows: list[tuple], start: str, end: str) -> list[dict]:
    selected = sorted(
        (r for r in rows if start <= r[3] <= end), key=lambda r: (r[1], r[2], r[3], r[0])
    )
    results: dict[int, float] = {}
    previous: dict[tuple, int] = {}
    for _, student, filename, _, size in selected:
        results.setdefault(student, 0.0)
        key = (student, filename)
        if key in previous:
            results[student] += abs(size - previous[key])
        previous[key] = size
    return [{"student_num": s, "size_change": c} for s, c in sorted(results.items())]


@pytest.fixture
async def random_history(client, db_path) -> list[tuple]:
    rng = random.Random(20250310)
    for _ in range(400):
        student = rng.choice([101, 102, 103, 104, 105, 106, 107, 108, 109])
        filename = rng.choice(["main.c", "util.c", "src@a.py"])
        # Minutes 00-09 at random: saves arrive out of order and collide within a second.
        stamp = f"20250310_06{rng.randint(0, 9):02d}{rng.choice([0, 30]):02d}"
        size = rng.choice([0, 5, 100, 1023, 1024, 1500, 4096, rng.randint(0, 70000)])
        url = snapshot_url("os-1", "hw1", str(student), filename, stamp)
        assert (await client.post(url, json={"bytes": size})).status == 200
    return db_rows(
        db_path, "SELECT id, student_id, filename, timestamp, file_size FROM snapshot ORDER BY id"
    )


async def test_assignment_summary_equals_a_full_scan(client, random_history):
    body = await (await client.get("/api/assignment/os-1/hw1")).json()
    assert body == reference_assignment(random_history)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2025-03-10T00:00:00", "2025-03-10T23:59:59"),
        ("2025-03-10T15:03:00", "2025-03-10T15:06:30"),
        ("2025-03-10T15:05:30", "2025-03-10T15:05:30"),
        ("2025-03-11T00:00:00", "2025-03-12T00:00:00"),
    ],
)
async def test_window_churn_equals_a_full_scan(client, random_history, start, end):
    body = await (await client.get(f"/api/total_graph_data/os-1/hw1/{start}/{end}")).json()
    compact = [s.replace("-", "").replace(":", "").replace("T", "_") for s in (start, end)]
    assert body["results"] == reference_churn(random_history, *compact)


async def test_per_student_routes_equal_a_full_scan(client, random_history):
    for student in {r[1] for r in random_history}:
        mine = [r for r in random_history if r[1] == student]
        for filename in {r[2] for r in mine}:
            sizes = [r[4] for r in mine if r[2] == filename]
            body = await (
                await client.get(f"/api/snapshot_avg/os-1/hw1/{student}/{filename}")
            ).json()
            assert body == {
                "snapshot_avg": len(sizes),
                "snapshot_size_avg": np_round2(sum(sizes) / len(sizes)),
            }
        body = await (await client.get(f"/api/assignments/snapshot_avg/os-1/hw1/{student}")).json()
        stamps = sorted(r[3] for r in mine)
        assert body["snapshot_avg"] == len(mine)
        assert body["first"].replace("-", "").replace(":", "").replace("T", "_") == stamps[0]
        assert body["last"].replace("-", "").replace(":", "").replace("T", "_") == stamps[-1]
        files = await (await client.get(f"/api/os-1/hw1/{student}")).json()
        assert files == sorted({r[2] for r in mine})


@pytest.mark.parametrize("interval", [1, 2, 5, 7, 60])
async def test_graph_equals_a_replay_of_every_save(client, random_history, interval):
    for student in sorted({r[1] for r in random_history}):
        # The original's compute_trends over this student's raw rows in (timestamp, id) order.
        rows = sorted((r for r in random_history if r[1] == student), key=lambda r: (r[3], r[0]))
        expected = code_size_trends([(r[3], r[2], r[4]) for r in rows], interval)
        body = await (await client.get(f"/api/graph_data/os-1/hw1/{student}/{interval}")).json()
        assert body == {"trends": expected}, student


async def test_triggers_agree_with_a_rebuild(client, random_history, db_path):
    for student in (101, 102):
        body = {"timestamp": "2025-03-10T06:00:00", "exit_code": 0, "cmdline": "gcc a.c",
                "cwd": "/w", "binary_path": "/b", "target_path": "/w/a.c"}  # fmt: skip
        assert (await client.post(f"/api/os-1/hw1/{student}/logs/build", json=body)).status == 200

    def snapshot_of_aggregates(conn: sqlite3.Connection) -> dict:
        state = {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in AGGREGATE_TABLES}
        state["running"] = conn.execute(
            "SELECT id, churn_cum, student_total FROM snapshot ORDER BY id"
        ).fetchall()
        return state

    conn = sqlite3.connect(db_path)
    try:
        maintained = snapshot_of_aggregates(conn)
        for statement in REBUILD:
            conn.execute(statement)
        assert snapshot_of_aggregates(conn) == maintained
        conn.rollback()
    finally:
        conn.close()
    assert len(maintained["student_state"]) == len({r[1] for r in random_history})
