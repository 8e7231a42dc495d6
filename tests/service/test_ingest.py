"""Collector writes: what filemon, procmon and the Jupyter hook send, and what we refuse."""

from __future__ import annotations

import asyncio

import pytest

from tests.service.helpers import BUILD, JUPYTER_RUN, RUN, STUDENT, db_rows, snapshot_url


async def test_snapshot_is_stored_in_kst_with_suffix_stripped(client, db_path):
    url = snapshot_url("os-1", "hw1", "202012345", "main.c", "20250310_060130.c")
    response = await client.post(url, json={"bytes": 150})
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.text() == '{"message":"Snapshot registered successfully"}'
    assert db_rows(db_path, "SELECT class_div, hw_name, student_id, filename, timestamp,"
                   " file_size FROM snapshot") == [
        ("os-1", "hw1", 202012345, "main.c", "20250310_150130", 150)
    ]  # fmt: skip


@pytest.mark.parametrize(
    "filename",
    ["src@app@test.py", "과제.py", "my file.c", "notebook.ipynb", "a+b=c.c", "100%.c"],
)
async def test_file_names_survive_as_sent(client, db_path, filename):
    url = snapshot_url("os-1", "hw1", "202012345", filename, "20250906_023011")
    assert (await client.post(url, json={"bytes": 12})).status == 200
    assert db_rows(db_path, "SELECT filename FROM snapshot") == [(filename,)]
    listed = await (await client.get("/api/os-1/hw1/202012345")).json()
    assert listed == [filename]
    # The timeline of that file is reachable with the same name.
    timeline = await client.get(snapshot_url("os-1", "hw1", "202012345", filename, "")[:-1])
    assert await timeline.json() == ["20250906_113011"]


async def test_student_id_is_an_integer_like_the_original(client, db_path):
    url = snapshot_url("os-1", "hw1", "0123", "main.c", "20250310_060000")
    assert (await client.post(url, json={"bytes": 1})).status == 200
    assert db_rows(db_path, "SELECT student_id FROM snapshot") == [(123,)]


async def test_deletion_is_a_zero_byte_snapshot(client, db_path):
    url = snapshot_url("os-1", "hw1", "1", "gone.c", "20250310_060000")
    assert (await client.post(url, json={"bytes": 0})).status == 200
    assert db_rows(db_path, "SELECT file_size FROM snapshot") == [(0,)]


async def test_same_post_twice_gives_two_rows(client, db_path):
    url = snapshot_url("os-1", "hw1", "1", "a.c", "20250310_060000")
    for _ in range(2):
        assert (await client.post(url, json={"bytes": 5})).status == 200
    assert db_rows(db_path, "SELECT COUNT(*) FROM snapshot") == [(2,)]


async def test_build_log_from_procmon(client, db_path):
    response = await client.post(STUDENT + "/logs/build", json=BUILD)
    assert response.status == 200
    assert await response.json() == {"message": "Build log registered successfully"}
    assert db_rows(db_path, "SELECT * FROM buildlog") == [
        (
            1, "os-1", "hw1", 202012345, BUILD["cwd"], BUILD["binary_path"], BUILD["cmdline"],
            0, BUILD["target_path"], "2025-03-10 15:03:00.123456",
            1741618980,  # `at` (schema 4): the KST wall-clock second, as Unix seconds
        )
    ]  # fmt: skip


async def test_run_logs_from_procmon_and_jupyter(client, db_path):
    for body in (RUN, JUPYTER_RUN):
        response = await client.post(STUDENT + "/logs/run", json=body)
        assert response.status == 200
        assert await response.json() == {"message": "Run log registered successfully"}
    assert db_rows(db_path, "SELECT target_path, process_type, timestamp FROM runlog") == [
        (RUN["target_path"], "binary", "2025-03-10 15:05:00.000000"),
        ("ipykernel", "python", "2025-10-23 05:31:55.613932"),
    ]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2025-03-10T06:03:00", "2025-03-10 15:03:00.000000"),  # naive = UTC (collectors)
        ("2025-03-10T15:03:00+09:00", "2025-03-10 15:03:00.000000"),  # aware: converted
        ("2025-03-10T06:03:00Z", "2025-03-10 15:03:00.000000"),
        ("2025-03-10 06:03", "2025-03-10 15:03:00.000000"),
        ("2025-03-10", "2025-03-10 09:00:00.000000"),
        (1741586580, "2025-03-10 15:03:00.000000"),  # Unix seconds
        (1741586580000, "2025-03-10 15:03:00.000000"),  # Unix milliseconds
    ],
)
async def test_log_timestamp_forms(client, db_path, sent, stored):
    response = await client.post(STUDENT + "/logs/build", json={**BUILD, "timestamp": sent})
    assert response.status == 200, await response.text()
    assert db_rows(db_path, "SELECT timestamp FROM buildlog") == [(stored,)]


async def test_extra_body_keys_are_ignored(client, db_path):
    url = snapshot_url("os-1", "hw1", "1", "a.c", "20250310_060000")
    assert (await client.post(url, json={"bytes": 3, "extra": True})).status == 200
    assert db_rows(db_path, "SELECT COUNT(*) FROM snapshot") == [(1,)]


async def test_500_concurrent_posts_are_each_stored_once(client, db_path):
    async def post(i: int) -> int:
        url = snapshot_url("os-1", "hw1", str(1000 + i % 50), f"f{i}.c", "20250310_060000")
        return (await client.post(url, json={"bytes": i})).status

    statuses = await asyncio.gather(*(post(i) for i in range(500)))
    assert statuses == [200] * 500
    stored = db_rows(db_path, "SELECT filename, file_size FROM snapshot ORDER BY file_size")
    assert stored == [(f"f{i}.c", i) for i in range(500)]
    # Group commit really grouped: far fewer transactions than requests.
    metrics = await (await client.get("/metrics")).text()
    batches = next(
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("watcher_writer_batch_size_count")
    )
    assert 1 <= batches < 500


# --- refused input: a clear 4xx, nothing stored ------------------------------------------------


async def _refused(client, db_path, method, url, status=422, **kwargs) -> dict | list:
    response = await client.request(method, url, **kwargs)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    for table in ("snapshot", "buildlog", "runlog"):
        assert db_rows(db_path, f"SELECT COUNT(*) FROM {table}") == [(0,)]
    return (await response.json())["detail"]


@pytest.mark.parametrize(
    "stamp", ["2025-03-10", "20250310_0601", "20251310_060000", "20250310_246000", "now", "x.c"]
)
async def test_bad_snapshot_timestamp_is_422(client, db_path, stamp):
    url = snapshot_url("os-1", "hw1", "1", "a.c", stamp)
    detail = await _refused(client, db_path, "POST", url, json={"bytes": 1})
    assert detail[0]["loc"] == ["path", "timestamp"]
    assert detail[0]["input"] == stamp


async def test_out_of_range_timestamp_is_422_not_500(client, db_path):
    url = snapshot_url("os-1", "hw1", "1", "a.c", "99991231_235959")
    detail = await _refused(client, db_path, "POST", url, json={"bytes": 1})
    assert detail[0]["loc"] == ["path", "timestamp"]


async def test_non_numeric_student_id_is_422_like_fastapi(client, db_path):
    detail = await _refused(client, db_path, "POST", STUDENT.replace("202012345", "unknown")
                            + "/logs/run", json=JUPYTER_RUN)  # fmt: skip
    assert detail == [
        {
            "type": "int_parsing",
            "loc": ["path", "student_id"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "unknown",
        }
    ]


@pytest.mark.parametrize(
    ("body", "kind", "loc"),
    [
        ({}, "missing", ["body", "bytes"]),
        ({"bytes": "many"}, "int_parsing", ["body", "bytes"]),
        ({"bytes": 1.5}, "int_from_float", ["body", "bytes"]),
        ({"bytes": None}, "int_type", ["body", "bytes"]),
        ({"bytes": -1}, "greater_than_equal", ["body", "bytes"]),
        ([1, 2], "model_attributes_type", ["body"]),
    ],
)
async def test_bad_snapshot_body_is_422(client, db_path, body, kind, loc):
    url = snapshot_url("os-1", "hw1", "1", "a.c", "20250310_060000")
    detail = await _refused(client, db_path, "POST", url, json=body)
    assert (detail[0]["type"], detail[0]["loc"]) == (kind, loc)


async def test_missing_or_broken_json_body_is_422(client, db_path):
    url = snapshot_url("os-1", "hw1", "1", "a.c", "20250310_060000")
    detail = await _refused(client, db_path, "POST", url)
    assert detail[0]["type"] == "missing"
    detail = await _refused(client, db_path, "POST", url, data=b'{"bytes": ',
                            headers={"Content-Type": "application/json"})  # fmt: skip
    assert detail[0]["type"] == "json_invalid"


async def test_log_body_errors_name_every_bad_field(client, db_path):
    body = {**BUILD, "timestamp": None, "exit_code": "zero", "cmdline": 7}
    del body["cwd"]
    detail = await _refused(client, db_path, "POST", STUDENT + "/logs/build", json=body)
    assert [(d["type"], d["loc"][-1]) for d in detail] == [
        ("datetime_type", "timestamp"),
        ("int_parsing", "exit_code"),
        ("string_type", "cmdline"),
        ("missing", "cwd"),
    ]


@pytest.mark.parametrize("stamp", ["yesterday", "2025-13-01T00:00:00", "9999-12-31T23:59:59"])
async def test_bad_log_timestamp_is_422(client, db_path, stamp):
    body = {**RUN, "timestamp": stamp}
    detail = await _refused(client, db_path, "POST", STUDENT + "/logs/run", json=body)
    assert detail[0]["loc"] == ["body", "timestamp"]


async def test_oversized_body_is_413_json(aiohttp_client, tmp_path):
    from watcher.app import create_app
    from watcher.config import Settings

    client = await aiohttp_client(
        create_app(Settings(db_path=tmp_path / "w.db", max_body_bytes=64))
    )
    url = snapshot_url("os-1", "hw1", "1", "a.c", "20250310_060000")
    response = await client.post(url, data=b"{" + b" " * 200 + b'"bytes": 1}')
    assert response.status == 413
    assert "detail" in await response.json()
    assert db_rows(tmp_path / "w.db", "SELECT COUNT(*) FROM snapshot") == [(0,)]
