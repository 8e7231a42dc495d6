"""Schemathesis against the service's own Swagger document: no 5xx on any generated input, and
every documented response matches its schema. Bounded: a fixed number of examples per route."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp

from tests.service.helpers import service_process, snapshot_url

EXAMPLES_PER_ROUTE = os.environ.get("WATCHER_FUZZ_EXAMPLES", "25")
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


async def test_generated_requests_never_get_a_5xx(tmp_path):
    schemathesis = Path(sys.executable).with_name("schemathesis")
    async with service_process(tmp_path / "fuzz.db") as (_, base):
        async with aiohttp.ClientSession() as session:  # some data, so reads have answers
            for i, name in enumerate(["main.c", "src@util.c", "과제.py"]):
                url = base + snapshot_url("os-1", "hw1", "1", name, f"20250310_06{i:02d}00")
                async with session.post(url, json={"bytes": 10 * i}) as response:
                    assert response.status == 200
            async with session.get(base + "/api/docs/swagger.json") as response:
                document = await response.json()
        operations = sum(len(methods) for methods in document["paths"].values())
        process = await asyncio.create_subprocess_exec(
            str(schemathesis), "run", base + "/api/docs/swagger.json",
            "--checks", CHECKS,
            "--phases", "examples,fuzzing",
            "--max-examples", EXAMPLES_PER_ROUTE,
            "--workers", "2",
            "--seed", "20251126",
            "--request-timeout", "10",
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(process.communicate(), 240)
    report = output.decode(errors="replace")
    print(report[-2500:])
    assert process.returncode == 0, report[-6000:]
    # Every documented operation was exercised (schemathesis may skip one it cannot call).
    assert f"Tested: {operations}" in report or f"Tested: {operations - 1}" in report, (
        operations,
        report[-3000:],
    )
    assert " passed" in report and "failed" not in report.split("SUMMARY")[-1], report[-3000:]
