"""Reference models: the slow, obvious computations over every raw row that the service's
maintained aggregates and SQL are held to. Only the tests use them, so they live here, not in the
service package. Each follows a definition of the service (analytics/, CONTRACT §3) literally.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from watcher.analytics.insights import (
    MarkedEvent,
    Thresholds,
    flags,
    is_paste_jump,
    streak_flagged,
)
from watcher.analytics.numbers import interpolate, percentile_positions
from watcher.analytics.trends import trends_from_buckets
from watcher.records import Event, StudentActivity
from watcher.timefmt import COMPACT, format_time, parse_compact

# --- insights: a student's measures and flags from the events themselves ----------------------


def active_seconds(times: Iterable[int], idle_seconds: float) -> int:
    """Working time: the sum of the gaps between consecutive events of any kind, each gap
    counted only when it is shorter than the idle threshold (a longer one is a break)."""
    total = 0
    previous: int | None = None
    for at in sorted(times):
        if previous is not None and at - previous < idle_seconds:
            total += at - previous
        previous = at
    return total


def longest_failure_streak(exit_codes: Iterable[int]) -> int:
    """The most consecutive failed builds (exit code != 0), in time order."""
    longest = current = 0
    for code in exit_codes:
        current = current + 1 if code != 0 else 0
        longest = max(longest, current)
    return longest


def _in_order(events: Iterable[Event]) -> list[Event]:
    return sorted(events, key=lambda e: (e.at, e.order))


def mark(events: Iterable[Event], thresholds: Thresholds) -> list[MarkedEvent]:
    """Events in time order, each snapshot with its change, and the event-level flags:
    `paste_like_jump` on each snapshot that jumped, `repeated_build_failures` on the build that
    completed `failure_streak` failures in a row, `large_single_change` on the (first) largest
    change when the student raises that flag."""
    marked = [MarkedEvent(e) for e in _in_order(events)]
    previous: dict[str, MarkedEvent] = {}
    streak = 0
    for m in marked:
        e = m.event
        if e.kind == "snapshot":
            assert e.filename is not None
            before = previous.get(e.filename)
            if before is not None:
                m.delta = e.size - before.event.size
                if is_paste_jump(m.delta, e.at - before.event.at, thresholds):
                    m.flags.append("paste_like_jump")
            previous[e.filename] = m
        elif e.kind == "build":
            streak = streak + 1 if e.exit_code != 0 else 0
            if streak_flagged(streak, thresholds):
                m.flags.append("repeated_build_failures")
    summary = _summarise(0, marked, thresholds)
    if "large_single_change" in flags(summary, thresholds):
        largest = next(
            m
            for m in marked
            if m.delta is not None and abs(m.delta) == summary.largest_change_bytes
        )
        largest.flags.append("large_single_change")
    return marked


def measure(student_id: int, events: Iterable[Event], thresholds: Thresholds) -> StudentActivity:
    """Every measure of one student from the events themselves (a window, or a test's history)."""
    return _summarise(student_id, mark(events, thresholds), thresholds)


def _summarise(
    student_id: int, marked: Sequence[MarkedEvent], thresholds: Thresholds
) -> StudentActivity:
    a = StudentActivity(student_id)
    latest: dict[str, int] = {}
    build_codes: list[int] = []
    for m in marked:
        e = m.event
        if e.kind == "snapshot":
            a.snapshots += 1
            a.wrote_code = a.wrote_code or e.size > 0
            latest[e.filename or ""] = e.size
            if m.delta is not None:
                a.churn_bytes += abs(m.delta)
                a.largest_change_bytes = max(a.largest_change_bytes, abs(m.delta))
            a.paste_jumps += "paste_like_jump" in m.flags
        elif e.kind == "build":
            a.builds += 1
            a.failed_builds += e.exit_code != 0
            build_codes.append(e.exit_code)
        else:
            a.runs += 1
            a.failed_runs += e.exit_code != 0
    a.files = len(latest)
    a.net_bytes = sum(latest.values())
    if marked:
        a.first_at, a.last_at = marked[0].event.at, marked[-1].event.at
    a.active_seconds = active_seconds((m.event.at for m in marked), thresholds.idle_seconds)
    a.max_consecutive_failed_builds = longest_failure_streak(build_codes)
    return a


# --- graph_data: the original's compute_trends ---------------------------------------------------


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


# --- percentiles over a size histogram -----------------------------------------------------------


def percentile_from_counts(counts: Sequence[tuple[int, int]], percent: float) -> float:
    """numpy.percentile(values, percent) over an ascending (value, occurrences) histogram."""
    below, above, fraction = percentile_positions(sum(n for _, n in counts), percent)
    return interpolate(value_at(counts, below), value_at(counts, above), fraction)


def value_at(counts: Sequence[tuple[int, int]], index: int) -> int:
    """The value at sorted position `index` of an ascending (value, occurrences) histogram."""
    seen = 0
    for value, n in counts:
        seen += n
        if index < seen:
            return value
    raise IndexError(index)
