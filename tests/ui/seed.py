"""A small class as the real collectors would report it, posted over HTTP: saves with content
(so the replay has text), builds with a streak of failures, runs, a paste-like jump, a student
who never compiles, one who only builds, one active only late, and one active only in hw2."""

from __future__ import annotations

import base64
import json
import urllib.request
from datetime import datetime, timedelta

CLASS = "os-1"
HW = "hw1"
START_UTC = datetime(2025, 3, 10, 0, 0, 0)  # 09:00 KST
STEADY, STRUGGLING, PASTER, SILENT_BUILDER, NO_BUILDS, LATE, ELSEWHERE = (
    202500001,
    202500002,
    202500003,
    202500004,
    202500005,
    202500006,
    202500007,
)


def request(base: str, path: str, body: dict | None = None, token: str = "") -> dict | str:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as response:
        text = response.read().decode()
        kind = response.headers.get("Content-Type", "")
    return json.loads(text) if kind.startswith("application/json") else text


def _stamp(minutes: float) -> str:
    return (START_UTC + timedelta(minutes=minutes)).strftime("%Y%m%d_%H%M%S")


def _iso(minutes: float) -> str:
    return (START_UTC + timedelta(minutes=minutes)).isoformat()


class Poster:
    def __init__(self, base: str, token: str = "", class_div: str = CLASS) -> None:
        self.base, self.token, self.class_div = base, token, class_div

    def save(self, student: int, name: str, minutes: float, text: str, hw: str = HW) -> None:
        data = text.encode()
        body = {"bytes": len(data), "content_b64": base64.b64encode(data).decode()}
        path = f"/api/{self.class_div}/{hw}/{student}/{name}/{_stamp(minutes)}"
        request(self.base, path, body, self.token)

    def log(self, kind: str, student: int, minutes: float, code: int, hw: str = HW) -> None:
        body = {"timestamp": _iso(minutes), "exit_code": code, "cmdline": "gcc main.c -o main",
                "cwd": "/w", "target_path": "/w/main.c"}  # fmt: skip
        if kind == "build":
            body["binary_path"] = "/usr/bin/x86_64-linux-gnu-gcc-12"
        else:
            body |= {"cmdline": "./main", "target_path": "/w/main", "process_type": "binary"}
        request(self.base, f"/api/{self.class_div}/{hw}/{student}/logs/{kind}", body, self.token)


def program(lines: int, edit: int = -1) -> str:
    """A C file of `lines` statements; `edit` rewrites one of them (a changed line)."""
    body = [
        f"    total += {i} * step;  /* edited */" if i == edit else f"    total += {i};"
        for i in range(lines)
    ]
    return "#include <stdio.h>\nint main(void) {\n    int total = 0;\n" + "\n".join(body) + "\n}\n"


def seed_class(base: str, token: str = "", class_div: str = CLASS) -> None:
    p = Poster(base, token, class_div)
    for i in range(6):  # steady: main.c grows, util.c three versions, builds pass
        p.save(STEADY, "main.c", 4 * i, program(3 + 2 * i, edit=1 if i == 4 else -1))
        if i % 2 == 0:
            p.save(STEADY, "src@util.c", 4 * i + 1, f"int util(void) {{ return {i}; }}\n")
        p.log("build", STEADY, 4 * i + 2, 0)
        p.log("run", STEADY, 4 * i + 3, 0)
    for i in range(5):  # struggling: six failed builds in a row, then one that passes
        p.save(STRUGGLING, "main.c", 3 * i, program(2 + i))
    for i in range(6):
        p.log("build", STRUGGLING, 3 * i + 1, 1)
    p.log("build", STRUGGLING, 30, 0)
    p.log("run", STRUGGLING, 31, 139)
    p.save(PASTER, "main.c", 0, program(2))  # paster: +~900 bytes five seconds later
    p.save(PASTER, "main.c", 5 / 60, program(40))
    p.log("build", PASTER, 2, 0)
    for i in range(3):  # never builds
        p.save(NO_BUILDS, "main.py", 10 * i, "print('hi')\n" * (i + 1))
    for i in range(3):  # builds and runs, never saves (its files live elsewhere)
        p.log("build", SILENT_BUILDER, 5 * i, i % 2)
        p.log("run", SILENT_BUILDER, 5 * i + 1, 0)
    for i in range(3):  # late: everything after 11:00 KST
        p.save(LATE, "main.c", 150 + 5 * i, program(4 + 3 * i))
        p.log("build", LATE, 151 + 5 * i, 0)
    p.log("run", ELSEWHERE, 20, 0, hw="hw2")  # known in the class, silent in hw1
