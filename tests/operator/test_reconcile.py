"""One reconciliation pass (without Kopf), against the emulator through the real client."""

from __future__ import annotations

import asyncio
from typing import Any

import kubernetes.client
import pytest

from tests.operator.apiserver import ApiServer
from tests.operator.helpers import CLAIMS, DEPLOYMENTS, INSTANCES, SERVICES, create_instance
from watcher_operator import spec
from watcher_operator.apply import Api
from watcher_operator.policy import Policy
from watcher_operator.reconcile import Event, Result, claim_refusal, reconcile
from watcher_operator.status import Refusal

IMAGE = "example/watcher:1"


def claim(size: str = "5Gi", class_div: str = "os-1", storage_class: str | None = None) -> dict:
    body: dict[str, Any] = {
        "metadata": {
            "name": "watcher-os-1-data",
            "labels": {"watcher.jcode.io/class-div": class_div},
        },
        "spec": {"resources": {"requests": {"storage": size}}},
    }
    if storage_class:
        body["spec"]["storageClassName"] = storage_class
    return body


def parsed(**storage: Any) -> spec.InstanceSpec:
    return spec.parse({"classDiv": "os-1", "storage": storage}, default_image=IMAGE)


def test_a_claim_may_grow_and_keep_its_class() -> None:
    assert claim_refusal(parsed(size="5Gi"), claim("5Gi")) is None
    assert claim_refusal(parsed(size="6Gi"), claim("5Gi")) is None
    assert claim_refusal(parsed(size="5120Mi"), claim("5Gi")) is None
    # The cluster's default class was filled in; the spec still says "default".
    assert claim_refusal(parsed(), claim(storage_class="standard")) is None


def test_a_claim_never_shrinks() -> None:
    refusal = claim_refusal(parsed(size="4Gi"), claim("5Gi"))
    assert refusal == Refusal(
        "StorageShrinkRefused",
        "spec.storage.size 4Gi is smaller than the 5Gi of PersistentVolumeClaim "
        "watcher-os-1-data: volumes can grow, never shrink",
    )


def test_a_claim_keeps_its_storage_class_and_its_class_data() -> None:
    moved = claim_refusal(parsed(storageClassName="fast"), claim(storage_class="standard"))
    assert moved is not None and moved.reason == "StorageClassImmutable"
    other = claim_refusal(parsed(), claim(class_div="db-2"))
    assert other is not None and other.reason == "ClassDivChanged"
    assert "holds the data of class db-2, not os-1" in other.message


@pytest.fixture
def api(apiserver: ApiServer) -> Api:
    configuration = kubernetes.client.Configuration(host=str(apiserver.url).rstrip("/"))
    return Api(kubernetes.client.ApiClient(configuration), timeout=10)


async def run_pass(api: Api, apiserver: ApiServer, owner: str | None = "os-1") -> Result:
    body = apiserver.read_object(INSTANCES, "ns1", "os-1")
    result = await asyncio.to_thread(reconcile, api, body, default_image=IMAGE, class_owner=owner)
    apiserver.patch_object(
        INSTANCES, "ns1", "os-1", {"status": result.status}, subresource="status"
    )
    return result


def writes(apiserver: ApiServer) -> int:
    """Writes over HTTP (the test's own status writes above go straight to the emulator)."""
    return sum(1 for r in list(apiserver) if r.method.value in ("POST", "PATCH", "DELETE"))


async def test_first_pass_creates_then_the_next_changes_nothing(
    apiserver: ApiServer, api: Api
) -> None:
    create_instance(apiserver, "os-1", {"classDiv": "os-1"})
    first = await run_pass(api, apiserver)
    assert first.events == [
        Event("Normal", "Created", "Created PersistentVolumeClaim watcher-os-1-data"),
        Event("Normal", "Created", "Created Deployment watcher-os-1"),
        Event("Normal", "Created", "Created Service watcher-os-1"),
    ]
    assert first.status["phase"] == "Pending"
    assert apiserver.read_object(DEPLOYMENTS, "ns1", "watcher-os-1")["spec"]["template"]

    before = writes(apiserver)
    second = await run_pass(api, apiserver)
    assert second.events == []
    assert second.status == first.status
    assert writes(apiserver) == before  # the client wrote nothing


async def test_drift_in_a_reconciled_generation_is_a_repair(apiserver: ApiServer, api: Api) -> None:
    create_instance(apiserver, "os-1", {"classDiv": "os-1"})
    await run_pass(api, apiserver)
    apiserver.delete_object(SERVICES, "ns1", "watcher-os-1")
    repaired = await run_pass(api, apiserver)
    assert repaired.events == [
        Event("Normal", "Repaired", "Recreated missing Service watcher-os-1")
    ]
    # A new generation's changes are updates, not repairs.
    apiserver.patch_object(INSTANCES, "ns1", "os-1", {"spec": {"image": "example/watcher:2"}})
    updated = await run_pass(api, apiserver)
    assert updated.events == [Event("Normal", "Updated", "Updated Deployment watcher-os-1")]
    assert updated.status["observedGeneration"] == 2


async def test_a_refusal_is_said_once_and_applies_nothing(apiserver: ApiServer, api: Api) -> None:
    create_instance(apiserver, "os-1", {"classDiv": "os-1"})
    refused = await run_pass(api, apiserver, owner="older-instance")
    assert [(e.type, e.reason) for e in refused.events] == [("Warning", "Refused")]
    assert refused.status["phase"] == "Degraded"
    assert apiserver.list_objects(CLAIMS, "ns1") == []
    assert apiserver.list_objects(DEPLOYMENTS, "ns1") == []
    again = await run_pass(api, apiserver, owner="older-instance")
    assert again.events == []
    assert again.status == refused.status


async def test_a_foreign_object_of_a_childs_name_is_left_alone(
    apiserver: ApiServer, api: Api
) -> None:
    """The gateway's Service, a user's own Deployment: never patched, never adopted. The pass is
    refused (NameConflict) before anything is written."""
    theirs = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "watcher-os-1", "namespace": "ns1", "labels": {"team": "other"}},
        "spec": {"selector": {"app": "theirs"}},
    }
    apiserver.create_object(SERVICES, "ns1", theirs)
    create_instance(apiserver, "os-1", {"classDiv": "os-1"})
    before = writes(apiserver)
    refused = await run_pass(api, apiserver)
    assert refused.status["phase"] == "Degraded"
    degraded = next(c for c in refused.status["conditions"] if c["type"] == "Degraded")
    assert degraded["reason"] == "NameConflict"
    assert degraded["message"].startswith("Service watcher-os-1 already exists and is not")
    assert [(e.type, e.reason) for e in refused.events] == [("Warning", "Refused")]
    assert writes(apiserver) == before  # nothing written: no claim, no Deployment, no patch
    found = apiserver.read_object(SERVICES, "ns1", "watcher-os-1")
    assert found["spec"] == {"selector": {"app": "theirs"}}
    assert "ownerReferences" not in found["metadata"]
    # Removed by its owner, the name is free: the next pass goes ahead.
    apiserver.delete_object(SERVICES, "ns1", "watcher-os-1")
    accepted = await run_pass(api, apiserver)
    assert accepted.status["phase"] == "Pending"
    assert apiserver.read_object(SERVICES, "ns1", "watcher-os-1")["metadata"]["ownerReferences"]


async def test_a_retained_volume_labelled_as_the_instances_is_taken_back(
    apiserver: ApiServer, api: Api
) -> None:
    retained = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": "watcher-os-1-data",
            "namespace": "ns1",
            "labels": {
                "app.kubernetes.io/managed-by": "watcher-operator",
                "app.kubernetes.io/instance": "os-1",
                "watcher.jcode.io/class-div": "os-1",
            },
        },
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}},
    }
    apiserver.create_object(CLAIMS, "ns1", retained)
    create_instance(apiserver, "os-1", {"classDiv": "os-1"})
    result = await run_pass(api, apiserver)
    assert result.status["phase"] == "Pending"
    assert apiserver.read_object(DEPLOYMENTS, "ns1", "watcher-os-1") is not None


async def test_the_admins_policy_refuses_before_anything_is_read(
    apiserver: ApiServer, api: Api
) -> None:
    create_instance(apiserver, "os-1", {"classDiv": "os-1", "image": "miner/xmr:1"})
    body = apiserver.read_object(INSTANCES, "ns1", "os-1")
    policy = Policy(reserved_names=frozenset({"watcher-backend-service"}))
    result = await asyncio.to_thread(
        reconcile, api, body, default_image=IMAGE, class_owner="os-1", policy=policy
    )
    degraded = next(c for c in result.status["conditions"] if c["type"] == "Degraded")
    assert degraded["reason"] == "ImageNotAllowed"
    assert apiserver.list_objects(DEPLOYMENTS, "ns1") == []
