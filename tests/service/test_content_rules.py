"""The snapshot-content rules as pure functions: file matching, version references, line diffs."""

from __future__ import annotations

import subprocess

import pytest

from watcher.analytics.diffs import diff_hunks, diff_totals, line_changes, unified_diff
from watcher.content.matching import match_snapshots
from watcher.content.stamps import stamp_of_ref
from watcher.content.volume import UnsafeName, check_component, utc_seconds_of_name
from watcher.timefmt import compact_to_kst_iso

T = 1_741_586_400  # 2025-03-10 06:00:00 UTC


def test_same_second_is_matched():
    assert match_snapshots([("r", T)], [("f", T)], 3) == {"r": "f"}


@pytest.mark.parametrize(
    ("gap", "matched"), [(-4, False), (-3, True), (-1, True), (1, True), (3, True), (4, False)]
)
def test_nearest_file_within_the_tolerance_only(gap, matched):
    result = match_snapshots([("r", T)], [("f", T + gap)], 3)
    assert result == ({"r": "f"} if matched else {})


def test_zero_tolerance_matches_exact_seconds_only():
    assert match_snapshots([("a", T), ("b", T + 10)], [("x", T), ("y", T + 11)], 0) == {"a": "x"}


def test_exact_matches_claim_their_files_first():
    # Row b is exactly at file y's second; row a (1 s before) must not take y, it takes x.
    rows = [("a", T), ("b", T + 1)]
    files = [("x", T - 2), ("y", T + 1)]
    assert match_snapshots(rows, files, 3) == {"a": "x", "b": "y"}


def test_a_file_goes_to_the_closer_row():
    # File x is 1 s from b and 2 s from a: b gets it, a falls back to z.
    rows = [("a", T), ("b", T + 3)]
    files = [("x", T + 2), ("z", T - 3)]
    assert match_snapshots(rows, files, 3) == {"b": "x", "a": "z"}


def test_never_a_file_of_another_row():
    # One file, two rows equally far: only one row gets it (the file after the row wins).
    rows = [("a", T - 1), ("b", T + 1)]
    assert match_snapshots(rows, [("x", T)], 3) == {"a": "x"}


def test_equal_gaps_prefer_the_file_after_the_row():
    # filemon names the file after stamping the URL, so a later file is the likelier one.
    assert match_snapshots([("r", T)], [("before", T - 1), ("after", T + 1)], 3) == {"r": "after"}


def test_rows_of_one_second_pair_with_files_of_that_second_and_the_next():
    rows = [(1, T), (2, T)]
    assert match_snapshots(rows, [("x", T), ("y", T + 1)], 3) == {1: "x", 2: "y"}


def test_saves_of_one_second_with_one_file_the_last_takes_it():
    # filemon's second write of the second replaced the first: the earlier row has no content.
    assert match_snapshots([(1, T), (2, T)], [("x", T)], 3) == {2: "x"}
    assert match_snapshots([(1, T), (2, T), (3, T)], [("x", T + 1)], 3) == {3: "x"}


def test_pairs_never_cross():
    # b is exactly at x's second, but a (earlier) needs x: a later save never gets an earlier file.
    rows = [("a", T), ("b", T + 1)]
    assert match_snapshots(rows, [("x", T + 1), ("y", T + 2)], 3) == {"a": "x", "b": "y"}


def _brute_force(rows, files, tolerance):
    """Every non-crossing pairing, best by the documented preferences."""
    order = sorted(range(len(rows)), key=lambda i: (rows[i][1], i))
    by_time = sorted(range(len(files)), key=lambda j: (files[j][1], j))
    best = None

    def walk(r, f, chosen):
        nonlocal best
        if r == len(order):
            gaps = [files[by_time[j]][1] - rows[order[i]][1] for i, j in chosen]
            score = (len(chosen), -sum(map(abs, gaps)), -sum(g < 0 for g in gaps),
                     sum(i for i, _ in chosen))  # fmt: skip
            if best is None or score > best[0]:
                best = (score, chosen)
            return
        walk(r + 1, f, chosen)
        for j in range(f, len(by_time)):
            if abs(files[by_time[j]][1] - rows[order[r]][1]) <= tolerance:
                walk(r + 1, j + 1, [*chosen, (r, j)])

    walk(0, 0, [])
    return best[0]


def test_the_pairing_is_the_best_by_the_documented_preferences():
    import random

    rng = random.Random(15)
    for _ in range(300):
        rows = [(i, T + rng.randint(0, 8)) for i in range(rng.randint(0, 6))]
        files = [(f"f{j}", T + rng.randint(-1, 9)) for j in range(rng.randint(0, 6))]
        got = match_snapshots(rows, files, 2)
        assert len(set(got.values())) == len(got)  # a file goes to one row
        seconds = dict(rows) | dict(files)
        assert all(abs(seconds[f] - seconds[r]) <= 2 for r, f in got.items())
        order = sorted(range(len(rows)), key=lambda i: (rows[i][1], i))
        rank = {rows[i][0]: n for n, i in enumerate(order)}
        by_time = sorted(range(len(files)), key=lambda j: (files[j][1], j))
        position = {files[j][0]: n for n, j in enumerate(by_time)}
        pairs = sorted((rank[r], position[f]) for r, f in got.items())
        assert [p for _, p in pairs] == sorted(p for _, p in pairs)  # never crossing
        gaps = [seconds[f] - seconds[r] for r, f in got.items()]
        score = (len(got), -sum(map(abs, gaps)), -sum(g < 0 for g in gaps),
                 sum(rank[r] for r in got))  # fmt: skip
        assert score == _brute_force(rows, files, 2), (rows, files, got)


def test_a_long_history_of_double_saves():
    rows = [(i, T + i // 2) for i in range(20_000)]  # two saves every second, one file each
    files = [(j, T + j) for j in range(10_000)]
    got = match_snapshots(rows, files, 3)
    assert got == {2 * j + 1: j for j in range(10_000)}  # each second's last save


def test_skewed_sequence_matches_in_order():
    rows = [(i, T + 10 * i) for i in range(5)]
    files = [(f"f{i}", T + 10 * i + (1 if i % 2 else -1)) for i in range(5)]
    assert match_snapshots(rows, files, 3) == {i: f"f{i}" for i in range(5)}


@pytest.mark.parametrize(
    ("ref", "stamp"),
    [
        ("20250310_150130", "20250310_150130"),
        ("2025-03-10T15:01:30+09:00", "20250310_150130"),
        ("2025-03-10T06:01:30Z", "20250310_150130"),
        ("2025-03-10T06:01:30+00:00", "20250310_150130"),
        ("2025-03-10T15:01:30.900", "20250310_150130"),  # naive = KST; fraction dropped
    ],
)
def test_version_references(ref, stamp):
    assert stamp_of_ref(ref) == stamp


@pytest.mark.parametrize("ref", ["", "latest", "20251310_150130", "2025-03-10", "20250310_1501"])
def test_bad_version_references(ref):
    with pytest.raises(ValueError):
        stamp_of_ref(ref)


def test_a_stamp_is_shown_with_the_kst_offset():
    assert compact_to_kst_iso("20250310_150130") == "2025-03-10T15:01:30+09:00"


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b", "/etc", "a\x00b"])
def test_unsafe_components(name):
    with pytest.raises(UnsafeName):
        check_component(name)


def test_snapshot_file_names():
    assert utc_seconds_of_name("20250310_060000.c") == T
    assert utc_seconds_of_name("20250310_060000") == T
    assert utc_seconds_of_name("20250310_060000.c.swp") == T
    assert utc_seconds_of_name("notes.txt") is None
    assert utc_seconds_of_name("20251310_060000.c") is None


def test_line_changes():
    assert line_changes("", "a\nb\n") == (2, 0)
    assert line_changes("a\nb\n", "") == (0, 2)
    assert line_changes("a\nb\nc\n", "a\nB\nc\n") == (1, 1)
    assert line_changes("x", "x\n") == (1, 1)  # the newline at the end is a change
    assert line_changes("same\n", "same\n") == (0, 0)


def test_hunks_count_and_render_like_diff_u():
    old = "".join(f"{i}\n" for i in range(1, 21))
    new = old.replace("2\n", "two\n", 1).replace("19\n", "19\nnew\n")
    hunks = diff_hunks(old, new)
    assert [h.header() for h in hunks] == ["@@ -1,5 +1,5 @@", "@@ -17,4 +17,5 @@"]
    assert diff_totals(hunks) == (2, 1)
    assert hunks[0].lines == [" 1", "-2", "+two", " 3", " 4", " 5"]
    assert diff_hunks(old, old) == []
    assert unified_diff([], "a", "b") == ""


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("", "a\nb\n"),
        ("a\nb\nc\n", "a\nB\nc\nd"),
        ("x", "x\n"),
        ("x\n", "y"),
        ("int main() {\n}\n", "int main() {\n  return 0;\n}\n"),
        ("한글\n", "한글\n변경\n"),
    ],
)
def test_unified_diff_applies_with_patch(tmp_path, old, new):
    target = tmp_path / "f"
    target.write_text(old, encoding="utf-8")
    patch = unified_diff(diff_hunks(old, new), "a/f", "b/f")
    (tmp_path / "p").write_text(patch, encoding="utf-8")
    subprocess.run(["patch", "-s", str(target), str(tmp_path / "p")], check=True)
    assert target.read_text(encoding="utf-8") == new
