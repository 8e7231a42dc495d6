"""Rounding and percentiles exactly as the original computed them with numpy."""

from __future__ import annotations

import math
from collections.abc import Sequence


def round2(value: float) -> float:
    """numpy's round(x, 2): scale, round half to even, unscale (differs from round() at ties)."""
    return round(value * 100) / 100


def percentile_positions(total: int, percent: float) -> tuple[int, int, float]:
    """numpy's linear method: the two sorted positions to blend, and the weight of the upper one."""
    if total <= 0:
        raise ValueError("percentile of no values")
    position = (percent / 100) * (total - 1)
    below = math.floor(position)
    return below, min(below + 1, total - 1), position - below


def interpolate(low: float, high: float, t: float) -> float:
    """numpy's lerp: from the nearer end, which keeps results monotonic."""
    diff = high - low
    if t >= 0.5:
        return high - diff * (1 - t)
    return low + diff * t


def locate(counts: Sequence[tuple[int, int]], index: int) -> tuple[int, int]:
    """(key, position within it) of sorted position `index` in an ascending (key, n) histogram."""
    seen = 0
    for key, n in counts:
        if index < seen + n:
            return key, index - seen
        seen += n
    raise IndexError(index)
