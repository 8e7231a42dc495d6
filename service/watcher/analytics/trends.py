"""`/api/graph_data/...`: a student's total code size over time, in `interval`-minute buckets.

The service answers from maintained running totals; tests/service/reference.py replays the
original's compute_trends over every raw row and holds this to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from watcher.analytics.numbers import round2
from watcher.timefmt import format_time, parse_compact

LABEL = "%Y%m%d_%H%M"


def trends_from_buckets(
    first: str, interval_minutes: int, buckets: Iterable[tuple[int, int]]
) -> list[dict[str, Any]]:
    """Label and difference the buckets: (bucket number, total size after its last save).

    A bucket's label is its start, the first snapshot's time plus whole intervals, printed
    without seconds; `size_change` is against the previous non-empty bucket (0 before the first).
    """
    start = parse_compact(first)
    width = timedelta(minutes=interval_minutes)
    trends = []
    previous = 0.0
    for bucket, total in buckets:
        size = float(total)
        label = format_time(start + bucket * width, LABEL)
        trends.append(
            {"timestamp": label, "total_size": size, "size_change": round2(size - previous)}
        )
        previous = size
    return trends
