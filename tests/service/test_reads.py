"""The legacy read routes against CONTRACT §1's verified examples, reproduced exactly."""

from __future__ import annotations

import pytest

from tests.service.helpers import BUILD, FAILED_BUILD, RUN, STUDENT

pytestmark = pytest.mark.usefixtures("contract_example")


async def get_json(client, path: str, status: int = 200):
    response = await client.get(path)
    assert response.status == status, await response.text()
    assert response.headers["Content-Type"] == "application/json"
    return await response.json()


async def test_file_list_is_sorted(client):
    assert await get_json(client, STUDENT) == ["main.c", "src@util.c"]
    assert await get_json(client, "/api/os-1/hw1/424242") == []


async def test_file_timeline_in_kst(client):
    expected = ["20250310_150000", "20250310_150130", "20250310_151200"]
    assert await get_json(client, STUDENT + "/main.c") == expected
    assert await get_json(client, STUDENT + "/nope.c") == []


async def test_file_snapshot_avg(client):
    assert await get_json(client, "/api/snapshot_avg/os-1/hw1/202012345/main.c") == {
        "snapshot_avg": 3,
        "snapshot_size_avg": 123.33,
    }
    assert await get_json(client, "/api/snapshot_avg/os-1/hw1/202012345/none.c") == {
        "snapshot_avg": None,
        "snapshot_size_avg": None,
    }


async def test_assignment_snapshot_avg(client):
    response = await client.get("/api/assignments/snapshot_avg/os-1/hw1/202012345")
    assert await response.text() == (
        '{"snapshot_avg":4,"snapshot_size_avg":102.5,"first":"2025-03-10T15:00:00",'
        '"last":"2025-03-10T15:12:00","total":720,"interval":420}'
    )
    empty = await get_json(client, "/api/assignments/snapshot_avg/os-1/hw9/202012345")
    assert empty == dict.fromkeys(
        ["snapshot_avg", "snapshot_size_avg", "first", "last", "total", "interval"]
    )


async def test_graph_data_interval_5(client):
    response = await client.get("/api/graph_data/os-1/hw1/202012345/5")
    assert await response.text() == (
        '{"trends":[{"timestamp":"20250310_1500","total_size":150.0,"size_change":150.0},'
        '{"timestamp":"20250310_1505","total_size":190.0,"size_change":40.0},'
        '{"timestamp":"20250310_1510","total_size":160.0,"size_change":-30.0}]}'
    )


async def test_graph_data_large_interval_and_empty(client):
    assert await get_json(client, "/api/graph_data/os-1/hw1/202012345/60") == {
        "trends": [{"timestamp": "20250310_1500", "total_size": 160.0, "size_change": 160.0}]
    }
    assert await get_json(client, "/api/graph_data/os-1/hw1/1/60") == {"trends": []}


@pytest.mark.parametrize("interval", ["0", "-5"])
async def test_graph_data_non_positive_interval_is_400(client, interval):
    detail = await get_json(client, f"/api/graph_data/os-1/hw1/202012345/{interval}", 400)
    assert detail == {"detail": "Interval must be a positive integer."}


async def test_graph_data_non_integer_interval_is_422(client):
    body = await get_json(client, "/api/graph_data/os-1/hw1/202012345/hour", 422)
    assert body["detail"][0]["loc"] == ["path", "interval"]


async def test_assignment_summary(client):
    response = await client.get("/api/assignment/os-1/hw1")
    assert await response.text() == (
        '{"percentile_90":132.0,"percentile_50":40.0,"avg_bytes":58.75,"avg_num":3.5,'
        '"top_7":[{"student_num":202099999,"timestamp":"20250310_160200","code_size":5},'
        '{"student_num":202012345,"timestamp":"20250310_151200","code_size":120}]}'
    )


async def test_assignment_summary_empty(client):
    assert await get_json(client, "/api/assignment/os-1/hw9") == {
        "percentile_90": None,
        "percentile_50": None,
        "avg_bytes": None,
        "avg_num": None,
        "top_7": [],
    }


async def test_total_graph_data_full_day(client):
    response = await client.get(
        "/api/total_graph_data/os-1/hw1/2025-03-10T00:00:00/2025-03-10T23:59:59"
    )
    assert await response.text() == (
        '{"results":[{"student_num":202012345,"size_change":80.0},'
        '{"student_num":202099999,"size_change":20.0}]}'
    )


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Inclusive at both ends: 15:01:30 is the first snapshot counted (baseline 150).
        ("2025-03-10T15:01:30", "2025-03-10T15:12:00", [[202012345, 30.0]]),
        # Offsets are ignored: the wall-clock digits are KST already (as the original).
        ("2025-03-10T15:00:00+02:00", "2025-03-10 15:01:30Z", [[202012345, 50.0]]),
        # A date-only end means 00:00:00 and excludes that day.
        ("2025-03-09", "2025-03-10", []),
        ("2025-03-10", "2025-03-11", [[202012345, 80.0], [202099999, 20.0]]),
        # Unix seconds are UTC wall clock.
        ("1741622400", "1741622520", [[202099999, 20.0]]),
    ],
)
async def test_total_graph_data_windows(client, start, end, expected):
    body = await get_json(client, f"/api/total_graph_data/os-1/hw1/{start}/{end}")
    assert [[r["student_num"], r["size_change"]] for r in body["results"]] == expected


@pytest.mark.parametrize("bound", ["20250310_000000", "today", "2025-02-30"])
async def test_total_graph_data_bad_bound_is_422(client, bound):
    body = await get_json(client, f"/api/total_graph_data/os-1/hw1/{bound}/2025-03-11", 422)
    assert body["detail"][0]["loc"] == ["path", "start"]


async def test_build_and_run_logs_newest_first(client):
    for body in (BUILD, FAILED_BUILD):
        assert (await client.post(STUDENT + "/logs/build", json=body)).status == 200
    assert (await client.post(STUDENT + "/logs/run", json=RUN)).status == 200
    response = await client.get(STUDENT + "/logs/build")
    assert await response.text() == (
        '[{"binary_path":"/b","cmdline":"gcc main.c","exit_code":1,"cwd":"/w","target_path":"/t",'
        '"timestamp":"2025-03-10T15:04:00","file_size":0},{"binary_path":'
        '"/usr/bin/x86_64-linux-gnu-gcc-13","cmdline":"gcc main.c -o main","exit_code":0,'
        '"cwd":"/workspace/os-1-202012345/hw1","target_path":"/workspace/os-1-202012345/hw1/main.c",'
        '"timestamp":"2025-03-10T15:03:00.123456","file_size":0}]'
    )
    response = await client.get(STUDENT + "/logs/run")
    assert await response.text() == (
        '[{"cmdline":"./main","exit_code":0,"cwd":"/workspace/os-1-202012345/hw1",'
        '"target_path":"/workspace/os-1-202012345/hw1/main","process_type":"binary",'
        '"timestamp":"2025-03-10T15:05:00","file_size":0}]'
    )
    assert await get_json(client, "/api/build_avg/os-1/hw1") == {"avg_count": 2.0}
    assert await get_json(client, "/api/run_avg/os-1/hw1") == {"avg_count": 1.0}
    assert await get_json(client, "/api/run_avg/os-1/hw9") == {"avg_count": 0.0}


async def test_logs_are_fresh_and_honour_limit(client):
    assert await get_json(client, STUDENT + "/logs/build") == []
    for minute in range(5):
        body = {**BUILD, "timestamp": f"2025-03-10T06:0{minute}:00"}
        assert (await client.post(STUDENT + "/logs/build", json=body)).status == 200
        # The original cached this list for 10 minutes; every new log shows at once here.
        assert len(await get_json(client, STUDENT + "/logs/build")) == minute + 1
    limited = await get_json(client, STUDENT + "/logs/build?limit=2")
    assert [item["timestamp"] for item in limited] == ["2025-03-10T15:04:00", "2025-03-10T15:03:00"]
    assert len(await get_json(client, STUDENT + "/logs/build?limit=1000")) == 5
    body = await get_json(client, STUDENT + "/logs/build?limit=0", 422)
    assert body["detail"][0]["loc"] == ["query", "limit"]


async def test_build_avg_over_several_students(client):
    for student in (1, 2, 2, 3, 3, 3):
        body = {**BUILD}
        assert (await client.post(f"/api/os-1/hw2/{student}/logs/build", json=body)).status == 200
    assert await get_json(client, "/api/build_avg/os-1/hw2") == {"avg_count": 2.0}
    assert (await client.post("/api/os-1/hw2/4/logs/build", json=BUILD)).status == 200
    assert await get_json(client, "/api/build_avg/os-1/hw2") == {"avg_count": 1.75}


@pytest.mark.parametrize(
    "path",
    [
        "/api/total_graph_data/os-1/hw1/99999999999999999999/2025-01-01",
        "/api/total_graph_data/os-1/hw1/2025-01-01/-99999999999999999999",
    ],
)
async def test_out_of_range_unix_times_are_422(client, path):
    assert (await client.get(path)).status == 422


@pytest.mark.parametrize("interval", ["525600", "10000000", "9223372036854775807"])
async def test_huge_graph_intervals_give_one_bucket(client, interval):
    body = await get_json(client, f"/api/graph_data/os-1/hw1/202012345/{interval}")
    assert body == {
        "trends": [{"timestamp": "20250310_1500", "total_size": 160.0, "size_change": 160.0}]
    }


async def test_graph_at_the_end_of_time(client, post_snapshot):
    await post_snapshot("z.c", "99991231_140000", 7, student=5)  # 23:00 KST on 9999-12-31
    await post_snapshot("z.c", "99991231_145959", 9, student=5)
    body = await get_json(client, "/api/graph_data/os-1/hw1/5/60")
    assert body == {
        "trends": [{"timestamp": "99991231_2300", "total_size": 9.0, "size_change": 9.0}]
    }
