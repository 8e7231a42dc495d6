"""A one-line progress bar on a terminal, shared by the command-line verbs (export, backup,
restore). The verbs show it only when stderr is a TTY, so logs and pipes never get carriage
returns."""

from __future__ import annotations

import time
from typing import TextIO


class ProgressBar:
    """`exported 1,234 / 5,678 rows [#####.....] 22%` on one stderr line, ten times a second.

    A verb with several passes over the same items (the export counts code states, then writes
    rows) names each pass: a new pass starts a new line."""

    WIDTH = 30

    def __init__(self, stream: TextIO, total: int, verb: str = "exported", unit: str = "rows"):
        self.stream = stream
        self.total = total
        self.verb = verb
        self.unit = unit
        self._shown = 0.0
        self._phase = ""

    def __call__(self, done: int, phase: str = "") -> None:
        now = time.monotonic()
        if phase == self._phase and done < self.total and now - self._shown < 0.1:
            return
        if phase != self._phase and self._phase:
            self.stream.write("\n")
        self._shown, self._phase = now, phase
        share = done / self.total if self.total else 1.0
        filled = round(share * self.WIDTH)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        label = phase or self.verb
        unit = f" {self.unit}" if self.unit else ""
        self.stream.write(f"\r{label} {done:,} / {self.total:,}{unit} [{bar}] {share:4.0%}")
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
