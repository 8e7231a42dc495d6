"""Which snapshot file on the filemon volume belongs to which database row: a pure rule.

filemon reads the clock twice (CONTRACT §4.1): once for the URL (the row's timestamp, stored as
KST) and once, after reading the file, for the snapshot file's name (UTC). The two usually agree,
and otherwise the name is a second or so later. Files are named by the second, so two saves of one
file in one second leave one file: the second write replaced the first.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Sequence
from typing import TypeVar

R = TypeVar("R", bound=Hashable)
F = TypeVar("F", bound=Hashable)

# A partial matching: (score, chain). The score compares as a tuple (see match_snapshots); the
# chain is a linked list (row index, file position, previous chain) so extending one is O(1).
_Chain = tuple[int, int, "_Chain"] | None
_Best = tuple[tuple[int, int, int, int], _Chain]
_NOTHING: _Best = ((0, 0, 0, 0), None)


def _better(a: _Best, b: _Best) -> _Best:
    return b if b[0] > a[0] else a


def match_snapshots(
    rows: Sequence[tuple[R, int]], files: Sequence[tuple[F, int]], tolerance_s: int
) -> dict[R, F]:
    """Pair rows with files; both are given as (key, UTC Unix seconds), rows in the order they were
    posted within a second (their ids). Returns row key -> file key.

    filemon saves one file at a time, so its files follow its rows in order: the pairing never
    crosses (a later row never gets an earlier file than an earlier row), each file goes to one row
    and a row only takes a file at most `tolerance_s` seconds away. Among such pairings the one
    chosen has, in this order of importance:

    1. the most pairs (every file that can belong to a row does);
    2. the smallest total gap between rows and their files;
    3. the fewest files named *before* their row (filemon names the file after it stamps the URL);
    4. the later rows paired: when two saves of a file share a second and only one file is left,
       it is the last save's (its write replaced the earlier one's), so the earlier row has no
       content of its own.

    A row with no file left within the tolerance stays unmatched: it has no content on the volume.
    """
    row_order = sorted(range(len(rows)), key=lambda i: (rows[i][1], i))
    file_order = sorted(range(len(files)), key=lambda j: (files[j][1], j))
    seconds = [files[j][1] for j in file_order]
    # `floor`: the best pairing whose last file lies before every window still to come; `recent`:
    # file position -> the best pairing ending exactly at that file (positions in recent windows).
    floor: _Best = _NOTHING
    recent: dict[int, _Best] = {}
    for rank, i in enumerate(row_order):
        second = rows[i][1]
        low = bisect_left(seconds, second - tolerance_s)
        high = bisect_right(seconds, second + tolerance_s)
        for position in [p for p in recent if p < low]:
            floor = _better(floor, recent.pop(position))
        extended: dict[int, _Best] = {}
        before = floor  # best pairing that ends before `position`
        for position in range(low, high):
            gap = seconds[position] - second
            (pairs, negative_gap, negative_early, ranks), chain = before
            score = (pairs + 1, negative_gap - abs(gap), negative_early - (gap < 0), ranks + rank)
            extended[position] = (score, (i, position, chain))
            if position in recent:
                before = _better(before, recent[position])
        for position, candidate in extended.items():
            recent[position] = _better(recent.get(position, _NOTHING), candidate)
    best = floor
    for candidate in recent.values():
        best = _better(best, candidate)
    matched: dict[R, F] = {}
    chain = best[1]
    while chain is not None:
        i, position, chain = chain
        matched[rows[i][0]] = files[file_order[position]][0]
    return matched
