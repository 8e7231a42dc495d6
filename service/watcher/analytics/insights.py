"""Instructor insights: what one student did in one assignment, and the flags it raises.

Every measure and flag of the v2 dashboard is defined here, once. Two producers feed these rules:
the store's maintained aggregates (the whole history, read in a few index scans) and `measure`
below (an explicit event sequence: a time window, a test's hand-built history). Both give the same
numbers; the tests hold them to it.

Conventions shared by all rules:

- Times are seconds of the KST wall clock, at one-second resolution (snapshot times have none
  finer; a build at 15:03:00.9 is at 15:03:00).
- A *change* is the difference between two consecutive snapshots of one file, in (time, arrival)
  order. A file's first snapshot is not a change (it has nothing to differ from), exactly as the
  legacy `total_graph_data` counts churn.
- A failed build or run is one whose exit code is not 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

from watcher.analytics.numbers import round2


@dataclass(frozen=True)
class Thresholds:
    """Every tunable of the flags, with the defaults the portal and comparable tools use."""

    idle_minutes: float = 5.0  # a gap this long or longer is a break, not work
    fast_bytes: int = 200  # fast_writing: at least this much code ...
    fast_minutes: float = 30.0  # ... in fewer active minutes than this
    large_share: float = 0.7  # large_single_change: one change >= this share of all churn ...
    large_min_bytes: int = 200  # ... when churn is at least this
    paste_bytes: int = 500  # paste_like_jump: a growth of at least this ...
    paste_seconds: int = 10  # ... within at most this many seconds of the file's previous save
    failure_streak: int = 5  # repeated_build_failures: this many failed builds in a row

    @property
    def idle_seconds(self) -> float:
        return self.idle_minutes * 60


@dataclass
class StudentActivity:
    """The measured facts of one student in one assignment (or one time window of it)."""

    student_id: int
    snapshots: int = 0
    files: int = 0
    first_at: int | None = None
    last_at: int | None = None
    builds: int = 0
    failed_builds: int = 0
    runs: int = 0
    failed_runs: int = 0
    churn_bytes: int = 0
    net_bytes: int = 0
    largest_change_bytes: int = 0
    active_seconds: int = 0
    max_consecutive_failed_builds: int = 0
    paste_jumps: int = 0  # changes that meet the paste thresholds
    wrote_code: bool = False  # at least one snapshot with content (size > 0)


# --- the rules ---------------------------------------------------------------------------------


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


def is_paste_jump(growth: int, seconds: int, thresholds: Thresholds) -> bool:
    """A change that adds at least `paste_bytes` within `paste_seconds` of the file's previous
    save: more code than anyone types in that time."""
    return growth >= thresholds.paste_bytes and seconds <= thresholds.paste_seconds


def is_large_single_change(churn: int, largest: int, thresholds: Thresholds) -> bool:
    """One change is at least `large_share` of all churn, with churn at least `large_min_bytes`
    (and a change at all: a student with only first saves has none)."""
    return (
        largest > 0
        and churn >= thresholds.large_min_bytes
        and largest >= thresholds.large_share * churn
    )


def streak_flagged(position: int, thresholds: Thresholds) -> bool:
    """The failed build at this position of a run of failures completes the flagged streak."""
    return position == thresholds.failure_streak


def active_minutes(activity: StudentActivity) -> float:
    return round2(activity.active_seconds / 60)


def bytes_per_active_minute(activity: StudentActivity) -> float | None:
    """Code velocity: net bytes (the code as it stands) per active minute; none without any."""
    minutes = activity.active_seconds / 60
    return round2(activity.net_bytes / minutes) if minutes else None


def flags(activity: StudentActivity, thresholds: Thresholds) -> list[str]:
    """The flags a student raises, in this order.

    - no_activity: no event at all (a student known in the class, silent in this assignment).
    - never_compiled: wrote code (a snapshot with size > 0) and never built.
    - large_single_change: one change is at least `large_share` of all churn, with churn at
      least `large_min_bytes` (the portal's "one change >= 70 % of all change"; see
      `is_large_single_change`).
    - fast_writing: net bytes >= `fast_bytes` in fewer than `fast_minutes` active minutes (the
      portal's "> 200 bytes in < 30 minutes").
    - paste_like_jump: at least one change that `is_paste_jump`.
    - repeated_build_failures: at least `failure_streak` failed builds in a row.
    """
    a, t = activity, thresholds
    raised: list[str] = []
    if a.snapshots == 0 and a.builds == 0 and a.runs == 0:
        raised.append("no_activity")
    if a.wrote_code and a.builds == 0:
        raised.append("never_compiled")
    if is_large_single_change(a.churn_bytes, a.largest_change_bytes, t):
        raised.append("large_single_change")
    if a.net_bytes >= t.fast_bytes and a.active_seconds < t.fast_minutes * 60:
        raised.append("fast_writing")
    if a.paste_jumps > 0:
        raised.append("paste_like_jump")
    if a.max_consecutive_failed_builds >= t.failure_streak:
        raised.append("repeated_build_failures")
    return raised


# --- measuring an explicit event sequence ------------------------------------------------------

EventKind = Literal["snapshot", "build", "run"]


@dataclass(frozen=True, slots=True)
class Event:
    """One thing a student did. `order` breaks ties between events of one second (arrival);
    `detail` carries what a timeline shows and the rules ignore."""

    at: int
    kind: EventKind
    order: tuple = ()
    filename: str | None = None
    size: int = 0
    exit_code: int = 0
    detail: dict | None = field(default=None, compare=False)


@dataclass(slots=True)
class MarkedEvent:
    """An event with what the rules say about it: its change and the flags it raised."""

    event: Event
    delta: int | None = None  # size change from the file's previous snapshot; None for the first
    flags: list[str] = field(default_factory=list)


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


# --- the dashboard row -------------------------------------------------------------------------

SORT_KEYS = (
    "student_id",
    "snapshots",
    "files",
    "first_activity",
    "last_activity",
    "builds",
    "failed_builds",
    "runs",
    "failed_runs",
    "churn_bytes",
    "net_bytes",
    "largest_change_bytes",
    "active_minutes",
    "bytes_per_active_minute",
    "max_consecutive_failed_builds",
    "flag_count",
)


def dashboard_row(activity: StudentActivity, thresholds: Thresholds, iso) -> dict:
    """One student's dashboard entry. `iso` renders a time (seconds) as ISO 8601 with offset."""
    a = activity
    return {
        "student_id": a.student_id,
        "snapshots": a.snapshots,
        "files": a.files,
        "first_activity": iso(a.first_at) if a.first_at is not None else None,
        "last_activity": iso(a.last_at) if a.last_at is not None else None,
        "builds": a.builds,
        "failed_builds": a.failed_builds,
        "runs": a.runs,
        "failed_runs": a.failed_runs,
        "churn_bytes": a.churn_bytes,
        "net_bytes": a.net_bytes,
        "largest_change_bytes": a.largest_change_bytes,
        "active_minutes": active_minutes(a),
        "bytes_per_active_minute": bytes_per_active_minute(a),
        "max_consecutive_failed_builds": a.max_consecutive_failed_builds,
        "flags": flags(a, thresholds),
    }


def sort_rows(rows: list[dict], key: str, descending: bool) -> list[dict]:
    """Rows ordered by one column; missing values (None) last either way, ties by student."""

    def value(row: dict):
        v = len(row["flags"]) if key == "flag_count" else row[key]
        return (v is None, v if v is not None else 0)

    by_student = sorted(rows, key=lambda r: r["student_id"])
    present = [r for r in by_student if value(r)[0] is False]
    missing = [r for r in by_student if value(r)[0] is True]
    return sorted(present, key=lambda r: value(r)[1], reverse=descending) + missing


def thresholds_dict(thresholds: Thresholds) -> dict:
    return asdict(thresholds)
