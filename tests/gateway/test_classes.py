"""Through the gateway, every legacy route reaches the instance of the class in its path."""

from __future__ import annotations

import pytest

from tests.gateway.conftest import Gateway, Instance
from tests.gateway.helpers import metric, raw_url
from tests.service.helpers import BUILD, RUN, db_rows, snapshot_url

# Per class a different data set, so that every answer differs between the two classes.
SNAPSHOTS = [  # (student, file name, collector UTC stamp, size)
    (202012345, "main.c", "20250310_060000", 100),
    (202012345, "main.c", "20250310_060130", 150),
    (202012345, "src@util.c", "20250310_060500", 40),
    (202099999, "a.c", "20250310_070000", 10),
]
SCALE = {"os-1": 1, "ds-2": 3}


def reads(class_div: str) -> list[str]:
    """One GET per legacy read route (CONTRACT §1.6 rows 3-11, 13, 14)."""
    student = f"/api/{class_div}/hw1/202012345"
    return [
        f"/api/snapshot_avg/{class_div}/hw1/202012345/main.c",  # 3
        f"/api/assignments/snapshot_avg/{class_div}/hw1/202012345",  # 4
        f"/api/graph_data/{class_div}/hw1/202012345/5",  # 5
        student + "/logs/build?limit=1000",  # 6
        student + "/logs/run",  # 7
        f"/api/assignment/{class_div}/hw1",  # 8
        f"/api/total_graph_data/{class_div}/hw1/2025-03-10T00:00:00/2025-03-10T23:59:59",  # 9
        f"/api/build_avg/{class_div}/hw1",  # 10
        f"/api/run_avg/{class_div}/hw1",  # 11
        student,  # 13
        student + "/main.c",  # 14
    ]


async def get_json(http, url):
    async with http.get(url) as response:
        assert response.status == 200, (url, await response.text())
        return await response.json()


async def test_every_legacy_route_reaches_the_right_class(
    http, gateway: Gateway, instances: dict[str, Instance]
):
    # Writes (rows 1, 2, 12) through the gateway, for both classes.
    for class_div, scale in SCALE.items():
        for student, filename, stamp, size in SNAPSHOTS:
            url = raw_url(gateway.url, snapshot_url(class_div, "hw1", student, filename, stamp))
            async with http.post(url, json={"bytes": size * scale}) as response:
                assert response.status == 200
                assert await response.json() == {"message": "Snapshot registered successfully"}
        for _ in range(scale):
            student = f"/api/{class_div}/hw1/202012345"
            async with http.post(raw_url(gateway.url, student + "/logs/build"), json=BUILD) as r:
                assert await r.json() == {"message": "Build log registered successfully"}
            async with http.post(raw_url(gateway.url, student + "/logs/run"), json=RUN) as r:
                assert await r.json() == {"message": "Run log registered successfully"}

    # Each instance's database holds its own class's rows and nothing else.
    for class_div, instance in instances.items():
        scale = SCALE[class_div]
        for table, expected in (("snapshot", 4), ("buildlog", scale), ("runlog", scale)):
            rows = db_rows(instance.db_path, f"SELECT class_div, COUNT(*) FROM {table} GROUP BY 1")
            assert rows == [(class_div, expected)], (class_div, table)

    # Reads (rows 3-11, 13, 14): through the gateway = directly from the class's instance, and
    # not what the other instance (which has no rows of that class) answers.
    for class_div, instance in instances.items():
        other = next(i for c, i in instances.items() if c != class_div)
        for target in reads(class_div):
            through = await get_json(http, raw_url(gateway.url, target))
            direct = await get_json(http, raw_url(instance.url, target))
            elsewhere = await get_json(http, raw_url(other.url, target))
            assert through == direct, target
            assert through != elsewhere, target

    # Row 15, GET /metrics, is the gateway's own; it counted the forwarded requests by family.
    text = await gateway.metrics(http)
    assert "watcher_writer_queue_depth" not in text  # no instance metric leaks through
    family = "/api/{class_div}/{hw_name}/{student_id}/{filename}/{timestamp}"
    assert metric(text, "watcher_gateway_requests_total", family=family, status="200") == 8
    family = "/api/assignment/{class_div}/{hw_name}"
    assert metric(text, "watcher_gateway_requests_total", family=family, status="200") == 2
    assert metric(text, "watcher_gateway_upstream_latency_seconds_count", class_div="ds-2") > 0


@pytest.mark.parametrize(
    ("filename", "stored"),
    [
        ("src@app@과제.py", "src@app@과제.py"),  # sent as filemon does: aiohttp encodes it
        ("my file.c", "my file.c"),
        ("%EA%B3%BC%EC%A0%9C%20v2.py", "과제 v2.py"),  # already encoded by the client
        ("%ea%b3%bc%ec%a0%9c.py", "과제.py"),  # lowercase hex
        ("100%25.c", "100%.c"),  # a literal %
        ("a%2520b.c", "a%20b.c"),  # a literal %20 in the name
    ],
)
async def test_names_survive_the_gateway(
    http, gateway: Gateway, instances: dict[str, Instance], filename, stored
):
    os1, ds2 = instances["os-1"], instances["ds-2"]
    target = snapshot_url("os-1", "hw1", 202012345, filename, "20250310_060000")
    # Names with % are sent exactly as written; the others the way filemon's aiohttp sends them.
    url = raw_url(gateway.url, target) if "%" in filename else str(gateway.url) + target
    async with http.post(url, json={"bytes": 7}) as response:
        assert response.status == 200, await response.text()
    assert db_rows(os1.db_path, "SELECT filename FROM snapshot") == [(stored,)]
    assert db_rows(ds2.db_path, "SELECT COUNT(*) FROM snapshot") == [(0,)]
    assert await get_json(http, raw_url(gateway.url, "/api/os-1/hw1/202012345")) == [stored]
    # The timeline of that file, addressed by its encoded name, through the gateway.
    timeline = "/api/os-1/hw1/202012345/" + filename if "%" in filename else None
    if timeline is not None:
        assert await get_json(http, raw_url(gateway.url, timeline)) == ["20250310_150000"]


@pytest.mark.parametrize(
    ("method", "target", "probe"),
    [
        ("POST", "/api/echo-1/hw1/7/%ea%b3%bc%EC%A0%9C%20@%25.py/20250310_060000.py?q=%20a+b", "a"),
        ("POST", "/api/echo-2/hw1/7/src@app@main.c/20250310_060000", "b"),
        ("GET", "/api/echo-1/hw1/7/a%2Fb.c", "a"),
        ("GET", "/api/ech%6F-2/hw1/7", "b"),
        ("GET", "/api/assignment/echo-2/hw%31?limit=1000&x=%2F", "b"),
        ("POST", "/api/echo-1/hw1/../f.c/20250310_060000", "a"),  # dot segments stay too
    ],
)
async def test_the_request_target_reaches_the_instance_byte_for_byte(
    http, start_gateway, probes, method, target, probe
):
    gateway = await start_gateway({"echo-1": probes["a"], "echo-2": probes["b"]})
    async with http.request(method, raw_url(gateway.url, target), data=b"x") as response:
        report = await response.json()
    assert (report["name"], report["method"], report["target"]) == (probe, method, target)


async def test_unknown_class_is_404_naming_it_and_counted(
    http, gateway: Gateway, instances: dict[str, Instance]
):
    async with http.get(raw_url(gateway.url, "/api/xx-9/hw1/202012345")) as response:
        assert response.status == 404
        body = await response.json()
    assert body["detail"] == "no WatcherInstance serves class 'xx-9'"
    assert body["class_div"] == "xx-9"
    target = snapshot_url("assignment", "hw1", 7, "f.c", "20250310_060000")
    async with http.post(raw_url(gateway.url, target), json={"bytes": 1}) as response:
        assert response.status == 404
        assert "'assignment'" in (await response.json())["detail"]
    for _ in range(2):
        async with http.get(raw_url(gateway.url, "/api/build_avg/%ED%95%9C-1/hw1")) as response:
            assert response.status == 404
    text = await gateway.metrics(http)
    assert metric(text, "watcher_gateway_unroutable_total", class_div="xx-9") == 1
    assert metric(text, "watcher_gateway_unroutable_total", class_div="<invalid>") == 3
    for instance in instances.values():
        assert db_rows(instance.db_path, "SELECT COUNT(*) FROM snapshot") == [(0,)]


async def test_paths_of_no_legacy_route_are_404_not_found(http, gateway: Gateway):
    for target in ("/api/nothing", "/api/os-1/hw1", "/favicon.ico"):
        async with http.get(raw_url(gateway.url, target)) as response:
            assert response.status == 404
            assert await response.json() == {"detail": "Not Found"}
    text = await gateway.metrics(http)
    assert metric(text, "watcher_gateway_requests_total", family="<unmatched>") == 3


async def test_the_instance_answers_redirects_and_errors_itself(http, gateway: Gateway):
    # The trailing slash is the instance's 307; following it goes through the gateway again.
    target = "/api/assignment/os-1/hw1/?x=1"
    async with http.get(raw_url(gateway.url, target), allow_redirects=False) as response:
        assert response.status == 307
        assert response.headers["Location"] == "/api/assignment/os-1/hw1?x=1"
    assert (await get_json(http, raw_url(gateway.url, target)))["top_7"] == []
    async with http.put(raw_url(gateway.url, "/api/assignment/os-1/hw1")) as response:
        assert response.status == 405
        assert await response.json() == {"detail": "Method Not Allowed"}
    async with http.get(raw_url(gateway.url, "/api/os-1/hw1/not-a-number")) as response:
        assert response.status == 422


async def test_fallback_instance_serves_classes_missing_from_the_table(
    http, start_gateway, instances: dict[str, Instance]
):
    os1 = instances["os-1"]
    gateway = await start_gateway({"os-1": os1.url}, fallback_url=instances["ds-2"].url)
    url = raw_url(gateway.url, snapshot_url("zz-1", "hw1", 7, "f.c", "20250310_060000"))
    async with http.post(url, json={"bytes": 3}) as response:
        assert response.status == 200
    assert db_rows(instances["ds-2"].db_path, "SELECT class_div FROM snapshot") == [("zz-1",)]
    assert db_rows(os1.db_path, "SELECT COUNT(*) FROM snapshot") == [(0,)]
    text = await gateway.metrics(http)
    assert metric(text, "watcher_gateway_fallback_total", class_div="zz-1") == 1
    assert metric(text, "watcher_gateway_unroutable_total", class_div="zz-1") == 0
