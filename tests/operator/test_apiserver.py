"""The emulator's API-server behaviour that the end-to-end tests depend on, over HTTP."""

from __future__ import annotations

import json
from typing import Any

from tests.operator.apiserver import NAMESPACES, ApiServer
from tests.operator.helpers import CLAIMS, DEPLOYMENTS, INSTANCES, SERVICES, create_instance

SVC_URL = "/api/v1/namespaces/ns1/services"


def service(name: str = "s", **meta: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, **meta}, "spec": {"ports": [{"port": 80}]}}


async def request(api: ApiServer, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    async with api.request(method, url, **kwargs) as response:
        return response.status, await response.json(content_type=None)


async def watch(api: ApiServer, url: str) -> list[dict[str, Any]]:
    """All events of a watch that ends by itself (timeoutSeconds, or 410)."""
    async with api.get(url) as response:
        assert response.status == 200
        lines = (await response.read()).decode().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


async def test_writes_assign_identity_and_versions(apiserver: ApiServer) -> None:
    code, created = await request(apiserver, "POST", SVC_URL, json=service())
    assert code == 201
    meta = created["metadata"]
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z")
    assert (meta["generation"], meta["namespace"]) == (1, "ns1")
    assert (created["apiVersion"], created["kind"]) == ("v1", "Service")
    code, _ = await request(apiserver, "POST", SVC_URL, json=service())
    assert code == 409

    merge = {"Content-Type": "application/merge-patch+json"}
    _, labelled = await request(
        apiserver, "PATCH", f"{SVC_URL}/s", json={"metadata": {"labels": {"a": "b"}}}, headers=merge
    )
    assert int(labelled["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    assert labelled["metadata"]["generation"] == 1  # metadata is not the spec
    _, respec = await request(
        apiserver, "PATCH", f"{SVC_URL}/s", json={"spec": {"ports": [{"port": 81}]}}, headers=merge
    )
    assert respec["metadata"]["generation"] == 2
    _, same = await request(
        apiserver, "PATCH", f"{SVC_URL}/s", json={"spec": {"ports": [{"port": 81}]}}, headers=merge
    )
    assert same["metadata"]["resourceVersion"] == respec["metadata"]["resourceVersion"]
    stale = {"metadata": {"resourceVersion": meta["resourceVersion"], "labels": {"c": "d"}}}
    code, _ = await request(apiserver, "PATCH", f"{SVC_URL}/s", json=stale, headers=merge)
    assert code == 409

    code, named = await request(
        apiserver,
        "POST",
        "/api/v1/namespaces/ns1/events",
        json={"metadata": {"generateName": "e-"}},
    )
    assert code == 201 and named["metadata"]["name"].startswith("e-")
    code, _ = await request(
        apiserver, "POST", "/api/v1/namespaces/nowhere/services", json=service()
    )
    assert code == 404


async def test_json_patch_test_failures_are_422(apiserver: ApiServer) -> None:
    _, created = await request(apiserver, "POST", SVC_URL, json=service())
    version = created["metadata"]["resourceVersion"]
    ops = [
        {"op": "test", "path": "/metadata/resourceVersion", "value": version},
        {"op": "add", "path": "/metadata/finalizers", "value": ["x"]},
    ]
    headers = {"Content-Type": "application/json-patch+json"}
    code, patched = await request(apiserver, "PATCH", f"{SVC_URL}/s", json=ops, headers=headers)
    assert code == 200 and patched["metadata"]["finalizers"] == ["x"]
    code, _ = await request(apiserver, "PATCH", f"{SVC_URL}/s", json=ops, headers=headers)
    assert code == 422  # the resourceVersion moved on


async def test_status_is_a_separate_subresource(apiserver: ApiServer) -> None:
    create_instance(apiserver, "os-1", {"classDiv": "os-1"})
    url = "/apis/watcher.jcode.io/v1alpha1/namespaces/ns1/watcherinstances/os-1"
    merge = {"Content-Type": "application/merge-patch+json"}
    both = {"spec": {"paused": True}, "status": {"phase": "Ready"}}
    _, main = await request(apiserver, "PATCH", url, json=both, headers=merge)
    assert main["spec"]["paused"] is True and "status" not in main
    _, sub = await request(
        apiserver, "PATCH", f"{url}/status", json=both | {"spec": {}}, headers=merge
    )
    assert sub["status"] == {"phase": "Ready"} and sub["spec"]["paused"] is True
    assert sub["metadata"]["generation"] == 2  # only the spec change counted


async def test_watches_resume_from_a_version_and_end_on_time(apiserver: ApiServer) -> None:
    _, first = await request(apiserver, "POST", SVC_URL, json=service("a"))
    await request(apiserver, "POST", SVC_URL, json=service("b"))
    await request(apiserver, "DELETE", f"{SVC_URL}/a")
    since = first["metadata"]["resourceVersion"]
    events = await watch(
        apiserver, f"{SVC_URL}?watch=true&resourceVersion={since}&timeoutSeconds=1"
    )
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "b"),
        ("DELETED", "a"),
    ]
    # Without a version: the current state, as ADDED.
    events = await watch(apiserver, f"{SVC_URL}?watch=true&timeoutSeconds=1")
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "b")]
    # Selected by label, across namespaces.
    await request(apiserver, "POST", SVC_URL, json=service("c", labels={"team": "x"}))
    events = await watch(
        apiserver, "/api/v1/services?watch=true&labelSelector=team%3Dx&timeoutSeconds=1"
    )
    assert [e["object"]["metadata"]["name"] for e in events] == ["c"]


async def test_too_old_versions_are_gone(apiserver: ApiServer) -> None:
    apiserver.event_log.clear()  # as if compacted
    await request(apiserver, "POST", SVC_URL, json=service("a"))
    await request(apiserver, "POST", SVC_URL, json=service("b"))
    events = await watch(apiserver, f"{SVC_URL}?watch=true&resourceVersion=1&timeoutSeconds=5")
    assert [(e["type"], e["object"]["code"]) for e in events] == [("ERROR", 410)]


async def test_lists_carry_the_current_version_and_select(apiserver: ApiServer) -> None:
    await request(apiserver, "POST", SVC_URL, json=service("a", labels={"x": "1"}))
    await request(apiserver, "POST", SVC_URL, json=service("b", labels={"x": "2"}))
    _, listed = await request(apiserver, "GET", f"{SVC_URL}?labelSelector=x%21%3D2")
    assert [item["metadata"]["name"] for item in listed["items"]] == ["a"]
    assert listed["metadata"]["resourceVersion"] == str(apiserver.revision)
    assert listed["kind"] == "ServiceList"
    _, named = await request(apiserver, "GET", f"{SVC_URL}?fieldSelector=metadata.name%3Db")
    assert [item["metadata"]["name"] for item in named["items"]] == ["b"]


async def test_finalizers_hold_deletion(apiserver: ApiServer) -> None:
    await request(apiserver, "POST", SVC_URL, json=service(finalizers=["keep"]))
    code, marked = await request(apiserver, "DELETE", f"{SVC_URL}/s")
    assert code == 200 and marked["metadata"]["deletionTimestamp"]
    assert apiserver.read_object(SERVICES, "ns1", "s") is not None
    merge = {"Content-Type": "application/merge-patch+json"}
    await request(
        apiserver, "PATCH", f"{SVC_URL}/s", json={"metadata": {"finalizers": None}}, headers=merge
    )
    assert apiserver.read_object(SERVICES, "ns1", "s") is None


async def test_garbage_collection_follows_owner_references(apiserver: ApiServer) -> None:
    owner = create_instance(apiserver, "os-1", {"classDiv": "os-1"})
    other = create_instance(apiserver, "os-2", {"classDiv": "os-2"})

    def ref(body: dict[str, Any]) -> dict[str, Any]:
        meta = body["metadata"]
        return {
            "apiVersion": "v1",
            "kind": "WatcherInstance",
            "name": meta["name"],
            "uid": meta["uid"],
        }

    apiserver.create_object(SERVICES, "ns1", service("owned", ownerReferences=[ref(owner)]))
    apiserver.create_object(
        CLAIMS, "ns1", {"metadata": {"name": "shared", "ownerReferences": [ref(owner), ref(other)]}}
    )
    apiserver.create_object(DEPLOYMENTS, "ns1", {"metadata": {"name": "free"}})
    code, _ = await request(
        apiserver, "DELETE", "/apis/watcher.jcode.io/v1alpha1/namespaces/ns1/watcherinstances/os-1"
    )
    assert code == 200
    assert apiserver.read_object(INSTANCES, "ns1", "os-1") is None
    assert apiserver.read_object(SERVICES, "ns1", "owned") is None
    shared = apiserver.read_object(CLAIMS, "ns1", "shared")
    assert shared["metadata"]["ownerReferences"] == [ref(other)]  # another owner lives on
    assert apiserver.read_object(DEPLOYMENTS, "ns1", "free") is not None

    apiserver.create_object(SERVICES, "ns1", service("orphan", ownerReferences=[ref(other)]))
    code, _ = await request(
        apiserver,
        "DELETE",
        "/apis/watcher.jcode.io/v1alpha1/namespaces/ns1/watcherinstances/os-2",
        json={"propagationPolicy": "Orphan"},
    )
    assert code == 200
    assert "ownerReferences" not in apiserver.read_object(SERVICES, "ns1", "orphan")["metadata"]


async def test_crds_serve_their_resource_until_deleted(apiserver: ApiServer) -> None:
    code, _ = await request(apiserver, "GET", "/apis/watcher.jcode.io/v1alpha1")
    assert code == 200
    create_instance(apiserver, "os-1", {"classDiv": "os-1"})
    crd = (
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/watcherinstances.watcher.jcode.io"
    )
    _, established = await request(apiserver, "GET", crd)
    assert {cond["type"] for cond in established["status"]["conditions"]} == {
        "NamesAccepted",
        "Established",
    }
    await request(apiserver, "DELETE", crd)
    assert apiserver.read_object(INSTANCES, "ns1", "os-1") is None
    code, _ = await request(apiserver, "GET", "/apis/watcher.jcode.io/v1alpha1")
    assert code == 404


async def test_discovery_is_what_kubectl_expects(apiserver: ApiServer) -> None:
    _, core = await request(apiserver, "GET", "/api/v1")
    assert core["groupVersion"] == "v1"
    services = {r["name"]: r for r in core["resources"] if r["name"].startswith("services")}
    assert services["services"]["shortNames"] == ["svc"]
    assert "shortNames" not in services["services/status"]
    _, ours = await request(apiserver, "GET", "/apis/watcher.jcode.io/v1alpha1")
    assert [(r["name"], r["kind"], r["namespaced"]) for r in ours["resources"]] == [
        ("watcherinstances", "WatcherInstance", True),
        ("watcherinstances/status", "WatcherInstance", True),
    ]
    _, groups = await request(apiserver, "GET", "/apis/")
    assert "watcher.jcode.io" in {group["name"] for group in groups["groups"]}
    assert apiserver.read_object(NAMESPACES, None, "default") is not None
