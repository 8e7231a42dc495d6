"""`/api/graph_data/...`: a student's total code size over time, in `interval`-minute buckets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from watcher.analytics.numbers import round2
from watcher.timefmt import COMPACT, format_time, parse_compact

LABEL = "%Y%m%d_%H%M"


def code_size_trends(rows: Iterable[tuple[str, str, int]], interval_minutes: int) -> list[dict]:
    """The original's compute_trends over raw (timestamp, filename, size) rows in time order.

    The service answers from maintained running totals (`trends_from_buckets`); this full
    replay is the reference the tests hold it to.
    """
    if interval_minutes <= 0:
        raise ValueError("interval must be positive")
    latest: dict[str, int] = {}
    buckets: dict[int, int] = {}
    start = None
    for stamp, filename, size in rows:
        moment = parse_compact(stamp)
        if start is None:
            start = moment
        elapsed_minutes = int((moment - start).total_seconds() // 60)
        latest[filename] = size
        buckets[elapsed_minutes // interval_minutes] = sum(latest.values())
    if start is None:
        return []
    return trends_from_buckets(
        format_time(start, COMPACT), interval_minutes, sorted(buckets.items())
    )


def trends_from_buckets(
    first: str, interval_minutes: int, buckets: Iterable[tuple[int, int]]
) -> list[dict]:
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
