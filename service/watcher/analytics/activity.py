"""Per-student snapshot statistics: per file, and over a whole assignment."""

from __future__ import annotations

from typing import Any

from watcher.analytics.numbers import round2
from watcher.records import StudentSnapshots
from watcher.timefmt import compact_to_iso, parse_compact


def file_snapshot_stats(count: int, total_bytes: int | None) -> dict[str, Any]:
    """`snapshot_avg` is the count of snapshots (the original's name), size mean to 2 dp."""
    if not count:
        return {"snapshot_avg": None, "snapshot_size_avg": None}
    return {"snapshot_avg": count, "snapshot_size_avg": round2((total_bytes or 0) / count)}


def assignment_activity(snapshots: StudentSnapshots) -> dict[str, Any]:
    """Counts, mean size, first/last time, seconds worked, seconds between the last two saves."""
    count, total_bytes, first = snapshots.count, snapshots.total_bytes, snapshots.first_timestamp
    newest_two = snapshots.newest
    if not count or first is None or not newest_two:
        return dict.fromkeys(
            ("snapshot_avg", "snapshot_size_avg", "first", "last", "total", "interval")
        )
    last = newest_two[0]
    gap = 0
    if len(newest_two) > 1:
        gap = _seconds_between(newest_two[1], last)
    return {
        "snapshot_avg": count,
        "snapshot_size_avg": round2((total_bytes or 0) / count),
        "first": compact_to_iso(first),
        "last": compact_to_iso(last),
        "total": _seconds_between(first, last),
        "interval": gap,
    }


def _seconds_between(earlier: str, later: str) -> int:
    return int((parse_compact(later) - parse_compact(earlier)).total_seconds())
