"""Instructor insights: what one student did in one assignment, and the flags it raises.

Every measure and flag of the v2 dashboard is defined here, once, over facts the store measured
(records.StudentActivity, records.TimelineRow): from its maintained aggregates for the whole
history, or by SQL over the index ranges of a time window. The tests hold both to a reference
model that applies these definitions to every raw event (tests/service/reference.py).

Conventions shared by all rules:

- Times are seconds of the KST wall clock, at one-second resolution (snapshot times have none
  finer; a build at 15:03:00.9 is at 15:03:00).
- A *change* is the difference between two consecutive snapshots of one file, in (time, arrival)
  order. A file's first snapshot is not a change (it has nothing to differ from), exactly as the
  legacy `total_graph_data` counts churn.
- A failed build or run is one whose exit code is not 0.
- Working time is the sum of the gaps between a student's consecutive events of any kind, each
  gap counted only when it is shorter than the idle threshold (a longer one is a break).
- A failure streak is a run of consecutive failed builds in time order.

The store measures those two in SQL (from maintained gap histograms and streak counters, or over a
window's rows); the flags below decide what the measures mean.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from watcher.analytics.numbers import round2
from watcher.records import ChangeFacts, Event, StudentActivity, TimelineRow


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


# --- the rules ---------------------------------------------------------------------------------


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
      portal's "over 200 bytes in under 30 minutes", with 200 itself counted).
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


# --- the timeline ------------------------------------------------------------------------------


@dataclass(slots=True)
class MarkedEvent:
    """An event with what the rules say about it: its change and the flags it raised."""

    event: Event
    delta: int | None = None  # size change from the file's previous snapshot; None for the first
    flags: list[str] = field(default_factory=list)


def mark_page(
    rows: Sequence[TimelineRow],
    failure_positions: Mapping[int, int],
    changes: ChangeFacts | None,
    thresholds: Thresholds,
) -> list[MarkedEvent]:
    """A timeline page's events with the event-level flags, as over the student's whole history:
    `paste_like_jump` on each save that jumped, `repeated_build_failures` on the build that
    completed `failure_streak` failures in a row (`failure_positions`: each failed build's id ->
    its position in its run of failures), `large_single_change` on the first largest change when
    the student raises that flag."""
    marked = []
    for row in rows:
        m = MarkedEvent(row.event, row.delta)
        e = row.event
        ref = e.detail["id"] if e.detail else None
        if e.kind == "snapshot":
            if row.jump is not None and is_paste_jump(*row.jump, thresholds):
                m.flags.append("paste_like_jump")
            if (
                changes is not None
                and ref == changes.first_largest_id
                and is_large_single_change(changes.churn, changes.largest, thresholds)
            ):
                m.flags.append("large_single_change")
        elif (
            e.kind == "build"
            and ref is not None
            and streak_flagged(failure_positions.get(ref, 0), thresholds)
        ):
            m.flags.append("repeated_build_failures")
        marked.append(m)
    return marked


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


def dashboard_row(
    activity: StudentActivity, thresholds: Thresholds, iso: Callable[[int], str]
) -> dict[str, Any]:
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


def sort_rows(rows: list[dict[str, Any]], key: str, descending: bool) -> list[dict[str, Any]]:
    """Rows ordered by one column; missing values (None) last either way, ties by student."""

    def value(row: dict[str, Any]) -> tuple[bool, Any]:
        v = len(row["flags"]) if key == "flag_count" else row[key]
        return (v is None, v if v is not None else 0)

    by_student = sorted(rows, key=lambda r: r["student_id"])
    present = [r for r in by_student if value(r)[0] is False]
    missing = [r for r in by_student if value(r)[0] is True]
    return sorted(present, key=lambda r: value(r)[1], reverse=descending) + missing


def thresholds_dict(thresholds: Thresholds) -> dict[str, Any]:
    return asdict(thresholds)
