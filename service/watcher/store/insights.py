"""Read queries of the instructor insights, over the aggregates of migration 4 (store/schema/).

The whole-history dashboard is six grouped range scans keyed by (class, assignment), each over at
most a few rows per student. A time window is computed by SQL over that range of the three event
tables, one index seek per student or file; a timeline reads one student's rows. None reads the
assignment's whole history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from watcher.events import LOG_TABLES
from watcher.records import Event, Scope, StudentActivity, TimelineRow
from watcher.store.queries import fetch_all
from watcher.timefmt import COMPACT, format_time, wall_seconds, wall_seconds_to_naive

_SECOND = "%Y-%m-%d %H:%M:%S"


async def class_students(conn: aiosqlite.Connection, class_div: str) -> list[int]:
    """Every student with any event in any assignment of the class."""
    rows = await fetch_all(
        conn,
        "SELECT DISTINCT student_id FROM activity_state WHERE class_div = ? ORDER BY student_id",
        (class_div,),
    )
    return [r[0] for r in rows]


async def assignment_activity(
    conn: aiosqlite.Connection, scope: Scope, idle_seconds: float, paste: tuple[int, int]
) -> dict[int, StudentActivity]:
    """Every measure of every active student over the whole history, from the aggregates: working
    time counts gaps shorter than `idle_seconds`, jumps those of at least paste[0] bytes within
    paste[1] seconds."""
    key = (scope.class_div, scope.hw_name)
    found: dict[int, StudentActivity] = {}

    def student(student_id: int) -> StudentActivity:
        return found.setdefault(student_id, StudentActivity(student_id))

    for sid, first_at, last_at in await fetch_all(
        conn,
        "SELECT student_id, first_at, last_at FROM activity_state"
        " WHERE class_div = ? AND hw_name = ?",
        key,
    ):
        student(sid).first_at, student(sid).last_at = first_at, last_at
    for sid, snapshots, total_bytes in await fetch_all(
        conn,
        "SELECT student_id, snapshots, total_bytes FROM student_state"
        " WHERE class_div = ? AND hw_name = ?",
        key,
    ):
        a = student(sid)
        a.snapshots, a.wrote_code = snapshots, total_bytes > 0
    for sid, files, churn, net, largest in await fetch_all(
        conn,
        "SELECT student_id, COUNT(*), SUM(churn), SUM(latest_size), MAX(max_change)"
        " FROM file_state WHERE class_div = ? AND hw_name = ? GROUP BY student_id",
        key,
    ):
        a = student(sid)
        a.files, a.churn_bytes, a.net_bytes, a.largest_change_bytes = files, churn, net, largest
    for kind, sid, n, failed, longest in await fetch_all(
        conn,
        "SELECT c.kind, c.student_id, c.n, f.failed, f.longest_streak"
        "  FROM log_count AS c JOIN log_failures AS f USING (kind, class_div, hw_name, student_id)"
        " WHERE c.kind IN ('build', 'run') AND c.class_div = ? AND c.hw_name = ?",
        key,
    ):
        a = student(sid)
        if kind == "build":
            a.builds, a.failed_builds, a.max_consecutive_failed_builds = n, failed, longest
        else:
            a.runs, a.failed_runs = n, failed
    for sid, seconds in await fetch_all(
        conn,
        "SELECT student_id, SUM(gap * n) FROM activity_gap"
        " WHERE class_div = ? AND hw_name = ? AND gap < ? GROUP BY student_id",
        (*key, idle_seconds),
    ):
        student(sid).active_seconds = seconds
    for sid, jumps in await fetch_all(
        conn,
        "SELECT student_id, COUNT(*) FROM snapshot_jump INDEXED BY snapshot_jump_by_growth"
        " WHERE class_div = ? AND hw_name = ? AND growth >= ? AND gap <= ? GROUP BY student_id",
        (*key, *paste),
    ):
        student(sid).paste_jumps = jumps
    return found


# Far outside any stored time, so an open end of a window is one comparison like the other.
EARLIEST, LATEST = -(2**62), 2**62
_FIRST_SECOND = wall_seconds(datetime.min)
_LAST_SECOND = wall_seconds(datetime.max.replace(microsecond=0))


def _bounds(start: int, end: int) -> tuple[tuple[str, str], tuple[str, str]]:
    """[start, end] in seconds as (snapshot text bounds, log text bounds), inclusive."""
    low = wall_seconds_to_naive(max(start, _FIRST_SECOND))
    high = wall_seconds_to_naive(min(end, _LAST_SECOND))
    return (
        (format_time(low, COMPACT), format_time(high, COMPACT)),
        # A log time has a fraction: the last second runs up to .999999.
        (format_time(low, _SECOND), format_time(high, _SECOND) + ".999999"),
    )


_PER_STUDENT = """
      FROM activity_state AS st
      CROSS JOIN {table} AS e INDEXED BY {index}
        ON e.class_div = st.class_div AND e.hw_name = st.hw_name AND e.student_id = st.student_id
       AND e.timestamp BETWEEN {low} AND {high}
     WHERE st.class_div = ?1 AND st.hw_name = ?2"""


def _in_window(table: str, index: str, low: str, high: str) -> str:
    return _PER_STUDENT.format(table=table, index=index, low=low, high=high)


# Per file of each student, its saves in the window: count, churn (the running churn rises along
# a file, so last - first is max - min), largest step of the running churn (= largest |change|),
# and the size of its last save in the window.
_WINDOW_FILES = """
    SELECT student_id, COUNT(*), MAX(churn_cum) - MIN(churn_cum), COALESCE(MAX(step), 0),
           (SELECT x.file_size FROM snapshot AS x INDEXED BY snapshot_by_file
             WHERE x.class_div = ?1 AND x.hw_name = ?2 AND x.student_id = w.student_id
               AND x.filename = w.filename AND x.timestamp <= ?4
             ORDER BY x.timestamp DESC, x.churn_cum DESC LIMIT 1)
      FROM (SELECT f.student_id, f.filename, s.churn_cum,
                   s.churn_cum - LAG(s.churn_cum) OVER (
                       PARTITION BY f.student_id, f.filename ORDER BY s.timestamp, s.churn_cum)
                       AS step
              FROM file_state AS f
              CROSS JOIN snapshot AS s INDEXED BY snapshot_by_file
                ON s.class_div = f.class_div AND s.hw_name = f.hw_name
               AND s.student_id = f.student_id AND s.filename = f.filename
               AND s.timestamp BETWEEN ?3 AND ?4
             WHERE f.class_div = ?1 AND f.hw_name = ?2) AS w
     GROUP BY student_id, filename"""

# Per student and kind: logs, failed ones, and the longest run of failures, in the window.
_WINDOW_LOGS = """
    SELECT sid, SUM(n), SUM(failed), MAX(CASE WHEN f THEN n ELSE 0 END) FROM (
        SELECT sid, f, COUNT(*) AS n, SUM(f) AS failed FROM (
            SELECT sid, f, i - ROW_NUMBER() OVER (PARTITION BY sid, f ORDER BY i) AS island
              FROM (SELECT st.student_id AS sid, e.exit_code <> 0 AS f,
                           ROW_NUMBER() OVER (PARTITION BY st.student_id
                                              ORDER BY e.timestamp, e.id) AS i
                    {rows}))
         GROUP BY sid, f, island)
     GROUP BY sid"""

# Per student: first and last event and the working time (gaps shorter than ?5 seconds).
_WINDOW_TIME = """
    SELECT sid, MIN(at), MAX(at), SUM(CASE WHEN gap < ?5 THEN gap ELSE 0 END) FROM (
        SELECT sid, at, at - LAG(at) OVER (PARTITION BY sid ORDER BY at) AS gap FROM (
            {events}))
     GROUP BY sid"""


async def window_activity(
    conn: aiosqlite.Connection,
    scope: Scope,
    idle_seconds: float,
    paste: tuple[int, int],
    window: tuple[int, int],
) -> dict[int, StudentActivity]:
    """Every measure of every student over the events with start <= time <= end (seconds, the
    window), computed by SQL over index ranges of the window (one seek per student or file);
    `idle_seconds` and `paste` as for assignment_activity."""
    start, end = window
    (s_low, s_high), (l_low, l_high) = _bounds(start, end)
    key = (scope.class_div, scope.hw_name)
    found: dict[int, StudentActivity] = {}

    def student(student_id: int) -> StudentActivity:
        return found.setdefault(student_id, StudentActivity(student_id))

    for sid, saves, churn, largest, last_size in await fetch_all(
        conn, _WINDOW_FILES, (*key, s_low, s_high)
    ):
        a = student(sid)
        a.snapshots += saves
        a.files += 1
        a.churn_bytes += churn
        a.largest_change_bytes = max(a.largest_change_bytes, largest)
        a.net_bytes += last_size
    for a in found.values():
        # Some save had content exactly when the files end non-empty or changed size at all.
        a.wrote_code = a.net_bytes > 0 or a.churn_bytes > 0
    for table, kind in LOG_TABLES.items():
        rows = _in_window(table, f"{table}_by_student", "?3", "?4")
        for sid, n, failed, longest in await fetch_all(
            conn, _WINDOW_LOGS.format(rows=rows), (*key, l_low, l_high)
        ):
            a = student(sid)
            if kind == "build":
                a.builds, a.failed_builds, a.max_consecutive_failed_builds = n, failed, longest
            else:
                a.runs, a.failed_runs = n, failed
    events = " UNION ALL ".join(
        [
            "SELECT st.student_id AS sid, e.at AS at"
            + _in_window("snapshot", "snapshot_by_student_time", "?3", "?4"),
            *(
                "SELECT st.student_id, e.at" + _in_window(table, f"{table}_by_student", "?6", "?7")
                for table in ("buildlog", "runlog")
            ),
        ]
    )
    for sid, first_at, last_at, seconds in await fetch_all(
        conn,
        _WINDOW_TIME.format(events=events),
        (*key, s_low, s_high, idle_seconds, l_low, l_high),
    ):
        a = student(sid)
        a.first_at, a.last_at, a.active_seconds = first_at, last_at, seconds
    for sid, jumps in await fetch_all(
        conn,
        "SELECT student_id, COUNT(*) FROM snapshot_jump INDEXED BY snapshot_jump_by_growth"
        " WHERE class_div = ? AND hw_name = ? AND growth >= ? AND gap <= ?"
        " AND at BETWEEN ? AND ? AND at - gap >= ? GROUP BY student_id",
        (*key, *paste, start, end, start),
    ):
        student(sid).paste_jumps = jumps
    return found


_ONE_STUDENT = "class_div = ?1 AND hw_name = ?2 AND student_id = ?3"
# One student's events with start <= time <= end (every event row keeps its `at`).
_STUDENT_EVENTS = f"""
    SELECT 'snapshot' AS kind, id, at, timestamp FROM snapshot INDEXED BY snapshot_by_student_time
     WHERE {_ONE_STUDENT} AND at BETWEEN ?4 AND ?5
    UNION ALL
    SELECT 'build', id, at, timestamp FROM buildlog INDEXED BY buildlog_by_student
     WHERE {_ONE_STUDENT} AND at BETWEEN ?4 AND ?5
    UNION ALL
    SELECT 'run', id, at, timestamp FROM runlog INDEXED BY runlog_by_student
     WHERE {_ONE_STUDENT} AND at BETWEEN ?4 AND ?5"""
# The one order of events everywhere (the ProgSnap2 export's too, store/export.py): by time, a
# save's whole second counting as its start, so within a second saves (by id: the order they were
# posted) come before the builds and runs of that second; those follow by their exact time, a build
# before a run at the same instant. Comparing the stored texts alone would put a log
# (`2025-03-10 15:00:00.5`) before a save (`20250310_150000`) of the same second.
_TIME_ORDER = "at, kind <> 'snapshot', timestamp, kind, id"
# A page's saves with the size of their file's previous save and their jump, if any.
_PAGE_SNAPSHOTS = """
    SELECT s.id, s.at, s.timestamp, s.filename, s.file_size,
           (SELECT p.file_size FROM snapshot AS p INDEXED BY snapshot_by_file
             WHERE p.class_div = s.class_div AND p.hw_name = s.hw_name
               AND p.student_id = s.student_id AND p.filename = s.filename
               AND p.timestamp <= s.timestamp AND (p.timestamp < s.timestamp OR p.id < s.id)
             ORDER BY p.timestamp DESC, p.churn_cum DESC LIMIT 1),
           j.growth, j.gap
      FROM snapshot AS s
      LEFT JOIN snapshot_jump AS j ON j.class_div = s.class_div AND j.hw_name = s.hw_name
                                  AND j.student_id = s.student_id AND j.snapshot_id = s.id
     WHERE s.id IN ({ids})"""
_PAGE_LOGS = {
    "build": "SELECT id, at, timestamp, exit_code, cmdline, target_path, NULL FROM buildlog"
    " WHERE id IN ({ids})",
    "run": "SELECT id, at, timestamp, exit_code, cmdline, target_path, process_type FROM runlog"
    " WHERE id IN ({ids})",
}
# Each failed build's position in its run of consecutive failures.
_FAILURE_POSITIONS = f"""
    SELECT id, ROW_NUMBER() OVER (PARTITION BY island ORDER BY i) FROM (
        SELECT id, f, i, i - ROW_NUMBER() OVER (PARTITION BY f ORDER BY i) AS island FROM (
            SELECT id, exit_code <> 0 AS f, ROW_NUMBER() OVER (ORDER BY timestamp, id) AS i
              FROM buildlog INDEXED BY buildlog_by_student
             WHERE {_ONE_STUDENT} AND at IS NOT NULL))
     WHERE f"""
# The first save (in time order) whose change is ?4 bytes: steps of the running churn.
_FIRST_CHANGE_OF = f"""
    SELECT id FROM (
        SELECT id, timestamp, churn_cum - LAG(churn_cum) OVER (
                   PARTITION BY filename ORDER BY timestamp, churn_cum) AS step
          FROM snapshot INDEXED BY snapshot_by_file WHERE {_ONE_STUDENT} AND at IS NOT NULL)
     WHERE step = ?4 ORDER BY timestamp, id LIMIT 1"""


def _placeholders(n: int) -> str:
    return ", ".join("?" * n)


async def timeline_page(
    conn: aiosqlite.Connection,
    scope: Scope,
    student_id: int,
    window: tuple[int, int],
    page: tuple[int, int],
) -> tuple[int, list[TimelineRow]]:
    """(events in the window, the page of them in time order with each save's change and jump).
    Reads the page's rows only, never the student's whole history of saves."""
    key = (scope.class_div, scope.hw_name, student_id)
    limit, offset = page
    bounds = (*key, *window)
    total_row = await fetch_all(conn, f"SELECT COUNT(*) FROM ({_STUDENT_EVENTS})", bounds)
    chosen = await fetch_all(
        conn,
        f"SELECT kind, id FROM ({_STUDENT_EVENTS}) ORDER BY {_TIME_ORDER} LIMIT ?6 OFFSET ?7",
        (*bounds, limit, offset),
    )
    ids = {kind: [i for k, i in chosen if k == kind] for kind in ("snapshot", "build", "run")}
    rows: dict[tuple[str, int], TimelineRow] = {}
    if ids["snapshot"]:
        sql = _PAGE_SNAPSHOTS.format(ids=_placeholders(len(ids["snapshot"])))
        for ref, at, stamp, filename, size, before, growth, gap in await fetch_all(
            conn, sql, ids["snapshot"]
        ):
            event = Event(at, "snapshot", (stamp, ref), filename, size, detail={"id": ref})
            delta = None if before is None else size - before
            rows["snapshot", ref] = TimelineRow(
                event, delta, None if growth is None else (growth, gap)
            )
    for kind in ("build", "run"):
        if not ids[kind]:
            continue
        sql = _PAGE_LOGS[kind].format(ids=_placeholders(len(ids[kind])))
        for ref, at, stamp, code, cmdline, target, ptype in await fetch_all(conn, sql, ids[kind]):
            detail = {"id": ref, "time": stamp, "cmdline": cmdline, "target_path": target}
            if kind == "run":
                detail["process_type"] = ptype
            rows[kind, ref] = TimelineRow(
                Event(at, kind, (stamp, ref), exit_code=code, detail=detail)
            )
    return total_row[0][0], [rows[kind, ref] for kind, ref in chosen]


async def failure_positions(
    conn: aiosqlite.Connection, scope: Scope, student_id: int
) -> dict[int, int]:
    """Each failed build's id -> its position (1, 2, ...) in its run of consecutive failures,
    over the student's whole history."""
    key = (scope.class_div, scope.hw_name, student_id)
    return dict(await fetch_all(conn, _FAILURE_POSITIONS, key))


async def change_totals(
    conn: aiosqlite.Connection, scope: Scope, student_id: int
) -> tuple[int, int]:
    """The student's churn and largest change, over the whole history (from file_state)."""
    [(churn, largest)] = await fetch_all(
        conn,
        "SELECT COALESCE(SUM(churn), 0), COALESCE(MAX(max_change), 0) FROM file_state"
        " WHERE class_div = ? AND hw_name = ? AND student_id = ?",
        (scope.class_div, scope.hw_name, student_id),
    )
    return churn, largest


async def first_change_of(
    conn: aiosqlite.Connection, scope: Scope, student_id: int, size: int
) -> int | None:
    """The id of the student's first save (in time order) whose change is `size` bytes."""
    found = await fetch_all(
        conn, _FIRST_CHANGE_OF, (scope.class_div, scope.hw_name, student_id, size)
    )
    return found[0][0] if found else None


@dataclass(frozen=True)
class AssignmentOverview:
    """One assignment of a class: its students, its events by kind, and its activity span."""

    hw_name: str
    students: int
    events: int
    snapshots: int
    builds: int
    runs: int
    first_at: int  # seconds of the KST wall clock
    last_at: int


async def assignments(conn: aiosqlite.Connection, class_div: str) -> list[AssignmentOverview]:
    """Every assignment of the class with any event, by name."""
    rows = await fetch_all(
        conn,
        """SELECT a.hw_name, COUNT(*), SUM(a.events),
                  COALESCE((SELECT SUM(s.snapshots) FROM student_state AS s
                             WHERE s.class_div = a.class_div AND s.hw_name = a.hw_name), 0),
                  COALESCE((SELECT SUM(n) FROM log_count AS c WHERE c.kind = 'build'
                               AND c.class_div = a.class_div AND c.hw_name = a.hw_name), 0),
                  COALESCE((SELECT SUM(n) FROM log_count AS c WHERE c.kind = 'run'
                               AND c.class_div = a.class_div AND c.hw_name = a.hw_name), 0),
                  MIN(a.first_at), MAX(a.last_at)
             FROM activity_state AS a WHERE a.class_div = ?
            GROUP BY a.hw_name ORDER BY a.hw_name""",
        (class_div,),
    )
    return [AssignmentOverview(*row) for row in rows]
