"""How a version is named in a URL: the legacy KST stamp, or ISO 8601 (pure functions)."""

from __future__ import annotations

import re
from datetime import datetime

from watcher.timefmt import COMPACT, asked_to_kst_naive, format_time, parse_compact

_COMPACT_RE = re.compile(r"[0-9]{8}_[0-9]{6}")
_ISO_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def stamp_of_ref(raw: str) -> str:
    """A version reference -> the stored KST stamp `YYYYMMDD_HHMMSS`, or ValueError.

    Accepted: the stamp itself (what the legacy timeline lists), or ISO 8601 with seconds,
    e.g. `2025-03-10T15:01:30+09:00` or `2025-03-10T06:01:30Z`; an ISO time without an offset
    is KST wall time, like every other time of this API. A fraction of a second is dropped.
    """
    text = raw.strip()
    if _COMPACT_RE.fullmatch(text):
        parse_compact(text)  # month 13 and the like are errors
        return text
    if not _ISO_RE.fullmatch(text):
        raise ValueError(
            "expected a KST stamp YYYYMMDD_HHMMSS or an ISO 8601 time such as"
            " 2025-03-10T15:01:30+09:00"
        )
    moment = asked_to_kst_naive(datetime.fromisoformat(text.replace("z", "Z")))
    return format_time(moment, COMPACT)
