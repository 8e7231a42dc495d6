"""Rounding and percentiles exactly as the original computed them with numpy."""

from __future__ import annotations

import math
from collections.abc import Sequence


def round2(value: float) -> float:
    """numpy's round(x, 2): scale, round half to even, unscale (differs from round() at ties)."""
    return round(value * 100) / 100


def percentile_from_counts(counts: Sequence[tuple[int, int]], percent: float) -> float:
    """numpy.percentile(values, percent) (linear method) over a value histogram.

    `counts` is ascending (value, occurrences). Works on a histogram so the caller never has to
    materialise every row of a class.
    """
    total = sum(n for _, n in counts)
    if total == 0:
        raise ValueError("percentile of no values")
    position = (percent / 100) * (total - 1)
    below = math.floor(position)
    fraction = position - below
    low = _value_at(counts, below)
    high = _value_at(counts, min(below + 1, total - 1))
    return _lerp(low, high, fraction)


def _value_at(counts: Sequence[tuple[int, int]], index: int) -> int:
    seen = 0
    for value, n in counts:
        seen += n
        if index < seen:
            return value
    raise IndexError(index)


def _lerp(low: float, high: float, t: float) -> float:
    # numpy interpolates from the nearer end to keep the result monotonic; do the same.
    diff = high - low
    if t >= 0.5:
        return high - diff * (1 - t)
    return low + diff * t
