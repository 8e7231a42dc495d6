"""`/api/graph_data/...`: a student's total code size over time, in `interval`-minute buckets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from watcher.analytics.numbers import round2
from watcher.timefmt import parse_compact

LABEL = "%Y%m%d_%H%M"


def code_size_trends(rows: Iterable[tuple[str, str, int]], interval_minutes: int) -> list[dict]:
    """Rows are (timestamp, filename, size) sorted by timestamp, ties in insertion order.

    Buckets are anchored at the first snapshot (not the wall clock), a bucket keeps the total after
    its last snapshot, and buckets without snapshots are left out — all as the original does.
    """
    if interval_minutes <= 0:
        raise ValueError("interval must be positive")
    latest: dict[str, int] = {}
    totals: dict[str, int] = {}
    start = None
    width = timedelta(minutes=interval_minutes)
    for stamp, filename, size in rows:
        moment = parse_compact(stamp)
        if start is None:
            start = moment
        elapsed_minutes = int((moment - start).total_seconds() // 60)
        bucket = start + (elapsed_minutes // interval_minutes) * width
        latest[filename] = size
        totals[bucket.strftime(LABEL)] = sum(latest.values())
    trends = []
    previous = 0.0
    for label in sorted(totals):
        total = float(totals[label])
        trends.append(
            {"timestamp": label, "total_size": total, "size_change": round2(total - previous)}
        )
        previous = total
    return trends
