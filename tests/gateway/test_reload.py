"""The routing table changes on disk; the running gateway follows without a restart."""

from __future__ import annotations

import asyncio
import json
import os

from tests.gateway.conftest import Gateway, Instance
from tests.gateway.helpers import eventually, metric, raw_url, write_configmap
from tests.service.helpers import db_rows, snapshot_url


async def probe_name(http, gateway: Gateway, class_div: str) -> str | None:
    async with http.get(raw_url(gateway.url, f"/api/{class_div}/hw1/7")) as response:
        return (await response.json())["name"] if response.status == 200 else None


async def test_kubelet_symlink_swap_moves_a_class_to_another_instance(
    http, gateway: Gateway, instances: dict[str, Instance]
):
    os1, ds2 = instances["os-1"], instances["ds-2"]
    url = raw_url(gateway.url, snapshot_url("os-1", "hw1", 7, "a.c", "20250310_060000"))
    async with http.post(url, json={"bytes": 1}) as response:
        assert response.status == 200
    app_before = gateway.app

    # The operator moves os-1 to the ds-2 instance: kubelet swaps the ConfigMap's ..data symlink.
    write_configmap(gateway.routes_dir, {"os-1": str(ds2.url), "ds-2": str(ds2.url)})

    async def lands_on_ds2() -> bool:
        async with http.post(url, json={"bytes": 2}) as response:
            assert response.status == 200
        return db_rows(ds2.db_path, "SELECT COUNT(*) FROM snapshot") != [(0,)]

    await eventually(lands_on_ds2)
    assert gateway.app is app_before  # same process, same app: no restart
    assert db_rows(ds2.db_path, "SELECT class_div, file_size FROM snapshot") == [("os-1", 2)]
    # Every write before the swap reached os-1's instance, none after.
    rows = db_rows(os1.db_path, "SELECT DISTINCT file_size FROM snapshot")
    assert rows in ([(1,)], [(1,), (2,)])
    text = await gateway.metrics(http)
    assert metric(text, "watcher_gateway_route_reloads_total", result="success") == 2


async def test_file_rewritten_in_place_adds_and_removes_classes(http, start_gateway, probes):
    gateway = await start_gateway({"echo-1": probes["a"]})
    routes_file = gateway.routes_dir / "routes.json"
    assert await probe_name(http, gateway, "echo-1") == "a"
    assert await probe_name(http, gateway, "echo-2") is None

    # A plain in-place rewrite (not kubelet's way) of the file the symlink points at.
    routes_file.resolve().write_text(json.dumps({"echo-2": str(probes["b"])}))

    async def switched() -> bool:
        return await probe_name(http, gateway, "echo-2") == "b"

    await eventually(switched)
    async with http.get(raw_url(gateway.url, "/api/echo-1/hw1/7")) as response:
        assert response.status == 404
    text = await gateway.metrics(http)
    assert metric(text, "watcher_gateway_routes") == 1


async def test_file_replaced_by_rename_is_picked_up(http, start_gateway, probes):
    gateway = await start_gateway({"echo-1": probes["a"]})
    routes_file = gateway.routes_dir / "routes.json"
    for target in (probes["b"], probes["a"]):  # twice: the same size, a new inode each time
        staged = gateway.routes_dir / "routes.json.tmp"
        staged.write_text(json.dumps({"echo-1": str(target)}))
        os.replace(staged, routes_file)  # replaces the symlink itself: a plain file from now on
        name = "b" if target == probes["b"] else "a"

        async def switched(name: str = name) -> bool:
            return await probe_name(http, gateway, "echo-1") == name

        await eventually(switched)


async def test_bad_table_keeps_the_last_good_one(http, start_gateway, probes):
    gateway = await start_gateway({"echo-1": probes["a"]})
    bad_tables = [b'{"echo-1": "http://', b'["echo-1"]', b'{"echo-1": "not a url"}', b""]
    for count, bad in enumerate(bad_tables, start=1):
        write_configmap(gateway.routes_dir, bad)

        async def rejected(count: int = count) -> bool:
            text = await gateway.metrics(http)
            return metric(text, "watcher_gateway_route_reloads_total", result="failure") == count

        await eventually(rejected)
        assert await probe_name(http, gateway, "echo-1") == "a"
        async with http.get(gateway.url / "readyz") as response:
            assert response.status == 200  # still serving with the last good table

    (gateway.routes_dir / "routes.json").unlink()  # even a vanished file keeps the table

    async def noticed() -> bool:
        text = await gateway.metrics(http)
        return metric(text, "watcher_gateway_route_reloads_total", result="failure") == 5

    await eventually(noticed)
    assert await probe_name(http, gateway, "echo-1") == "a"

    write_configmap(gateway.routes_dir, {"echo-1": str(probes["b"])})

    async def recovered() -> bool:
        return await probe_name(http, gateway, "echo-1") == "b"

    await eventually(recovered)
    text = await gateway.metrics(http)
    assert metric(text, "watcher_gateway_route_reloads_total", result="success") == 2


async def test_a_request_in_flight_finishes_on_the_table_it_started_with(
    http, start_gateway, probes
):
    gateway = await start_gateway({"echo-1": probes["a"]})
    release = asyncio.Event()

    async def slow_body():
        yield b'{"part": 1'
        await release.wait()
        yield b', "part2": 2}'

    url = raw_url(gateway.url, "/api/echo-1/hw1/7/f.c/20250310_060000")
    in_flight = asyncio.create_task(http.post(url, data=slow_body()))

    async def started() -> bool:  # in flight: that request and this scrape
        text = await gateway.metrics(http)
        return metric(text, "watcher_gateway_requests_in_flight") == 2

    await eventually(started)  # the gateway has chosen probe a and is relaying the body

    write_configmap(gateway.routes_dir, {"echo-1": str(probes["b"])})

    async def switched() -> bool:
        return await probe_name(http, gateway, "echo-1") == "b"

    await eventually(switched)
    release.set()
    response = await in_flight
    report = await response.json()
    response.release()
    assert report["name"] == "a"
    assert report["length"] == len(b'{"part": 1, "part2": 2}')


async def test_gateway_starting_before_its_table_becomes_ready_when_it_appears(
    http, start_gateway, probes
):
    gateway = await start_gateway(None)
    async with http.get(gateway.url / "readyz") as response:
        assert response.status == 503
        assert (await response.json())["checks"]["routes_loaded"] is False
    async with http.get(raw_url(gateway.url, "/api/echo-1/hw1/7")) as response:
        assert response.status == 503  # not a 404: the class may well exist
        assert "Retry-After" in response.headers

    write_configmap(gateway.routes_dir, {"echo-1": str(probes["a"])})

    async def ready() -> bool:
        async with http.get(gateway.url / "readyz") as response:
            return response.status == 200

    await eventually(ready)
    assert await probe_name(http, gateway, "echo-1") == "a"
