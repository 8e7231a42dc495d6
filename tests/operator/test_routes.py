"""The gateway's routing table as the operator renders it, and as the gateway reads it."""

from __future__ import annotations

import json

from watcher.gateway.table import parse_table
from watcher_operator import routes

READY = {"phase": "Ready", "serviceURL": "http://watcher-os-1.watcher.svc:3000"}


def test_accepted_instances_are_routed_until_deleted_refused_ones_never() -> None:
    spec = {"classDiv": "os-1"}
    route = routes.Route("os-1", READY["serviceURL"])
    assert routes.entry(spec, READY, {}) == route
    # Down for a while (starting, restarting, paused): the gateway answers 503, not 404.
    for phase in ("Pending", "Progressing", "Paused"):
        assert routes.entry(spec, {**READY, "phase": phase}, {}) == route
    assert routes.entry(spec, {**READY, "phase": "Degraded"}, {}) is None
    assert routes.entry(spec, READY, {"deletionTimestamp": "2026-11-26T00:00:00Z"}) is None
    assert routes.entry(spec, {"phase": "Ready"}, {}) is None  # no URL yet
    assert routes.entry({}, READY, {}) is None


def test_table_is_sorted_and_one_url_per_class() -> None:
    table = routes.table(
        [
            routes.Route("ds-2", "http://b:3000"),
            None,
            routes.Route("os-1", "http://z:3000"),
            routes.Route("os-1", "http://a:3000"),
        ]
    )
    assert list(table.items()) == [("ds-2", "http://b:3000"), ("os-1", "http://a:3000")]


def test_config_map_is_what_the_gateway_reads() -> None:
    manifest = routes.config_map("watcher", {"os-1": "http://watcher-os-1.watcher.svc:3000"})
    assert manifest["metadata"]["name"] == "watcher-routes"
    assert manifest["metadata"]["namespace"] == "watcher"
    assert "ownerReferences" not in manifest["metadata"]  # outlives every instance
    raw = manifest["data"]["routes.json"]
    assert json.loads(raw) == {"os-1": "http://watcher-os-1.watcher.svc:3000"}
    parsed = parse_table(raw.encode())
    assert str(parsed["os-1"]) == "http://watcher-os-1.watcher.svc:3000"
    assert parse_table(routes.config_map("w", {})["data"]["routes.json"].encode()) == {}


def test_routed_reads_a_live_table() -> None:
    live = routes.config_map("w", {"os-1": "http://a:3000"})
    route = routes.Route("os-1", "http://a:3000")
    assert routes.routed(live, route)
    assert not routes.routed(live, route._replace(url="http://b:3000"))
    assert not routes.routed(None, route)
    assert not routes.routed({"data": {"routes.json": "not json"}}, route)
    assert not routes.routed({"data": {"routes.json": '["os-1"]'}}, route)
