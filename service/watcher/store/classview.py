"""Read queries behind the instructor pages (/ui): the classes an instance holds, and each
student's code size at chosen moments. Both read maintained aggregates or one index seek per
(student, moment), never an assignment's history."""

from __future__ import annotations

import json
from dataclasses import dataclass

import aiosqlite

from watcher.records import Scope
from watcher.store.queries import fetch_all


@dataclass(frozen=True)
class ClassOverview:
    """One class this instance holds: how many assignments and students, and when it was active."""

    class_div: str
    assignments: int
    students: int
    first_at: int  # seconds of the KST wall clock
    last_at: int


async def classes(conn: aiosqlite.Connection) -> list[ClassOverview]:
    """Every class with any event, by name."""
    rows = await fetch_all(
        conn,
        "SELECT class_div, COUNT(DISTINCT hw_name), COUNT(DISTINCT student_id),"
        " MIN(first_at), MAX(last_at) FROM activity_state GROUP BY class_div ORDER BY class_div",
        (),
    )
    return [ClassOverview(*row) for row in rows]


async def activity_span(conn: aiosqlite.Connection, scope: Scope) -> tuple[int, int] | None:
    """(first, last) activity of the assignment in seconds, or None when it has none."""
    rows = await fetch_all(
        conn,
        "SELECT MIN(first_at), MAX(last_at) FROM activity_state"
        " WHERE class_div = ? AND hw_name = ?",
        (scope.class_div, scope.hw_name),
    )
    first, last = rows[0]
    return None if first is None else (first, last)


# The code size of a student at a moment is `student_total` (the sum of the latest sizes of all
# the student's files, maintained on every save: what /api/graph_data reads) of the student's last
# save at or before it: one seek on snapshot_by_student_time per (student, moment).
_SIZES_AT = """
    WITH moments(k, stamp) AS (SELECT key, value FROM json_each(?3))
    SELECT s.student_id, moments.k,
           (SELECT y.student_total FROM snapshot AS y
             WHERE y.class_div = ?1 AND y.hw_name = ?2 AND y.student_id = s.student_id
               AND y.timestamp <= moments.stamp
             ORDER BY y.timestamp DESC, y.id DESC LIMIT 1)
      FROM student_state AS s, moments
     WHERE s.class_div = ?1 AND s.hw_name = ?2"""


async def code_sizes_at(
    conn: aiosqlite.Connection, scope: Scope, stamps: list[str]
) -> dict[int, list[int | None]]:
    """Every student with a save in the assignment -> their code size at each KST stamp
    (YYYYMMDD_HHMMSS); None before their first save."""
    rows = await fetch_all(conn, _SIZES_AT, (scope.class_div, scope.hw_name, json.dumps(stamps)))
    sizes: dict[int, list[int | None]] = {}
    for student_id, k, size in rows:
        sizes.setdefault(student_id, [None] * len(stamps))[k] = size
    return sizes
