"""Create-if-missing, patch-if-different: ``matches`` alone, and ``Api`` through the real client
over HTTP against the emulator."""

from __future__ import annotations

import asyncio
from typing import Any

import kubernetes.client
import pytest

from tests.operator.apiserver import ApiServer
from tests.operator.helpers import (
    DEPLOYMENTS,
    INSTANCES,
    SERVICES,
    create_instance,
    install_crd,
)
from watcher_operator import ownership, resources, spec
from watcher_operator.apply import Api, Applied, Conflict, Outcome, matches

PARSED = spec.parse({"classDiv": "os-1"}, default_image="example/watcher:1")
OWNER = {
    "apiVersion": "watcher.jcode.io/v1alpha1",
    "kind": "WatcherInstance",
    "name": "os-1",
    "uid": "u-1",
    "controller": True,
    "blockOwnerDeletion": True,
}


@pytest.mark.parametrize(
    ("desired", "live", "expected"),
    [
        ({"a": 1}, {"a": 1, "added": "by the server"}, True),
        ({"a": 1}, {"a": 2}, False),
        ({"a": 1}, {}, False),
        ({"a": {"b": [{"c": 1}]}}, {"a": {"b": [{"c": 1, "d": 2}]}}, True),
        ({"a": [1, 2]}, {"a": [1, 2, 3]}, False),  # owned lists are compared whole
        ({"a": [1, 2]}, {"a": [2, 1]}, False),
        ({"a": []}, {}, True),  # the API server drops empty optional fields
        ({"a": {}}, {}, True),
        ({"a": []}, {"a": [1]}, False),
        (
            {"resources": {"requests": {"cpu": "0.5"}}},
            {"resources": {"requests": {"cpu": "500m"}}},
            True,
        ),
        ({"resources": {"limits": {"cpu": 1}}}, {"resources": {"limits": {"cpu": "1"}}}, True),
        ({"resources": {"limits": {"cpu": "1"}}}, {"resources": {"limits": {"cpu": "2"}}}, False),
        ({"image": "1"}, {"image": "1.0"}, False),  # quantities only where quantities live
    ],
)
def test_matches(desired: Any, live: Any, expected: bool) -> None:
    assert matches(desired, live) is expected


def ensure(api: Api, desired: dict[str, Any], live: Any = ...) -> Applied:
    """Api.ensure for instance os-1 (uid u-1): what is its own is what ownership.py says."""
    return api.ensure(
        desired, live, conflict=lambda found: ownership.conflict(found, "os-1", "u-1")
    )


@pytest.fixture
def api(apiserver: ApiServer) -> Api:
    configuration = kubernetes.client.Configuration(host=str(apiserver.url).rstrip("/"))
    return Api(kubernetes.client.ApiClient(configuration), timeout=10)


def versions(apiserver: ApiServer) -> int:
    return len(apiserver.object_versions(DEPLOYMENTS, "ns1", "watcher-os-1"))


async def test_create_then_leave_alone_then_patch(apiserver: ApiServer, api: Api) -> None:
    desired = resources.deployment("os-1", "ns1", PARSED, OWNER)
    created = await asyncio.to_thread(ensure, api, desired)
    assert created.outcome is Outcome.CREATED and created.before is None
    assert created.live["metadata"]["uid"]

    # What the API server and controllers add does not count as a difference.
    apiserver.patch_object(
        DEPLOYMENTS,
        "ns1",
        "watcher-os-1",
        {
            "metadata": {"annotations": {"deployment.kubernetes.io/revision": "1"}},
            "spec": {"revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
        },
    )
    count = versions(apiserver)
    same = await asyncio.to_thread(ensure, api, desired)
    assert same.outcome is Outcome.UNCHANGED
    assert versions(apiserver) == count  # no write at all

    changed = resources.deployment(
        "os-1", "ns1", PARSED, OWNER, restarted_at="2026-01-01T00:00:00Z"
    )
    updated = await asyncio.to_thread(ensure, api, changed)
    assert updated.outcome is Outcome.UPDATED
    assert updated.before == same.live
    template = updated.live["spec"]["template"]["metadata"]
    assert template["annotations"] == {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}
    assert updated.live["spec"]["revisionHistoryLimit"] == 10  # a merge patch keeps the rest
    assert versions(apiserver) == count + 1


async def test_a_rolling_update_strategy_is_removed_not_merged(
    apiserver: ApiServer, api: Api
) -> None:
    desired = resources.deployment("os-1", "ns1", PARSED, OWNER)
    await asyncio.to_thread(ensure, api, desired)
    apiserver.patch_object(
        DEPLOYMENTS,
        "ns1",
        "watcher-os-1",
        {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}},
    )
    applied = await asyncio.to_thread(ensure, api, desired)
    assert applied.outcome is Outcome.UPDATED
    assert applied.live["spec"]["strategy"] == {"type": "Recreate"}
    again = await asyncio.to_thread(ensure, api, desired)
    assert again.outcome is Outcome.UNCHANGED


async def test_an_object_created_meanwhile_is_compared_not_failed(
    apiserver: ApiServer, api: Api
) -> None:
    desired = resources.service("os-1", "ns1", PARSED, OWNER)
    await asyncio.to_thread(ensure, api, desired)
    # The caller believed it absent (live=None): creating it answers 409, then it is compared.
    applied = await asyncio.to_thread(ensure, api, desired, None)
    assert applied.outcome is Outcome.UNCHANGED


async def test_an_object_someone_else_created_meanwhile_is_left_alone(
    apiserver: ApiServer, api: Api
) -> None:
    theirs = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "watcher-os-1", "namespace": "ns1"},
        "spec": {"selector": {"app": "theirs"}},
    }
    apiserver.create_object(SERVICES, "ns1", theirs)
    desired = resources.service("os-1", "ns1", PARSED, OWNER)
    # Believed absent: the create answers 409, the object read is someone else's.
    with pytest.raises(Conflict, match="Service watcher-os-1 already exists and is not"):
        await asyncio.to_thread(ensure, api, desired, None)
    found = apiserver.read_object(SERVICES, "ns1", "watcher-os-1")
    assert found["spec"] == {"selector": {"app": "theirs"}}
    assert "ownerReferences" not in found["metadata"]
    assert [r.method.value for r in list(apiserver) if r.url.path.endswith("watcher-os-1")] == [
        "GET"
    ]


async def test_a_claim_is_disowned_by_an_explicit_empty_list(
    apiserver: ApiServer, api: Api
) -> None:
    owned = spec.parse(
        {"classDiv": "os-1", "storage": {"retainOnDelete": False}}, default_image="x"
    )
    await asyncio.to_thread(ensure, api, resources.data_claim("os-1", "ns1", owned, OWNER))
    applied = await asyncio.to_thread(
        ensure, api, resources.data_claim("os-1", "ns1", PARSED, OWNER)
    )
    assert applied.outcome is Outcome.UPDATED
    assert applied.live["metadata"].get("ownerReferences", []) == []


async def test_read_delete_discovery_and_status(apiserver: ApiServer, api: Api) -> None:
    assert await asyncio.to_thread(api.read, "Service", "ns1", "nothing") is None
    assert await asyncio.to_thread(api.delete, "Service", "ns1", "nothing") is False
    assert not await asyncio.to_thread(api.has_api, "monitoring.coreos.com", "v1")
    install_crd(apiserver, "monitoring.coreos.com", "v1", "servicemonitors", "ServiceMonitor")
    assert await asyncio.to_thread(api.has_api, "monitoring.coreos.com", "v1")
    assert not await asyncio.to_thread(api.has_api, "monitoring.coreos.com", "v2")
    monitor = resources.service_monitor("os-1", "ns1", PARSED, OWNER)
    assert (await asyncio.to_thread(ensure, api, monitor)).outcome is Outcome.CREATED
    assert await asyncio.to_thread(api.delete, "ServiceMonitor", "ns1", "watcher-os-1") is True
    assert await asyncio.to_thread(api.delete, "ServiceMonitor", "ns1", "watcher-os-1") is False

    create_instance(apiserver, "os-1", {"classDiv": "os-1"})
    written = await asyncio.to_thread(
        api.patch_instance_status, "ns1", "os-1", {"phase": "Pending"}
    )
    assert written["status"] == {"phase": "Pending"}
    assert apiserver.read_object(INSTANCES, "ns1", "os-1")["status"] == {"phase": "Pending"}
    status_writes = [r for r in list(apiserver) if r.url.path.endswith("/os-1/status")]
    assert [r.method.value for r in status_writes] == ["PATCH"]


def test_unknown_kinds_are_refused(api: Api) -> None:
    with pytest.raises(ValueError, match="does not manage Secret"):
        api.read("Secret", "ns1", "x")


async def test_finalizers_are_released_only_from_instances_being_deleted(
    apiserver: ApiServer, api: Api
) -> None:
    """For a namespace being deleted (handlers.namespace_changed): the operator's finalizer
    goes from its instances as they are deleted; others' finalizers and live instances stay."""
    finalizers = ["watcher.jcode.io/finalizer", "example.com/other"]
    for name in ("going", "staying"):
        create_instance(apiserver, name, {"classDiv": f"{name}-1"})
        apiserver.patch_object(INSTANCES, "ns1", name, {"metadata": {"finalizers": finalizers}})
    apiserver.delete_object(INSTANCES, "ns1", "going")
    assert await asyncio.to_thread(api.release_finalizers, "ns1") == 2
    going = apiserver.read_object(INSTANCES, "ns1", "going")
    assert going["metadata"]["finalizers"] == ["example.com/other"]
    staying = apiserver.read_object(INSTANCES, "ns1", "staying")
    assert staying["metadata"]["finalizers"] == finalizers
    # Once the other finalizer goes too, the instance is gone; then none is left to release.
    apiserver.patch_object(INSTANCES, "ns1", "going", {"metadata": {"finalizers": []}})
    apiserver.delete_object(INSTANCES, "ns1", "staying")
    assert await asyncio.to_thread(api.release_finalizers, "ns1") == 1
    apiserver.patch_object(INSTANCES, "ns1", "staying", {"metadata": {"finalizers": []}})
    assert await asyncio.to_thread(api.release_finalizers, "ns1") == 0
