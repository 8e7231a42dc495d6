"""The pure analytics functions, against straightforward reference computations."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from tests.service.reference import code_size_trends, percentile_from_counts, value_at
from watcher.analytics.churn import churn_by_student
from watcher.analytics.numbers import round2
from watcher.analytics.summary import assignment_summary, percentile_indexes
from watcher.records import StudentTotals


def reference_percentile(values: list[int], percent: float) -> float:
    """numpy.percentile's linear method, written out over the sorted list."""
    ordered = sorted(values)
    position = percent / 100 * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def test_percentile_of_the_contract_example():
    counts = sorted(Counter([5, 10, 30, 40, 100, 120, 150]).items())
    assert percentile_from_counts(counts, 90) == pytest.approx(132.0)
    assert percentile_from_counts(counts, 50) == 40


@pytest.mark.parametrize("seed", range(30))
def test_percentile_matches_the_reference_on_random_data(seed):
    rng = random.Random(seed)
    values = [
        rng.choice([0, 7, 100, 4096, rng.randint(0, 65536)]) for _ in range(rng.randint(1, 300))
    ]
    counts = sorted(Counter(values).items())
    for percent in (0, 10, 50, 90, 99, 100):
        assert percentile_from_counts(counts, percent) == pytest.approx(
            reference_percentile(values, percent), abs=1e-9
        )


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        percentile_from_counts([], 50)


@pytest.mark.parametrize(
    ("value", "rounded"), [(123.3333, 123.33), (102.5, 102.5), (58.755, 58.76), (0.125, 0.12)]
)
def test_round2_rounds_like_numpy(value, rounded):
    assert round2(value) == rounded


def test_top_7_order_and_ties():
    students = [
        # Same latest second for 3 and 1: first-seen order (1 before 3) breaks the tie.
        StudentTotals(3, 1, 10, "20250310_120000", 10, first_seen=5),
        StudentTotals(1, 2, 30, "20250310_120000", 20, first_seen=1),
        StudentTotals(2, 1, 5, "20250310_130000", 5, first_seen=2),
    ] + [StudentTotals(10 + i, 1, 1, f"20250301_0{i}0000", 1, first_seen=10 + i) for i in range(6)]
    counts = sorted(Counter([10, 10, 20, 5, 1, 1, 1, 1, 1, 1]).items())
    sizes_at = {i: value_at(counts, i) for i in percentile_indexes(10)}
    summary = assignment_summary(students, sizes_at)
    assert [s["student_num"] for s in summary["top_7"]] == [2, 1, 3, 15, 14, 13, 12]
    assert summary["avg_num"] == round2(10 / 9)


def test_trends_buckets_are_anchored_at_the_first_snapshot():
    rows = [
        ("20250310_150040", "a.c", 10),
        ("20250310_150539", "a.c", 20),  # 4 min 59 s after the first: still bucket 0
        ("20250310_150540", "b.c", 5),  # 5 min after: bucket 1, labelled without seconds
        ("20250310_153000", "a.c", 0),  # deletion; the empty buckets between are omitted
    ]
    assert code_size_trends(rows, 5) == [
        {"timestamp": "20250310_1500", "total_size": 20.0, "size_change": 20.0},
        {"timestamp": "20250310_1505", "total_size": 25.0, "size_change": 5.0},
        {"timestamp": "20250310_1525", "total_size": 5.0, "size_change": -20.0},
    ]


def test_churn_is_last_minus_first_running_churn_per_file():
    # (student, running churn at first and last save in the window); None = no save in it.
    files = [(1, 10, 60), (1, 5, 5), (2, None, None), (3, 0, 0), (4, 7, 9), (4, None, None)]
    assert churn_by_student(files) == [
        {"student_num": 1, "size_change": 50.0},
        {"student_num": 3, "size_change": 0.0},
        {"student_num": 4, "size_change": 2.0},
    ]
