"""Read queries of the instructor insights, over the aggregates of store/activity.py.

The whole-history dashboard is six grouped range scans keyed by (class, assignment), each over at
most a few rows per student; a time window or one student's timeline reads that time range of the
three event tables, one index range per student (never the assignment's whole history).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from watcher.analytics.insights import Event, StudentActivity, Thresholds
from watcher.store.activity import log_seconds
from watcher.store.aggregates import compact_seconds
from watcher.store.queries import Scope
from watcher.timefmt import COMPACT, format_time, wall_seconds, wall_seconds_to_naive

_SECOND = "%Y-%m-%d %H:%M:%S"


async def _all(conn: aiosqlite.Connection, sql: str, params: Sequence) -> list[tuple]:
    async with conn.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def class_students(conn: aiosqlite.Connection, class_div: str) -> list[int]:
    """Every student with any event in any assignment of the class."""
    rows = await _all(
        conn,
        "SELECT DISTINCT student_id FROM activity_state WHERE class_div = ? ORDER BY student_id",
        (class_div,),
    )
    return [r[0] for r in rows]


async def assignment_activity(
    conn: aiosqlite.Connection, scope: Scope, thresholds: Thresholds
) -> dict[int, StudentActivity]:
    """Every measure of every active student over the whole history, from the aggregates."""
    key = (scope.class_div, scope.hw_name)
    found: dict[int, StudentActivity] = {}

    def student(student_id: int) -> StudentActivity:
        return found.setdefault(student_id, StudentActivity(student_id))

    for sid, first_at, last_at in await _all(
        conn,
        "SELECT student_id, first_at, last_at FROM activity_state"
        " WHERE class_div = ? AND hw_name = ?",
        key,
    ):
        student(sid).first_at, student(sid).last_at = first_at, last_at
    for sid, snapshots, total_bytes in await _all(
        conn,
        "SELECT student_id, snapshots, total_bytes FROM student_state"
        " WHERE class_div = ? AND hw_name = ?",
        key,
    ):
        a = student(sid)
        a.snapshots, a.wrote_code = snapshots, total_bytes > 0
    for sid, files, churn, net, largest in await _all(
        conn,
        "SELECT student_id, COUNT(*), SUM(churn), SUM(latest_size), MAX(max_change)"
        " FROM file_change WHERE class_div = ? AND hw_name = ? GROUP BY student_id",
        key,
    ):
        a = student(sid)
        a.files, a.churn_bytes, a.net_bytes, a.largest_change_bytes = files, churn, net, largest
    for kind, sid, n, failed, longest in await _all(
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
    for sid, seconds in await _all(
        conn,
        "SELECT student_id, SUM(gap * n) FROM activity_gap"
        " WHERE class_div = ? AND hw_name = ? AND gap < ? GROUP BY student_id",
        (*key, thresholds.idle_seconds),
    ):
        student(sid).active_seconds = seconds
    for sid, jumps in await _all(
        conn,
        "SELECT student_id, COUNT(*) FROM snapshot_jump INDEXED BY snapshot_jump_by_growth"
        " WHERE class_div = ? AND hw_name = ? AND growth >= ? AND gap <= ? GROUP BY student_id",
        (*key, thresholds.paste_bytes, thresholds.paste_seconds),
    ):
        student(sid).paste_jumps = jumps
    return found


# Each kind of event of the chosen students within [?3, ?4] (the table's own text times), one
# index range seek per student (CROSS JOIN keeps the students outside), its time in seconds first.
_STUDENTS = """
      FROM activity_state AS st
      CROSS JOIN {table} AS e INDEXED BY {index}
        ON e.class_div = st.class_div AND e.hw_name = st.hw_name AND e.student_id = st.student_id
       AND e.timestamp BETWEEN ?3 AND ?4
     WHERE st.class_div = ?1 AND st.hw_name = ?2 {where}"""
_SNAPSHOTS = (
    f"SELECT st.student_id, {compact_seconds('e.timestamp')}, e.timestamp, e.id, e.filename,"
    " e.file_size"
    + _STUDENTS.replace("{table}", "snapshot").replace("{index}", "snapshot_by_student_time")
)
_LOGS = {
    kind: (
        f"SELECT st.student_id, {log_seconds('e.timestamp')}, e.timestamp, e.id, e.exit_code,"
        f" e.cmdline, e.target_path, {'e.process_type' if kind == 'run' else 'NULL'}"
        + _STUDENTS.replace("{table}", table).replace("{index}", f"{table}_by_student")
    )
    for kind, table in (("build", "buildlog"), ("run", "runlog"))
}

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


async def _events(
    conn: aiosqlite.Connection, scope: Scope, start: int, end: int, student_id: int | None
) -> dict[int, list[Event]]:
    (s_low, s_high), (l_low, l_high) = _bounds(start, end)
    where, extra = ("AND st.student_id = ?5", (student_id,)) if student_id is not None else ("", ())
    key = (scope.class_div, scope.hw_name)
    detail = student_id is not None  # only the timeline shows details
    events: dict[int, list[Event]] = defaultdict(list)
    for sid, at, stamp, ref, filename, size in await _all(
        conn, _SNAPSHOTS.format(where=where), (*key, s_low, s_high, *extra)
    ):
        info = {"id": ref} if detail else None
        events[sid].append(Event(at, "snapshot", (stamp, ref), filename, size, detail=info))
    for kind, sql in _LOGS.items():
        for sid, at, stamp, ref, code, cmdline, target, ptype in await _all(
            conn, sql.format(where=where), (*key, l_low, l_high, *extra)
        ):
            info = None
            if detail:
                info = {"id": ref, "time": stamp, "cmdline": cmdline, "target_path": target}
                if kind == "run":
                    info["process_type"] = ptype
            events[sid].append(Event(at, kind, (stamp, ref), exit_code=code, detail=info))
    return events


async def events_by_student(
    conn: aiosqlite.Connection, scope: Scope, start: int = EARLIEST, end: int = LATEST
) -> dict[int, list[Event]]:
    """Every event of every student with start <= time <= end (seconds), by student."""
    return await _events(conn, scope, start, end, None)


async def student_events(conn: aiosqlite.Connection, scope: Scope, student_id: int) -> list[Event]:
    """One student's whole event stream, with each event's details."""
    found = await _events(conn, scope, EARLIEST, LATEST, student_id)
    return found.get(student_id, [])


async def assignments(conn: aiosqlite.Connection, class_div: str) -> list[tuple]:
    """Per assignment: (hw_name, students, events, snapshots, builds, runs, first, last)."""
    return await _all(
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
