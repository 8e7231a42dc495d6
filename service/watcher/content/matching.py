"""Which snapshot file on the filemon volume belongs to which database row: a pure rule.

filemon reads the clock twice (CONTRACT §4.1): once for the URL (the row's timestamp, stored as
KST) and once, after reading the file, for the snapshot file's name (UTC). The two usually agree,
and otherwise the name is a second or so later.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict, deque
from collections.abc import Hashable, Sequence
from typing import TypeVar

R = TypeVar("R", bound=Hashable)
F = TypeVar("F", bound=Hashable)


def match_snapshots(
    rows: Sequence[tuple[R, int]], files: Sequence[tuple[F, int]], tolerance_s: int
) -> dict[R, F]:
    """Pair rows with files; both are given as (key, UTC Unix seconds). Returns row key -> file key.

    The rule, in two passes, each file going to at most one row:

    1. Exact: a row takes a file with the same second. Rows are served in time order (ties by
       their order in `rows`), files of one second in their order in `files`, so several rows of
       one second pair off with several files of that second.
    2. Nearest: every row still without a file may take a free file at most `tolerance_s` seconds
       away. Candidate pairs are taken smallest gap first; on equal gaps a file *after* the row is
       preferred (filemon names the file after it stamps the URL), then the earlier row, then the
       earlier file. So a file never goes to a row while a free row is strictly closer to it, and
       never to a row while the row has a strictly closer free file.

    A row with no file within the tolerance stays unmatched: it has no content on the volume.
    """
    matched: dict[R, F] = {}
    row_order = sorted(range(len(rows)), key=lambda i: (rows[i][1], i))
    file_order = sorted(range(len(files)), key=lambda j: (files[j][1], j))
    by_second: dict[int, deque[int]] = defaultdict(deque)
    for j in file_order:
        by_second[files[j][1]].append(j)

    waiting: list[int] = []
    for i in row_order:
        same_second = by_second.get(rows[i][1])
        if same_second:
            matched[rows[i][0]] = files[same_second.popleft()][0]
        else:
            waiting.append(i)
    if not waiting or tolerance_s <= 0:
        return matched

    left = {j for queue in by_second.values() for j in queue}
    free = [j for j in file_order if j in left]
    seconds = [files[j][1] for j in free]
    candidates: list[tuple[int, bool, int, int, int]] = []
    for rank, i in enumerate(waiting):
        second = rows[i][1]
        low = bisect_left(seconds, second - tolerance_s)
        high = bisect_right(seconds, second + tolerance_s)
        for position in range(low, high):
            gap = seconds[position] - second
            candidates.append((abs(gap), gap < 0, rank, position, i))
    candidates.sort()
    taken: set[int] = set()
    for _gap, _before, _rank, position, i in candidates:
        key = rows[i][0]
        if key in matched or position in taken:
            continue
        matched[key] = files[free[position]][0]
        taken.add(position)
    return matched
