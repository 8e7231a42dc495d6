"""Collector traffic whose every request can be found again in a database: request `seq` is a
snapshot of `1000 + seq` bytes (every fifth with its content), a build whose command line ends
in `#seq`, or a run of `./main seq`. Ingest keeps the time each request was acknowledged."""

from __future__ import annotations

import asyncio
import base64
import re
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from tests.service.helpers import snapshot_url

CLASS = "os-1"
ASSIGNMENTS = ("hw1", "hw2")
STUDENTS = (202012345, 202099999, 202100001)
FILES = ("main.c", "src@util.c", "notes.txt")
START = datetime(2025, 3, 10, 6, 0, 0, tzinfo=UTC)  # collector time (UTC)
_SEQ = re.compile(r"#(\d+)$|^\./main (\d+)$")


def request(seq: int) -> tuple[str, dict]:
    """(path, JSON body) of request `seq`."""
    hw = ASSIGNMENTS[seq % len(ASSIGNMENTS)]
    student = STUDENTS[(seq // 2) % len(STUDENTS)]
    moment = START + timedelta(seconds=7 * seq)
    base = f"/api/{CLASS}/{hw}/{student}"
    if seq % 10 == 3:
        return base + "/logs/build", {
            "timestamp": moment.replace(tzinfo=None).isoformat(),
            "exit_code": 1 if seq % 3 == 0 else 0,
            "cmdline": f"gcc main.c -o main #{seq}",
            "cwd": "/w",
            "binary_path": "/usr/bin/gcc",
            "target_path": "/w/main.c",
        }
    if seq % 10 == 7:
        return base + "/logs/run", {
            "timestamp": moment.replace(tzinfo=None).isoformat(),
            "exit_code": 0,
            "cmdline": f"./main {seq}",
            "cwd": "/w",
            "target_path": "/w/main",
            "process_type": "binary",
        }
    size = 1000 + seq
    body: dict = {"bytes": size}
    if seq % 5 == 0:
        line = f"int f{seq}(void) {{ return {seq}; }}\n"
        text = (line * (size // len(line) + 1))[:size]
        body["content_b64"] = base64.b64encode(text.encode()).decode()
    filename = FILES[seq % len(FILES)]
    return snapshot_url(CLASS, hw, student, filename, moment.strftime("%Y%m%d_%H%M%S")), body


def seqs_in(db_path: Path) -> set[int]:
    """The requests whose rows a database holds."""
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        found = {size - 1000 for (size,) in conn.execute("SELECT file_size FROM snapshot")}
        for table in ("buildlog", "runlog"):
            for (cmdline,) in conn.execute(f"SELECT cmdline FROM {table}"):
                match = _SEQ.search(cmdline)
                assert match, cmdline
                found.add(int(match.group(1) or match.group(2)))
        return found
    finally:
        conn.close()


@dataclass
class Ingest:
    """POSTs request after request (`concurrency` at a time) until stopped or `total` are sent."""

    base: str
    concurrency: int = 8
    first: int = 0
    sent: set[int] = field(default_factory=set)
    acked: dict[int, float] = field(default_factory=dict)  # seq -> time.monotonic() of the 200
    failed: int = 0

    async def run(self, stop: asyncio.Event, total: int | None = None) -> None:
        counter = iter(range(self.first, self.first + total) if total else _forever(self.first))
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as session:

            async def worker() -> None:
                for seq in counter:
                    if stop.is_set():
                        return
                    path, body = request(seq)
                    self.sent.add(seq)
                    try:
                        async with session.post(self.base + path, json=body) as response:
                            await response.read()
                            if response.status == 200:
                                self.acked[seq] = time.monotonic()
                            else:
                                self.failed += 1
                    except (aiohttp.ClientError, TimeoutError):
                        self.failed += 1  # the server was killed under this request

            await asyncio.gather(*(worker() for _ in range(self.concurrency)))

    def acked_before(self, moment: float) -> set[int]:
        return {seq for seq, at in self.acked.items() if at < moment}


def _forever(start: int):
    seq = start
    while True:
        yield seq
        seq += 1
