"""`/api/total_graph_data/...`: per-student churn (sum of absolute size changes) in a window."""

from __future__ import annotations

from collections.abc import Iterable


def churn_by_student(rows: Iterable[tuple[int, str, int]]) -> list[dict]:
    """Rows are (student_id, filename, size) ordered by student, file, time.

    Each file's first snapshot in the window is its baseline; every later one adds
    |size - previous size|. A student with snapshots but no change still appears, with 0.0.
    """
    results: list[dict] = []
    current_student = None
    current_file = None
    previous_size = 0
    for student_id, filename, size in rows:
        if student_id != current_student:
            results.append({"student_num": student_id, "size_change": 0.0})
            current_student, current_file = student_id, None
        if filename != current_file:
            current_file = filename
        else:
            results[-1]["size_change"] += float(abs(size - previous_size))
        previous_size = size
    return results
