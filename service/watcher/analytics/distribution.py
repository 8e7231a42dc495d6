"""The class's code-size distribution over time: percentiles across students at chosen moments.
Pure functions over plain numbers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from watcher.analytics.numbers import interpolate, percentile_positions, round2

QUARTILES = (("p25", 25.0), ("median", 50.0), ("p75", 75.0))


def moments(start: int, end: int, count: int) -> list[int]:
    """`count` evenly spaced seconds from start to end, both included, without repeats (a span
    shorter than `count` seconds gives fewer)."""
    if end <= start or count < 2:
        return [start]
    step = (end - start) / (count - 1)
    return sorted({start + round(k * step) for k in range(count)})


def percentile(sorted_values: Sequence[float], percent: float) -> float:
    """numpy.percentile (linear) of ascending values, as the legacy summary computes it."""
    below, above, fraction = percentile_positions(len(sorted_values), percent)
    return interpolate(sorted_values[below], sorted_values[above], fraction)


def quartiles_over_time(sizes: Sequence[Sequence[int | None]], count: int) -> list[dict[str, Any]]:
    """For each of `count` moments: p25, median and p75 of the students' code sizes at it, and
    how many students had saved anything by then. `sizes` holds one row of `count` sizes per
    student, None before the student's first save, which counts as size 0: a class where half
    the students have not started has a median of 0."""
    out = []
    for k in range(count):
        column = [row[k] for row in sizes]
        ordered = sorted(size or 0 for size in column)
        point: dict[str, Any] = {name: round2(percentile(ordered, p)) for name, p in QUARTILES}
        point["started"] = sum(1 for size in column if size is not None)
        out.append(point)
    return out
