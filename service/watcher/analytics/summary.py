"""`/api/assignment/{class_div}/{hw_name}`: class percentiles, averages and the latest seven."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from watcher.analytics.numbers import interpolate, percentile_positions, round2
from watcher.records import StudentTotals

TOP_N = 7


PERCENTILES = (90, 50)


def percentile_indexes(total: int) -> set[int]:
    """Sorted positions of the size distribution the summary needs (at most four)."""
    indexes: set[int] = set()
    for percent in PERCENTILES:
        below, above, _ = percentile_positions(total, percent)
        indexes.update((below, above))
    return indexes


def assignment_summary(
    students: Sequence[StudentTotals], sizes_at: Mapping[int, int]
) -> dict[str, Any]:
    """`sizes_at` maps each position of `percentile_indexes(total snapshots)` to its size."""
    if not students:
        return {
            "percentile_90": None,
            "percentile_50": None,
            "avg_bytes": None,
            "avg_num": None,
            "top_7": [],
        }
    # The original kept students in first-seen order and sorted stably by latest time, newest first.
    in_first_seen_order = sorted(students, key=lambda s: s.first_seen)
    newest_first = sorted(in_first_seen_order, key=lambda s: s.latest_timestamp, reverse=True)
    student_means = [round2(s.total_bytes / s.snapshots) for s in students]
    total = sum(s.snapshots for s in students)
    percentiles = {}
    for percent in PERCENTILES:
        below, above, fraction = percentile_positions(total, percent)
        percentiles[percent] = round2(interpolate(sizes_at[below], sizes_at[above], fraction))
    return {
        "percentile_90": percentiles[90],
        "percentile_50": percentiles[50],
        "avg_bytes": round2(sum(student_means) / len(student_means)),
        "avg_num": round2(total / len(students)),
        "top_7": [
            {
                "student_num": s.student_id,
                "timestamp": s.latest_timestamp,
                "code_size": s.latest_size,
            }
            for s in newest_first[:TOP_N]
        ],
    }


def average_per_student(rows: int, students: int) -> dict[str, Any]:
    """build_avg / run_avg: log rows per distinct student, 0.0 when there is none."""
    return {"avg_count": round2(rows / students) if students else 0.0}
