"""Line diffs between two versions of a file: pure functions over text (no I/O).

Lines are split on `\\n` only (a stray `\\r` or form feed stays part of its line, as in git), and
the last line may lack its newline; that difference is shown with git's `\\ No newline at end of
file` marker. Matching uses difflib without its "junk" heuristic, which would otherwise treat
frequent lines (blank lines, `}`) of longer files as noise and give needlessly large hunks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

NO_NEWLINE = "\\ No newline at end of file"
_LINE = re.compile(r"[^\n]*\n|[^\n]+")


def split_lines(text: str) -> list[str]:
    """`"a\\nb"` -> `["a\\n", "b"]`: every line with its newline, if it has one."""
    return _LINE.findall(text)


def _matcher(old: list[str], new: list[str]) -> SequenceMatcher[str]:
    return SequenceMatcher(None, old, new, autojunk=False)


def line_changes(old: str, new: str) -> tuple[int, int]:
    """(lines added, lines removed) turning `old` into `new`; a changed line counts as both."""
    added = removed = 0
    for tag, i1, i2, j1, j2 in _matcher(split_lines(old), split_lines(new)).get_opcodes():
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    return added, removed


@dataclass
class Hunk:
    """One `@@ -old_start,old_lines +new_start,new_lines @@` block of a unified diff.

    `lines` are the hunk's body lines without newlines, each starting with ` `, `-` or `+`, and
    NO_NEWLINE after a line that had none.
    """

    old_start: int
    old_lines: int
    new_start: int
    new_lines: int
    lines: list[str] = field(default_factory=list)
    added: int = 0
    removed: int = 0

    def header(self) -> str:
        old = _range(self.old_start, self.old_lines)
        return f"@@ -{old} +{_range(self.new_start, self.new_lines)} @@"

    def as_dict(self) -> dict[str, Any]:
        return {
            "header": self.header(),
            "old_start": self.old_start,
            "old_lines": self.old_lines,
            "new_start": self.new_start,
            "new_lines": self.new_lines,
            "added": self.added,
            "removed": self.removed,
            "lines": self.lines,
        }


def _range(start: int, length: int) -> str:
    return str(start) if length == 1 else f"{start},{length}"


def _body(prefix: str, line: str) -> list[str]:
    if line.endswith("\n"):
        return [prefix + line[:-1]]
    return [prefix + line, NO_NEWLINE]


def diff_hunks(old: str, new: str, context: int = 3) -> list[Hunk]:
    """The hunks of a unified diff from `old` to `new` with `context` lines around changes;
    none when the two are equal. Line numbers follow diff -u (an empty range starts one line
    before its position, 0 at the top of the file)."""
    a, b = split_lines(old), split_lines(new)
    hunks = []
    for group in _matcher(a, b).get_grouped_opcodes(context):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        hunk = Hunk(i1 + 1 if i2 > i1 else i1, i2 - i1, j1 + 1 if j2 > j1 else j1, j2 - j1)
        for tag, x1, x2, y1, y2 in group:
            if tag == "equal":
                for line in a[x1:x2]:
                    hunk.lines += _body(" ", line)
                continue
            for line in a[x1:x2]:
                hunk.lines += _body("-", line)
            for line in b[y1:y2]:
                hunk.lines += _body("+", line)
            hunk.removed += x2 - x1
            hunk.added += y2 - y1
        hunks.append(hunk)
    return hunks


def unified_diff(hunks: list[Hunk], from_label: str, to_label: str) -> str:
    """The hunks as a unified diff (what `diff -u` and `git apply` read); empty when no hunks."""
    if not hunks:
        return ""
    out = [f"--- {from_label}", f"+++ {to_label}"]
    for hunk in hunks:
        out.append(hunk.header())
        out.extend(hunk.lines)
    return "\n".join(out) + "\n"


def diff_totals(hunks: list[Hunk]) -> tuple[int, int]:
    """(lines added, lines removed) over all hunks."""
    return sum(h.added for h in hunks), sum(h.removed for h in hunks)
