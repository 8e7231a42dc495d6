"""A one-line progress bar on a terminal, shared by the command-line verbs (export, backup,
restore). The verbs show it only when stderr is a TTY, so logs and pipes never get carriage
returns."""

from __future__ import annotations

import time
from typing import TextIO


class ProgressBar:
    """`exported 1,234 / 5,678 rows [#####.....] 22%` on one stderr line, ten times a second."""

    WIDTH = 30

    def __init__(self, stream: TextIO, total: int, verb: str = "exported", unit: str = "rows"):
        self.stream = stream
        self.total = total
        self.verb = verb
        self.unit = unit
        self._shown = 0.0

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if done < self.total and now - self._shown < 0.1:
            return
        self._shown = now
        share = done / self.total if self.total else 1.0
        filled = round(share * self.WIDTH)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(
            f"\r{self.verb} {done:,} / {self.total:,} {self.unit} [{bar}] {share:4.0%}"
        )
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
