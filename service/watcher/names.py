"""What a valid class, assignment, student or file name is: one definition for the handlers that
enforce it and the API document that advertises it.

Everything the real collectors send fits (CONTRACT §4): classes are `<subject>-<division>` (filemon
and procmon both derive them so), assignments `hwN` (the Jupyter hook may send `unknown`), file
names are paths below the assignment with `/` written as `@`, in any script, with spaces.
"""

from __future__ import annotations

import re

CLASS_DIV = re.compile(r"[A-Za-z0-9]+-[A-Za-z0-9]+")
HW_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
FILENAME_MAX = 512
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
TEXT_MAX = 8192  # cmdline, cwd and paths of a log
INT64_MAX = 2**63 - 1  # SQLite's INTEGER


def filename_problem(value: str) -> str | None:
    """Why `value` is not an acceptable file name, or None if it is."""
    if len(value) > FILENAME_MAX:
        return f"at most {FILENAME_MAX} characters"
    if CONTROL.search(value):
        return "no control characters"
    if "/" in value or "\\" in value:
        return "no / or \\ (nested paths are joined with @)"
    if any(part in ("", ".", "..") for part in value.split("@")):
        return "no empty, . or .. path parts"
    return None
