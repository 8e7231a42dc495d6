"""Every measure and flag of the insights on hand-built event sequences, on both sides of each
threshold (analytics/insights.py states the rules; tests/service/reference.py applies them to
every event)."""

from __future__ import annotations

import pytest

from tests.service.reference import active_seconds, longest_failure_streak, mark, measure
from watcher.analytics.insights import Thresholds, bytes_per_active_minute, flags
from watcher.records import Event, StudentActivity

T = Thresholds()
MIN = 60


def save(at: int, filename: str, size: int) -> Event:
    return Event(at, "snapshot", (at,), filename=filename, size=size)


def build(at: int, exit_code: int) -> Event:
    return Event(at, "build", (at,), exit_code=exit_code)


def run(at: int, exit_code: int) -> Event:
    return Event(at, "run", (at,), exit_code=exit_code)


@pytest.mark.parametrize(
    ("gap", "counted"), [(5 * MIN - 1, 5 * MIN - 1), (5 * MIN, 0), (5 * MIN + 1, 0), (0, 0)]
)
def test_a_gap_counts_as_work_only_when_shorter_than_the_idle_threshold(gap, counted):
    assert active_seconds([1000, 1000 + gap], T.idle_seconds) == counted
    assert active_seconds([1000, 1010, 1010 + gap], T.idle_seconds) == 10 + counted


def test_working_time_merges_every_kind_of_event_in_time_order():
    events = [save(0, "a.c", 10), build(100, 0), run(150, 0), save(2000, "a.c", 20), build(2030, 1)]
    assert measure(1, events, T).active_seconds == 100 + 50 + 30
    assert measure(1, reversed(events), T).active_seconds == 180


@pytest.mark.parametrize(
    ("codes", "longest"),
    [
        ([], 0),
        ([0, 0], 0),
        ([1, 1, 0, 1], 2),
        ([1, 1, 1, 1, 0, 1, 1, 1, 1, 1], 5),
        ([2, 1, 255], 3),
    ],
)
def test_longest_failure_streak(codes, longest):
    assert longest_failure_streak(codes) == longest


@pytest.mark.parametrize(("failures", "raised"), [(4, False), (5, True), (6, True)])
def test_repeated_build_failures_at_the_streak_threshold(failures, raised):
    events = [build(i, 1) for i in range(failures)] + [build(100, 0), build(101, 1)]
    activity = measure(1, [save(0, "a.c", 1), *events], T)
    assert activity.max_consecutive_failed_builds == failures
    assert ("repeated_build_failures" in flags(activity, T)) is raised
    marked = [m for m in mark(events, T) if "repeated_build_failures" in m.flags]
    assert [m.event.at for m in marked] == ([T.failure_streak - 1] if raised else [])


@pytest.mark.parametrize(
    ("growth", "seconds", "raised"),
    [(499, 5, False), (500, 5, True), (500, 10, True), (500, 11, False), (-600, 1, False)],
)
def test_paste_like_jump_needs_both_size_and_speed(growth, seconds, raised):
    events = [save(0, "a.c", 1000), save(seconds, "a.c", 1000 + growth)]
    activity = measure(1, events, T)
    assert ("paste_like_jump" in flags(activity, T)) is raised
    assert activity.paste_jumps == int(raised)
    jumped = [m.event.at for m in mark(events, T) if "paste_like_jump" in m.flags]
    assert jumped == ([seconds] if raised else [])


def test_a_files_first_save_is_not_a_change():
    # Creating a 5,000-byte file is not churn, a jump or a large change (as legacy churn counts).
    activity = measure(1, [save(0, "a.c", 10), save(1, "b.c", 5000)], T)
    assert (activity.churn_bytes, activity.largest_change_bytes, activity.paste_jumps) == (0, 0, 0)
    assert activity.net_bytes == 5010 and activity.files == 2


@pytest.mark.parametrize(
    ("sizes", "raised"),
    [
        ([0, 140, 200], True),  # churn 200, largest 140 = exactly 70 %
        ([0, 139, 199], False),  # churn 199 < 200
        ([0, 141, 201], True),  # churn 201, largest 141 >= 0.7 * 201 = 140.7
        ([0, 140, 201], False),  # 140 < 140.7
        ([0, 60, 0, 200], False),  # churn 320, largest 200 < 224
    ],
)
def test_large_single_change_share_and_floor(sizes, raised):
    events = [save(i * 600, "a.c", size) for i, size in enumerate(sizes)]
    assert ("large_single_change" in flags(measure(1, events, T), T)) is raised


def test_large_single_change_is_marked_on_the_change_itself():
    events = [save(0, "a.c", 0), save(600, "a.c", 140), save(1200, "a.c", 200)]
    activity = measure(1, events, T)
    assert (activity.churn_bytes, activity.largest_change_bytes) == (200, 140)
    assert [m.flags for m in mark(events, T)] == [[], ["large_single_change"], []]
    assert [m.delta for m in mark(events, T)] == [None, 140, 60]


@pytest.mark.parametrize(
    ("net", "minutes", "raised"),
    [(199, 10, False), (200, 10, True), (200, 29.9, True), (200, 30, False), (5000, 31, False)],
)
def test_fast_writing_bytes_and_minutes(net, minutes, raised):
    activity = StudentActivity(1, snapshots=1, net_bytes=net, active_seconds=int(minutes * 60))
    assert ("fast_writing" in flags(activity, T)) is raised


def test_never_compiled_needs_code_and_no_build():
    wrote = [save(0, "a.c", 30)]
    assert "never_compiled" in flags(measure(1, wrote, T), T)
    assert "never_compiled" not in flags(measure(1, [*wrote, build(5, 1)], T), T)
    # Only empty saves (a created-then-emptied file) is no code written.
    assert "never_compiled" not in flags(measure(1, [save(0, "a.c", 0)], T), T)
    # A run without a build (a Python student) still never compiled.
    assert "never_compiled" in flags(measure(1, [*wrote, run(5, 0)], T), T)


def test_no_activity_only_without_any_event():
    assert flags(StudentActivity(1), T) == ["no_activity"]
    assert "no_activity" not in flags(measure(1, [run(0, 0)], T), T)


def test_thresholds_are_configurable():
    events = [save(0, "a.c", 0), save(20, "a.c", 150)]
    strict = Thresholds(paste_bytes=100, paste_seconds=30, fast_bytes=100, large_min_bytes=100)
    assert flags(measure(1, events, T), T) == ["never_compiled"]
    assert set(flags(measure(1, events, strict), strict)) == {
        "never_compiled", "large_single_change", "fast_writing", "paste_like_jump"
    }  # fmt: skip


def test_counts_and_velocity():
    events = [save(0, "a.c", 100), save(60, "a.c", 40), save(90, "b.c", 20), build(100, 0),
              build(110, 2), run(120, 0), run(130, 1), run(140, 1)]  # fmt: skip
    a = measure(7, events, T)
    assert (a.snapshots, a.files, a.builds, a.failed_builds, a.runs, a.failed_runs) == (
        3, 2, 2, 1, 3, 2)  # fmt: skip
    assert (a.churn_bytes, a.net_bytes, a.largest_change_bytes) == (60, 60, 60)
    assert (a.first_at, a.last_at, a.active_seconds) == (0, 140, 140)
    assert bytes_per_active_minute(a) == round(60 / (140 / 60), 2)
    assert bytes_per_active_minute(StudentActivity(1)) is None


def test_no_change_is_no_large_single_change_even_with_a_zero_floor():
    # Only first saves: churn 0 and no change at all, whatever the thresholds allow.
    zero = Thresholds(large_min_bytes=0)
    events = [save(0, "a.c", 10), save(5, "b.c", 20)]
    assert "large_single_change" not in flags(measure(1, events, zero), zero)
    assert all(m.flags == [] for m in mark(events, zero))
