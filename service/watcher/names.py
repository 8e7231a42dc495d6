"""What a valid class, assignment, student, file name or number is: one definition for the handlers
that enforce it and the API document that advertises it.

Everything the real collectors send fits (CONTRACT §4): classes are `<subject>-<division>` (filemon
and procmon both derive them so), assignments `hwN` (the Jupyter hook may send `unknown`), file
names are paths below the assignment with `/` written as `@`, in any script, with spaces.

One thing has one spelling, so one student or file is never stored under several names:

- Numbers (student ids, sizes, exit codes, query values) are ASCII digits with an optional leading
  `-`: no `+`, no spaces, no other scripts' digits (`"٣"` is not 3). Leading zeros are kept by
  the original's lax int (`"0123"` is 123) and so here.
- File names are stored in Unicode normalisation form C (NFC, what Linux editors and browsers
  type); a name that arrives decomposed (NFD) is the same file. Control characters (C0, DEL, C1),
  line and paragraph separators and bidirectional controls (which can make `cod.exe` display as
  `exe.doc`) are refused.
"""

from __future__ import annotations

import re
import unicodedata

CLASS_DIV = re.compile(r"[A-Za-z0-9]+-[A-Za-z0-9]+")
HW_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
FILENAME_MAX = 512
TEXT_MAX = 8192  # cmdline, cwd and paths of a log
INT64_MAX = 2**63 - 1  # SQLite's INTEGER
INT64_DIGITS = len(str(INT64_MAX))

# The largest file size a snapshot may report: 1024 times filemon's default capture limit
# (MAX_CAPTURABLE_FILE_SIZE, 64 KiB), far beyond any source file or notebook a student edits.
# Every maintained total is a sum of sizes or of size changes (each at most this) over one
# assignment's saves, so none can leave SQLite's 64-bit range before 2**(63-26) = 1.4e11 saves:
# years of uninterrupted ingest at this service's peak rate, and a database of several TB.
MAX_FILE_BYTES = 64 * 1024 * 1024

INTEGER_TEXT = re.compile(r"-?[0-9]+")
DECIMAL_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")

# C0, DEL, C1, the line/paragraph separators and the bidirectional controls; written with escapes
# that Python's `re` and the API document's (ECMA) patterns both read.
FORBIDDEN_CHARACTERS = r"\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
FORBIDDEN_IN_NAMES = re.compile(f"[{FORBIDDEN_CHARACTERS}]")


def normal_filename(value: str) -> str:
    """The one spelling a file name is stored and looked up under."""
    return unicodedata.normalize("NFC", value)


def filename_problem(value: str) -> str | None:
    """Why `value` is not an acceptable file name, or None if it is."""
    if len(value) > FILENAME_MAX:
        return f"at most {FILENAME_MAX} characters"
    if FORBIDDEN_IN_NAMES.search(value):
        return "no control, line-separator or bidirectional-control characters"
    if "/" in value or "\\" in value:
        return "no / or \\ (nested paths are joined with @)"
    if any(part in ("", ".", "..") for part in value.split("@")):
        return "no empty, . or .. path parts"
    return None


def integer_digits(text: str) -> int:
    """How many significant digits an INTEGER_TEXT has (leading zeros and sign left out)."""
    return len(text.lstrip("-").lstrip("0"))
