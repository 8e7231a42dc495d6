"""Pseudonymous subject ids for exports, as the ProgSnap2 spec recommends for shared data sets.

A pseudonym is a keyed hash (HMAC-SHA256) of the student id: the same key gives the same pseudonym
in every export, so data sets exported at different times join on SubjectID, while without the key
nobody can test a guessed student number against it (a plain hash of a 9-digit number could be
reversed by trying them all).
"""

from __future__ import annotations

import hashlib
import hmac
import re

PSEUDONYM_HEX_DIGITS = 16  # 64 bits: no collision among a university's students in practice
# Shorter ids would match ordinary numbers in file names and code (`1`, `2024`): left alone.
MIN_SCRUBBED_DIGITS = 6


def pseudonym(key: bytes, student_id: int) -> str:
    """The SubjectID standing for `student_id` under `key` (16 lowercase hex digits)."""
    digest = hmac.new(key, str(student_id).encode(), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_HEX_DIGITS]


def _id_pattern(student_id: int) -> str | None:
    digits = str(student_id)
    if len(digits) < MIN_SCRUBBED_DIGITS:
        return None
    # Whole numbers only: 202012345 inside 12020123456 is a different number.
    return rf"(?<![0-9]){digits}(?![0-9])"


def scrub_text(text: str, student_id: int, replacement: str) -> str:
    """`text` with the student's own id (as a whole number) replaced, e.g. in a file name
    `202012345_hw1.c`."""
    pattern = _id_pattern(student_id)
    return re.sub(pattern, replacement, text) if pattern else text


def scrub_bytes(data: bytes, student_id: int, replacement: str) -> bytes:
    """`data` with the student's own id replaced (a header comment `/* 202012345 */`).

    Only this student's id is found; names, other students' ids or ids written with separators
    are not, so a pseudonymised export is not anonymous (README, "ProgSnap2 export").
    """
    pattern = _id_pattern(student_id)
    if not pattern:
        return data
    return re.sub(pattern.encode(), replacement.encode(), data)
