"""`/api/total_graph_data/...`: per-student churn (sum of absolute size changes) in a window."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def churn_by_student(files: Iterable[tuple[int, int | None, int | None]]) -> list[dict[str, Any]]:
    """Files are (student_id, running churn at the first and at the last save in the window),
    ordered by student; a file with no save in the window has None for both.

    Each file's first save in the window is its baseline, every later one adds |size - previous
    size|: that is last - first of the running churn. A student with saves in the window but no
    change still appears, with 0.0; one with no save in the window does not.
    """
    results: list[dict[str, Any]] = []
    for student_id, first, last in files:
        if first is None or last is None:
            continue
        if not results or results[-1]["student_num"] != student_id:
            results.append({"student_num": student_id, "size_change": 0.0})
        results[-1]["size_change"] += float(last - first)
    return results
