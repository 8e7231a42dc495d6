"""The original's time formats and the UTC -> KST rule it applies on ingest (CONTRACT §1, §4).

Snapshot times travel as `YYYYMMDD_HHMMSS` strings: collectors send UTC wall-clock time and the
database keeps KST (UTC+9) wall-clock time, so string order is time order. Log times are stored as
naive KST `YYYY-MM-DD HH:MM:SS.ffffff` text (what SQLAlchemy wrote for the original) and answered
as naive ISO 8601, with the fraction only when it is not zero (Python's isoformat rule).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

KST = timezone(timedelta(hours=9), "KST")
COMPACT = "%Y%m%d_%H%M%S"
STORED_LOG = "%Y-%m-%d %H:%M:%S.%f"
_COMPACT_RE = re.compile(r"\d{8}_\d{6}")


def format_time(moment: datetime, fmt: str) -> str:
    """`moment.strftime(fmt)` with the year always four digits: the C library prints year 271 as
    `271`, which would sort after `1999` and no longer parse as a stored time."""
    return moment.strftime(fmt.replace("%Y", f"{moment.year:04d}"))


def snapshot_timestamp_to_kst(raw: str) -> str:
    """`20250310_060130.c` (collector UTC) -> `20250310_150130` (KST), or ValueError.

    Older filemon versions sent the snapshot file's name, so anything after the first `.` is a
    suffix and ignored, as the original does.
    """
    stamp = raw.split(".", 1)[0]
    if not _COMPACT_RE.fullmatch(stamp):
        raise ValueError("expected YYYYMMDD_HHMMSS, optionally followed by .suffix")
    moment = datetime.strptime(stamp, COMPACT)  # rejects month 13, hour 25, ...
    try:
        return format_time(moment + timedelta(hours=9), COMPACT)
    except OverflowError:
        raise ValueError("timestamp out of range") from None


def parse_compact(stamp: str) -> datetime:
    return datetime.strptime(stamp, COMPACT)


def compact_to_iso(stamp: str) -> str:
    """`20250310_150000` -> `2025-03-10T15:00:00` (naive, as the original's `first`/`last`)."""
    return parse_compact(stamp).isoformat()


def to_kst_naive(moment: datetime) -> datetime:
    """KST wall-clock time of `moment`; a naive value is taken as UTC (collectors run on UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(KST).replace(tzinfo=None)
    except OverflowError:
        raise ValueError("date-time out of range") from None


def store_log_time(moment: datetime) -> str:
    return format_time(to_kst_naive(moment), STORED_LOG)


def stored_log_time_to_iso(stored: str) -> str:
    """Stored `YYYY-MM-DD HH:MM:SS[.ffffff]` -> ISO with `T`, the fraction dropped when zero
    (what Python's isoformat printed for the original). String work: this runs once per log row."""
    if stored.endswith(".000000"):
        stored = stored[:-7]
    return stored.replace(" ", "T", 1)


def window_bound(moment: datetime) -> str:
    """A total_graph_data bound: its wall-clock digits, any offset ignored (as the original)."""
    return format_time(moment, COMPACT)


# --- v2: explicit offsets ------------------------------------------------------------------------
# Stored times are KST wall clock. The insights count them as "seconds": the wall-clock digits read
# as if they were UTC, which is what SQLite's strftime('%s', ...) gives (store/sqltime.py).
_EPOCH = datetime(1970, 1, 1)


def wall_seconds_to_naive(seconds: int) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)


def wall_seconds_to_iso(seconds: int) -> str:
    """`1741618800` -> `2025-03-10T15:00:00+09:00`."""
    return wall_seconds_to_naive(seconds).replace(tzinfo=KST).isoformat()


def compact_to_kst_iso(stamp: str) -> str:
    """`20250310_150000` -> `2025-03-10T15:00:00+09:00`."""
    return parse_compact(stamp).replace(tzinfo=KST).isoformat()


def stored_log_time_to_kst_iso(stored: str) -> str:
    """Stored `2025-03-10 15:03:00.123456` -> `2025-03-10T15:03:00.123456+09:00`."""
    return stored_log_time_to_iso(stored) + "+09:00"


def wall_seconds(moment: datetime) -> int:
    """A date-time as KST wall-clock seconds (an aware value is converted; a naive one is
    already KST), cut to the second."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(KST).replace(tzinfo=None)
    return int((moment - _EPOCH).total_seconds() // 1)
