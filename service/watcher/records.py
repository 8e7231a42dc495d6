"""Value types that pass between the layers: the store fills them with facts, analytics turns them
into answers, and neither imports the other."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Scope:
    """A class's assignment: the key of nearly every query."""

    class_div: str
    hw_name: str


@dataclass(frozen=True)
class StudentTotals:
    """One student's snapshots in an assignment, as the store keeps them aggregated."""

    student_id: int
    snapshots: int
    total_bytes: int
    latest_timestamp: str  # KST YYYYMMDD_HHMMSS
    latest_size: int  # size of the first-inserted row at latest_timestamp
    first_seen: int  # rowid of the student's first snapshot: the original's tie-break order


@dataclass(frozen=True)
class StudentSnapshots:
    """One student's snapshots in an assignment over all files (times KST YYYYMMDD_HHMMSS)."""

    count: int
    total_bytes: int | None
    first_timestamp: str | None
    newest: tuple[str, ...]  # the two newest times, newest first (fewer if there are fewer)


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


EventKind = Literal["snapshot", "build", "run"]


@dataclass(frozen=True, slots=True)
class Event:
    """One thing a student did. `at` is its second of the KST wall clock; `order` breaks ties
    between events of one second; `detail` carries what a timeline shows and the rules ignore."""

    at: int
    kind: EventKind
    order: tuple[Any, ...] = ()  # any key comparable with the others'; a timeline's is (stamp, id)
    filename: str | None = None
    size: int = 0
    exit_code: int = 0
    detail: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """An event of a timeline page with the facts its flags depend on: for a save, its change
    from the file's previous save (None for the first) and, when it grew the file by a stored
    jump, (growth in bytes, seconds since that previous save)."""

    event: Event
    delta: int | None = None
    jump: tuple[int, int] | None = None


@dataclass(frozen=True)
class ChangeFacts:
    """A student's changes over the whole history: total churn, the largest change, and the
    first save (in time order) whose change is that large."""

    churn: int
    largest: int
    first_largest_id: int | None = None
