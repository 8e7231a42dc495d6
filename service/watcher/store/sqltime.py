"""SQL expressions for the two stored time formats, as Unix seconds of the KST wall clock (read as
if it were UTC, which is what SQLite's strftime('%s', ...) does). The writer computes each event's
`at` column with them and the graph queries bucket by them; the migrations that backfilled `at`
hold the same expressions as literal SQL."""

from __future__ import annotations


def compact_seconds(column: str) -> str:
    """SQL: a YYYYMMDD_HHMMSS column (snapshot times) as Unix seconds."""
    c = column
    return (
        f"CAST(strftime('%s', substr({c},1,4)||'-'||substr({c},5,2)||'-'||substr({c},7,2)||' '"
        f"||substr({c},10,2)||':'||substr({c},12,2)||':'||substr({c},14,2)) AS INTEGER)"
    )


def log_seconds(column: str) -> str:
    """SQL: a stored log time `YYYY-MM-DD HH:MM:SS[.ffffff]` as Unix seconds, the fraction cut."""
    return f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER)"
