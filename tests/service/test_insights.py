"""The v2 insights over HTTP: the dashboard from maintained aggregates equals the rules applied to
every raw row, agrees with the legacy routes where they overlap, and the timeline, CSV, window,
paging and parameter checks behave."""

from __future__ import annotations

import csv
import io
import random
import sqlite3

import pytest

from tests.service.helpers import BUILD, RUN, db_rows, snapshot_url
from tests.service.reference import mark, measure
from watcher.analytics.insights import Thresholds, dashboard_row
from watcher.api.params import parse_datetime
from watcher.records import Event
from watcher.store.schema import REBUILD
from watcher.timefmt import wall_seconds, wall_seconds_to_iso

V2 = "/api/v2/classes/os-1"
DASHBOARD = V2 + "/assignments/hw1/dashboard"
STUDENTS = (101, 102, 103, 104, 105, 106)  # and 110 (one big change), 109 (only in hw2)
ACTIVITY_TABLES = (
    "activity_gap", "activity_state", "file_state", "snapshot_jump", "log_failures",
)  # fmt: skip


@pytest.fixture
async def random_history(client) -> None:
    """Saves, builds and runs of six students arriving out of order, several in one second,
    with jumps, failure streaks and idle gaps of every length; student 109 is only in hw2."""
    rng = random.Random(8)
    sizes: dict[tuple, int] = {}
    for _ in range(500):
        student = rng.choice(STUDENTS)
        minute, second = rng.randint(0, 40), rng.choice([0, 1, 5, 9, 10, 11, 30])
        kind = rng.choices(["snapshot", "build", "run"], [6, 3, 1])[0]
        if kind == "snapshot":
            filename = rng.choice(["main.c", "util.c", "src@a.py"])
            key = (student, filename)
            sizes[key] = max(
                0, sizes.get(key, 0) + rng.choice([-300, -20, 0, 40, 120, 499, 500, 900])
            )
            stamp = f"20250310_06{minute:02d}{second:02d}"
            url = snapshot_url("os-1", "hw1", str(student), filename, stamp)
            response = await client.post(url, json={"bytes": sizes[key]})
        else:
            body = dict(BUILD if kind == "build" else RUN)
            body["timestamp"] = (
                f"2025-03-10T06:{minute:02d}:{second:02d}.{rng.randint(0, 999999):06d}"
            )
            body["exit_code"] = rng.choice([0, 1, 1, 1, 2])
            response = await client.post(f"/api/os-1/hw1/{student}/logs/{kind}", json=body)
        assert response.status == 200
    # Student 110 rewrites a file once, in one big change.
    for stamp, size in (
        ("20250310_060000", 10),
        ("20250310_063000", 1000),
        ("20250310_064000", 990),
    ):
        url = snapshot_url("os-1", "hw1", "110", "big.c", stamp)
        assert (await client.post(url, json={"bytes": size})).status == 200
    other = snapshot_url("os-1", "hw2", "109", "x.c", "20250310_060000")
    assert (await client.post(other, json={"bytes": 10})).status == 200


def raw_events(db_path) -> dict[int, list[Event]]:
    """Every event straight from the base tables, as the rules take them. Within a second: saves
    (by id), then builds and runs by their exact time (docs/insights.md, "One order of events")."""
    events: dict[int, list[Event]] = {}
    for sid, filename, stamp, size, row_id in db_rows(
        db_path,
        "SELECT student_id, filename, timestamp, file_size, id FROM snapshot WHERE hw_name = 'hw1'",
    ):
        at = int(sqlite3.connect(":memory:").execute(
            "SELECT strftime('%s', ?)", (f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} "
                                       f"{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}",)
        ).fetchone()[0])  # fmt: skip
        events.setdefault(sid, []).append(
            Event(at, "snapshot", (False, stamp, "snapshot", row_id), filename=filename, size=size)
        )
    for kind, table in (("build", "buildlog"), ("run", "runlog")):
        for sid, stamp, code, row_id in db_rows(
            db_path,
            f"SELECT student_id, timestamp, exit_code, id FROM {table} WHERE hw_name = 'hw1'",
        ):
            at = int(sqlite3.connect(":memory:").execute(
                "SELECT strftime('%s', substr(?, 1, 19))", (stamp,)).fetchone()[0])  # fmt: skip
            events.setdefault(sid, []).append(
                Event(at, kind, (True, stamp, kind, row_id), exit_code=code)
            )
    return events


@pytest.mark.parametrize(
    "thresholds",
    [
        Thresholds(),
        Thresholds(idle_minutes=0.5, paste_bytes=100, paste_seconds=0, failure_streak=2),
    ],
)
async def test_dashboard_equals_the_rules_over_every_raw_row(
    client, random_history, db_path, thresholds
):
    query = {k: str(v) for k, v in vars(thresholds).items()}
    response = await client.get(DASHBOARD, params=query)
    assert response.status == 200
    body = await response.json()
    expected = [
        dashboard_row(measure(s, e, thresholds), thresholds, wall_seconds_to_iso)
        for s, e in sorted(raw_events(db_path).items())
    ]
    rows = {row["student_id"]: row for row in body["students"]}
    assert rows.pop(109)["flags"] == ["no_activity"]  # known in the class, silent in hw1
    assert list(rows.values()) == expected
    assert body["total"] == len(STUDENTS) + 2
    # Every flag occurs somewhere in this history, so each comparison above was exercised.
    raised = {f for row in body["students"] for f in row["flags"]}
    assert {"paste_like_jump", "repeated_build_failures", "large_single_change"} <= raised


async def test_a_window_over_everything_equals_the_whole_history(client, random_history):
    whole = await (await client.get(DASHBOARD)).json()
    window = await (
        await client.get(DASHBOARD, params={"from": "2000-01-01T00:00:00Z", "to": "2100-01-01"})
    ).json()
    assert window["students"] == whole["students"]
    assert (window["from"], window["to"]) == (
        "2000-01-01T09:00:00+09:00",
        "2100-01-01T00:00:00+09:00",
    )


async def test_a_window_counts_only_its_events(client, post_snapshot):
    for stamp, size in (
        ("20250310_060000", 100),
        ("20250310_061000", 300),
        ("20250310_062000", 250),
    ):
        await post_snapshot("main.c", stamp, size)
    # 15:10 KST = 06:10 UTC: the window holds the last two saves only.
    for start in ("2025-03-10T15:10:00", "2025-03-10T06:10:00Z", "2025-03-10T15:10:00+09:00"):
        body = await (await client.get(DASHBOARD, params={"from": start})).json()
        row = body["students"][0]
        assert (row["snapshots"], row["churn_bytes"], row["net_bytes"]) == (2, 50, 250), start
        assert row["first_activity"] == "2025-03-10T15:10:00+09:00"


async def test_dashboard_agrees_with_the_legacy_routes(client, random_history):
    body = await (await client.get(DASHBOARD)).json()
    churn = await (
        await client.get("/api/total_graph_data/os-1/hw1/2025-03-01T00:00:00/2025-03-31T00:00:00")
    ).json()
    legacy_churn = {r["student_num"]: r["size_change"] for r in churn["results"]}
    for row in body["students"]:
        sid = row["student_id"]
        if sid in legacy_churn:
            assert row["churn_bytes"] == legacy_churn[sid]
        builds = await (await client.get(f"/api/os-1/hw1/{sid}/logs/build?limit=10000")).json()
        runs = await (await client.get(f"/api/os-1/hw1/{sid}/logs/run?limit=10000")).json()
        assert row["builds"] == len(builds)
        assert row["failed_builds"] == sum(b["exit_code"] != 0 for b in builds)
        assert (row["runs"], row["failed_runs"]) == (
            len(runs),
            sum(r["exit_code"] != 0 for r in runs),
        )
        files = await (await client.get(f"/api/os-1/hw1/{sid}")).json()
        assert row["files"] == len(files)


async def test_triggers_agree_with_a_rebuild(client, random_history, db_path):
    conn = sqlite3.connect(db_path)
    try:

        def state() -> dict:
            # A gap that was split keeps its histogram row at n = 0; a rebuild has none.
            where = {"activity_gap": "WHERE n > 0"}
            return {
                t: sorted(conn.execute(f"SELECT * FROM {t} {where.get(t, '')}").fetchall())
                for t in ACTIVITY_TABLES
            }

        maintained = state()
        # A rebuild runs without the triggers, as migrations and bulk loads do.
        triggers = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        for (name,) in triggers.fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        for statement in REBUILD:
            conn.execute(statement)
        assert state() == maintained
        conn.rollback()
    finally:
        conn.close()
    events = sum(row[3] for row in maintained["activity_state"])
    counts = "SELECT (SELECT COUNT(*) FROM snapshot) + (SELECT COUNT(*) FROM buildlog)"
    assert events == db_rows(db_path, counts + " + (SELECT COUNT(*) FROM runlog)")[0][0]


async def test_csv_carries_the_same_numbers(client, random_history):
    body = await (
        await client.get(DASHBOARD, params={"sort": "churn_bytes", "order": "desc"})
    ).json()
    query = {"sort": "churn_bytes", "order": "desc"}
    for params, headers in (({"format": "csv"}, {}), ({}, {"Accept": "text/csv"})):
        response = await client.get(DASHBOARD, params=query | params, headers=headers)
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment" in response.headers["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(await response.text())))
        assert len(rows) == len(body["students"])
        for row, expected in zip(rows, body["students"], strict=True):
            for key, value in expected.items():
                if key == "flags":
                    assert row[key] == ";".join(value)
                elif value is None:
                    assert row[key] == ""
                else:
                    assert type(value)(row[key]) == value, key


async def test_sorting_and_paging(client, random_history):
    full = (
        await (await client.get(DASHBOARD, params={"sort": "snapshots", "order": "desc"})).json()
    )["students"]
    counts = [r["snapshots"] for r in full]
    assert counts == sorted(counts, reverse=True)
    query = {"sort": "snapshots", "order": "desc", "limit": "2", "offset": "3"}
    page = await (await client.get(DASHBOARD, params=query)).json()
    assert page["students"] == full[3:5] and (page["total"], page["limit"], page["offset"]) == (
        8,
        2,
        3,
    )
    velocity = (
        await (await client.get(DASHBOARD, params={"sort": "bytes_per_active_minute"})).json()
    )["students"]
    assert velocity[-1]["bytes_per_active_minute"] is None  # no value sorts last


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ({"idle_minutes": "0"}, "idle_minutes"),
        ({"idle_minutes": "abc"}, "idle_minutes"),
        ({"paste_bytes": "50"}, "paste_bytes"),
        ({"failure_streak": "2.5"}, "failure_streak"),
        ({"large_share": "1.5"}, "large_share"),
        ({"sort": "password"}, "sort"),
        ({"order": "up"}, "order"),
        ({"limit": "0"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"format": "xml"}, "format"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2025-03-11", "to": "2025-03-10"}, "from"),
        ({"idle": "5"}, "idle"),
    ],
)
async def test_bad_parameters_are_422_naming_them(client, query, loc):
    response = await client.get(DASHBOARD, params=query)
    assert response.status == 422
    detail = (await response.json())["detail"]
    assert [e["loc"] for e in detail] == [["query", loc]]


async def test_bad_path_values_are_422(client):
    for path in (
        V2 + "/assignments/hw1/students/abc/timeline",
        "/api/v2/classes/a%20b/assignments",
    ):
        response = await client.get(path)
        assert response.status == 422, path
        assert (await response.json())["detail"][0]["loc"][0] == "path"


async def test_timeline_merges_events_and_marks_flags(client, post_snapshot):
    await post_snapshot("main.c", "20250310_060000", 100)
    await post_snapshot("main.c", "20250310_060005", 700)  # +600 in 5 s: a paste-like jump
    for second in range(5):
        body = BUILD | {"timestamp": f"2025-03-10T06:01:0{second}.5", "exit_code": 1}
        assert (await client.post("/api/os-1/hw1/202012345/logs/build", json=body)).status == 200
    await post_snapshot("main.c", "20250310_060002", 90)  # late: arrives after the rest
    path = V2 + "/assignments/hw1/students/202012345/timeline"
    body = await (await client.get(path)).json()
    events = body["events"]
    assert [(e["kind"], e["time"]) for e in events[:3]] == [
        ("snapshot", "2025-03-10T15:00:00+09:00"),
        ("snapshot", "2025-03-10T15:00:02+09:00"),
        ("snapshot", "2025-03-10T15:00:05+09:00"),
    ]
    assert [e["delta"] for e in events[:3]] == [None, -10, 610]
    assert events[2]["flags"] == ["paste_like_jump", "large_single_change"]
    builds = events[3:]
    assert builds[0]["time"] == "2025-03-10T15:01:00.500000+09:00"
    assert [b["flags"] for b in builds] == [[], [], [], [], ["repeated_build_failures"]]
    assert all(b["failed"] and b["cmdline"] == BUILD["cmdline"] for b in builds)

    page = await (await client.get(path, params={"limit": "2", "offset": "2"})).json()
    assert page["events"] == events[2:4] and page["total"] == 8
    window = await (await client.get(path, params={"from": "2025-03-10T15:01:00"})).json()
    assert window["events"] == builds  # the streak began inside; flags are from the history


async def test_assignments_of_a_class(client, random_history):
    body = await (await client.get(V2 + "/assignments")).json()
    assert [a["hw_name"] for a in body["assignments"]] == ["hw1", "hw2"]
    hw1, hw2 = body["assignments"]
    assert hw1["students"] == len(STUDENTS) + 1 and hw2["students"] == 1
    assert hw2 == {"hw_name": "hw2", "students": 1, "events": 1, "snapshots": 1, "builds": 0,
                   "runs": 0, "first_activity": "2025-03-10T15:00:00+09:00",
                   "last_activity": "2025-03-10T15:00:00+09:00"}  # fmt: skip
    assert hw1["events"] == hw1["snapshots"] + hw1["builds"] + hw1["runs"] == 503
    empty = await (await client.get("/api/v2/classes/os-9/assignments")).json()
    assert empty == {"class_div": "os-9", "assignments": []}


async def test_times_before_year_1000_are_stored_and_counted(client, db_path):
    # Found by the fuzzer: the C library prints year 271 as `271`, which no longer parses.
    body = RUN | {"timestamp": "0271-05-19T03:30:33.6Z"}
    assert (await client.post("/api/os-1/hw1/7/logs/run", json=body)).status == 200
    url = snapshot_url("os-1", "hw1", "7", "a.c", "02710519_033030")
    assert (await client.post(url, json={"bytes": 5})).status == 200
    stored = db_rows(
        db_path, "SELECT timestamp FROM runlog UNION ALL SELECT timestamp FROM snapshot"
    )
    assert stored == [("0271-05-19 12:30:33.600000",), ("02710519_123030",)]
    row = (await (await client.get(DASHBOARD)).json())["students"][0]
    assert (row["runs"], row["snapshots"], row["active_minutes"]) == (1, 1, 0.05)
    assert row["first_activity"] == "0271-05-19T12:30:30+09:00"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2025-03-10T15:05:00", "2025-03-10T15:20:00"),
        ("2025-03-10T15:00:01", "2025-03-10T15:00:09"),
        ("2025-03-10T06:30:00Z", "2025-03-10T06:40:59Z"),
        ("2025-03-10T15:11:00", "2025-03-10T15:11:59"),
    ],
)
async def test_a_window_equals_the_rules_over_its_raw_rows(
    client, random_history, db_path, start, end
):
    thresholds = Thresholds(paste_bytes=100, paste_seconds=30, failure_streak=2)
    query = {k: str(v) for k, v in vars(thresholds).items()} | {"from": start, "to": end}
    body = await (await client.get(DASHBOARD, params=query)).json()
    low, high = (wall_seconds(parse_datetime(t)) for t in (start, end))
    events = raw_events(db_path)
    known = sorted(set(events) | {109})
    expected = [
        dashboard_row(
            measure(s, [e for e in events.get(s, []) if low <= e.at <= high], thresholds),
            thresholds,
            wall_seconds_to_iso,
        )
        for s in known
    ]
    assert body["students"] == expected
    assert any(row["snapshots"] for row in expected)  # not an empty window


async def test_a_schema_3_database_is_upgraded_with_its_history(aiohttp_client, tmp_path):
    """Rows written before schema 4 (no `at`, no insight aggregates) are measured once migrated."""
    from watcher.app import create_app
    from watcher.config import Settings
    from watcher.store.schema import MIGRATIONS

    path = tmp_path / "v3.db"
    conn = sqlite3.connect(path)
    for statement in (s for migration in MIGRATIONS[:3] for s in migration):
        conn.execute(statement)
    conn.executemany(
        "INSERT INTO snapshot (class_div, hw_name, student_id, filename, timestamp, file_size)"
        " VALUES ('os-1', 'hw1', 7, 'a.c', ?, ?)",
        [("20250310_150010", 900), ("20250310_150000", 100), ("20250310_150100", 950)],
    )
    conn.execute(
        "INSERT INTO buildlog (class_div, hw_name, student_id, cwd, binary_path, cmdline,"
        " exit_code, target_path, timestamp) VALUES ('os-1', 'hw1', 7, '/w', '/b', 'gcc', 1,"
        " '/w/a.c', '2025-03-10 15:02:00.500000')"
    )
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    client = await aiohttp_client(create_app(Settings(db_path=path)))
    row = (await (await client.get(DASHBOARD)).json())["students"][0]
    assert {k: row[k] for k in ("snapshots", "builds", "failed_builds", "churn_bytes",
                                "net_bytes", "largest_change_bytes", "active_minutes")} == {
        "snapshots": 3, "builds": 1, "failed_builds": 1, "churn_bytes": 850, "net_bytes": 950,
        "largest_change_bytes": 800, "active_minutes": 2.0}  # fmt: skip
    assert row["flags"] == ["large_single_change", "fast_writing", "paste_like_jump"]


@pytest.mark.parametrize(
    "thresholds",
    [
        Thresholds(),
        Thresholds(
            paste_bytes=100, paste_seconds=30, failure_streak=2, large_share=0.2, large_min_bytes=0
        ),
    ],
)
async def test_timeline_pages_equal_the_rules_over_the_whole_history(
    client, random_history, db_path, thresholds
):
    events = raw_events(db_path)
    query = {k: str(v) for k, v in vars(thresholds).items()}
    windows = [(None, None), ("2025-03-10T15:05:00", "2025-03-10T15:25:59")]
    for student in (*STUDENTS, 110):
        expected_all = mark(events[student], thresholds)
        for start, end in windows:
            window = {"from": start, "to": end} if start else {}
            low, high = (wall_seconds(parse_datetime(t)) for t in (start, end)) if start else (
                -(2**62), 2**62)  # fmt: skip
            expected = [
                (m.event.kind, m.event.order[-1], m.delta, m.flags)
                for m in expected_all
                if low <= m.event.at <= high
            ]
            for offset, limit in ((0, 1000), (3, 7), (len(expected) - 2, 5)):
                path = f"{V2}/assignments/hw1/students/{student}/timeline"
                params = query | window | {"offset": str(max(offset, 0)), "limit": str(limit)}
                body = await (await client.get(path, params=params)).json()
                got = [(e["kind"], e["id"], e.get("delta"), e["flags"]) for e in body["events"]]
                assert body["total"] == len(expected)
                assert got == expected[max(offset, 0) : max(offset, 0) + limit], (student, params)
    flagged = {f for m in mark(events[110], thresholds) for f in m.flags}
    assert "large_single_change" in flagged
