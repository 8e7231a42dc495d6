"""Requests as the real collectors send them, and a way to look at the database directly."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def snapshot_url(class_div: str, hw: str, student: str | int, filename: str, stamp: str) -> str:
    """The URL exactly as filemon builds it: plain concatenation, no percent-encoding.

    aiohttp's client (as in filemon) then encodes spaces and non-ASCII characters itself.
    """
    return "/api/" + class_div + "/" + hw + "/" + str(student) + "/" + filename + "/" + stamp


def db_rows(db_path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# procmon's payloads (CONTRACT §4.2) and the Jupyter hook's (§4.3).
BUILD = {
    "timestamp": "2025-03-10T06:03:00.123456",
    "exit_code": 0,
    "cmdline": "gcc main.c -o main",
    "cwd": "/workspace/os-1-202012345/hw1",
    "binary_path": "/usr/bin/x86_64-linux-gnu-gcc-13",
    "target_path": "/workspace/os-1-202012345/hw1/main.c",
}
FAILED_BUILD = {
    "timestamp": "2025-03-10T06:04:00",
    "exit_code": 1,
    "cmdline": "gcc main.c",
    "cwd": "/w",
    "binary_path": "/b",
    "target_path": "/t",
}
RUN = {
    "timestamp": "2025-03-10T06:05:00",
    "exit_code": 0,
    "cmdline": "./main",
    "cwd": "/workspace/os-1-202012345/hw1",
    "target_path": "/workspace/os-1-202012345/hw1/main",
    "process_type": "binary",
}
JUPYTER_RUN = {
    "timestamp": "2025-10-22T20:31:55.613932",
    "exit_code": 0,
    "cmdline": "<unknown>",
    "cwd": "/home/coder/project/hw1",
    "target_path": "ipykernel",
    "process_type": "python",
}
STUDENT = "/api/os-1/hw1/202012345"
