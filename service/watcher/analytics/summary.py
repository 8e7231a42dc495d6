"""`/api/assignment/{class_div}/{hw_name}`: class percentiles, averages and the latest seven."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from watcher.analytics.numbers import percentile_from_counts, round2

TOP_N = 7


@dataclass(frozen=True)
class StudentTotals:
    """One student's snapshots in an assignment, already aggregated by the store."""

    student_id: int
    snapshots: int
    total_bytes: int
    latest_timestamp: str  # KST YYYYMMDD_HHMMSS
    latest_size: int  # size of the first-inserted row at latest_timestamp
    first_seen: int  # rowid of the student's first snapshot: the original's tie-break order


def assignment_summary(
    students: Sequence[StudentTotals], size_counts: Sequence[tuple[int, int]]
) -> dict:
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
    return {
        "percentile_90": round2(percentile_from_counts(size_counts, 90)),
        "percentile_50": round2(percentile_from_counts(size_counts, 50)),
        "avg_bytes": round2(sum(student_means) / len(student_means)),
        "avg_num": round2(sum(s.snapshots for s in students) / len(students)),
        "top_7": [
            {
                "student_num": s.student_id,
                "timestamp": s.latest_timestamp,
                "code_size": s.latest_size,
            }
            for s in newest_first[:TOP_N]
        ],
    }


def average_per_student(rows: int, students: int) -> dict:
    """build_avg / run_avg: log rows per distinct student, 0.0 when there is none."""
    return {"avg_count": round2(rows / students) if students else 0.0}
