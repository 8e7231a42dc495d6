"""One order of events everywhere (issue 15): within a second, the saves first (in the order they
were posted), then builds and runs by their exact time; the v2 timeline and the ProgSnap2 export
agree, over the exact requests the collectors send."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.service.helpers import BUILD, RUN, STUDENT
from tests.service.test_export import CONTACT, export, main_table
from watcher.config import Settings

TIMELINE = "/api/v2/classes/os-1/assignments/hw1/students/202012345/timeline"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return Settings(db_path=db_path, **CONTACT)


async def test_saves_come_first_within_their_second(client):
    requests = [
        ("logs/build", {**BUILD, "timestamp": "2025-03-10T06:00:00.500000"}),
        ("main.c/20250310_060000", {"bytes": 10}),
        ("logs/run", {**RUN, "timestamp": "2025-03-10T06:00:00.250000"}),
        ("util.c/20250310_060000", {"bytes": 20}),
        ("logs/run", {**RUN, "timestamp": "2025-03-10T06:00:00"}),
        ("logs/build", {**BUILD, "timestamp": "2025-03-10T05:59:59.999999"}),
        ("logs/build", {**BUILD, "timestamp": "2025-03-10T06:00:00.250000"}),
    ]
    for path, body in requests:
        response = await client.post(f"{STUDENT}/{path}", json=body)
        assert response.status == 200, await response.text()
    expected = [
        ("build", "2025-03-10T14:59:59.999999"),
        ("snapshot", "main.c"),
        ("snapshot", "util.c"),
        ("run", "2025-03-10T15:00:00"),
        ("build", "2025-03-10T15:00:00.250000"),  # a build before a run at the same instant
        ("run", "2025-03-10T15:00:00.250000"),
        ("build", "2025-03-10T15:00:00.500000"),
    ]
    timeline = (await (await client.get(TIMELINE)).json())["events"]
    assert [
        (e["kind"], e["filename"] if e["kind"] == "snapshot" else e["time"][:-6]) for e in timeline
    ] == expected
    rows = main_table((await export(client))[0])
    kinds = {"File.Edit": "snapshot", "Compile": "build", "Run.Program": "run"}
    assert [
        (
            kinds[r["EventType"]],
            r["CodeStateSection"] if r["EventType"] == "File.Edit" else r["ServerTimestamp"],
        )
        for r in rows
    ] == expected
    assert [e["id"] for e in timeline] == [int(r["EventID"].split("-")[1]) for r in rows]
