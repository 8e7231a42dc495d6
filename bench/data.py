"""Synthetic classes of realistic shape: students × assignments × files × saves."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

CLASS = "os-1"
FIRST_STUDENT = 202000000
START = datetime(2025, 3, 10, 9, 0, 0)  # KST


@dataclass(frozen=True)
class Shape:
    students: int = 200
    assignments: int = 5
    files: int = 10
    saves: int = 100  # per file; 100 -> 1,000,000 snapshots with the defaults

    @property
    def snapshots(self) -> int:
        return self.students * self.assignments * self.files * self.saves


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%d_%H%M%S")


def snapshot_rows(shape: Shape, seed: int = 1) -> Iterator[tuple]:
    """Rows for the writer's snapshot INSERT, in time order (as collectors would send them)."""
    rng = random.Random(seed)
    for save in range(shape.saves):
        for hw in range(shape.assignments):
            for student in range(shape.students):
                for f in range(shape.files):
                    moment = START + timedelta(minutes=3 * save, seconds=5 * f + student % 5)
                    size = max(0, 40 * save + rng.randint(-200, 400))
                    yield (CLASS, f"hw{hw}", FIRST_STUDENT + student, f"file{f}.c",
                           stamp(moment), size)  # fmt: skip


def log_rows(shape: Shape, kind: str, seed: int = 2) -> Iterator[tuple]:
    """Two builds (or runs) per save of a student's assignment, in the writer's column order."""
    rng = random.Random(seed)
    for save in range(shape.saves):
        for hw in range(shape.assignments):
            for student in range(shape.students):
                sid = FIRST_STUDENT + student
                cwd = f"/workspace/{CLASS}-{sid}/hw{hw}"
                for k in range(2):
                    moment = START + timedelta(minutes=3 * save, seconds=30 + k)
                    when = moment.strftime("%Y-%m-%d %H:%M:%S.%f")
                    code = 0 if rng.random() > 0.3 else 1
                    if kind == "buildlog":
                        yield (CLASS, f"hw{hw}", sid, cwd, "/usr/bin/x86_64-linux-gnu-gcc-12",
                               "gcc main.c -o main", code, f"{cwd}/main.c", when)  # fmt: skip
                    else:
                        yield (CLASS, f"hw{hw}", sid, "./main", code, cwd, f"{cwd}/main",
                               "binary", when)  # fmt: skip
