"""Pseudonymous subject ids for exports, as the ProgSnap2 spec recommends for shared data sets.

A pseudonym is a keyed hash (HMAC-SHA256) of the student id: the same key gives the same pseudonym
in every export, so data sets exported at different times join on SubjectID, while without the key
nobody can test a guessed student number against it (a plain hash of a 9-digit number could be
reversed by trying them all).

The student's own id is also replaced wherever the export writes text of theirs (file paths,
compiled paths, code). It is found in every form a number of that value can take: as a whole run
of digits (`202012345`, not inside `12020123456`), with leading zeros (`0202012345`, the form a
database that keeps ids as integers loses), and in any script's decimal digits (full-width
`２０２０１２３４５`, Arabic-Indic, mixed), since each reads as the same number. Written with
separators (`2020-12345`) it is not found.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

PSEUDONYM_HEX_DIGITS = 16  # 64 bits: no collision among a university's students in practice
# Shorter ids would match ordinary numbers in file names and code (`1`, `2024`): left alone.
MIN_SCRUBBED_DIGITS = 6
# More significant digits than any student id (int64): never the id, and never parsed.
_MAX_DIGITS = 19

_DIGIT_RUN = re.compile(r"\d+")  # a str pattern: decimal digits of every script
_ASCII_DIGIT_RUN = re.compile(rb"[0-9]+")


def pseudonym(key: bytes, student_id: int) -> str:
    """The SubjectID standing for `student_id` under `key` (16 lowercase hex digits)."""
    digest = hmac.new(key, str(student_id).encode(), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_HEX_DIGITS]


def _value(run: str) -> int | None:
    """The number a run of decimal digits reads as (any script, leading zeros allowed)."""
    start = 0
    while start < len(run) and unicodedata.digit(run[start]) == 0:
        start += 1
    significant = run[start:]
    if len(significant) > _MAX_DIGITS:
        return None
    return int(significant) if significant else 0


def _scrubbable(student_id: int) -> bool:
    return student_id >= 0 and len(str(student_id)) >= MIN_SCRUBBED_DIGITS


def scrub_text(text: str, student_id: int, replacement: str) -> str:
    """`text` with every whole number equal to the student's id replaced, e.g. in a file name
    `202012345_hw1.c` or `0202012345_hw1.c`."""
    if not _scrubbable(student_id):
        return text

    def swap(match: re.Match[str]) -> str:
        return replacement if _value(match.group()) == student_id else match.group()

    return _DIGIT_RUN.sub(swap, text)


def scrub_bytes(data: bytes, student_id: int, replacement: str) -> bytes:
    """`data` with the student's own id replaced (a header comment `/* 202012345 */`).

    UTF-8 text is scrubbed as text (every digit form); other bytes only where the id is written in
    ASCII digits. Names, other students' ids or ids written with separators are not found, so a
    pseudonymised export is not anonymous (docs/export.md).
    """
    if not _scrubbable(student_id):
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return scrub_text(text, student_id, replacement).encode("utf-8")
    swap_to = replacement.encode()

    def swap(match: re.Match[bytes]) -> bytes:
        return swap_to if _value(match.group().decode()) == student_id else match.group()

    return _ASCII_DIGIT_RUN.sub(swap, data)
