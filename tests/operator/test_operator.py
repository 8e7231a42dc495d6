"""End to end: the real Kopf runtime and client against the emulated API server.

Each test starts a fresh emulator and operator (the ``operator`` fixture), acts as a user or as
the cluster's controllers would, and polls the emulator's state with a bounded timeout.
"""

from __future__ import annotations

import asyncio
import json
import sys

import kmock
import yaml

from tests.operator.apiserver import ApiServer
from tests.operator.helpers import (
    CLAIMS,
    CONFIG_MAPS,
    DEPLOYMENTS,
    EXAMPLE_PATH,
    INSTANCES,
    KUBECTL,
    SERVICE_MONITORS,
    SERVICES,
    client_reads,
    condition,
    create_instance,
    events_for,
    eventually,
    install_crd,
    instance_status,
    mark_deployment_ready,
    reasons,
    run,
)
from watcher_operator import conventions as c

LABELS = {
    "app.kubernetes.io/name": "jcode-watcher",
    "app.kubernetes.io/instance": "os-1",
    "app.kubernetes.io/component": "backend",
    "app.kubernetes.io/managed-by": "watcher-operator",
    "watcher.jcode.io/class-div": "os-1",
}


def children(api: ApiServer, name: str = "os-1", namespace: str = "ns1") -> dict[str, dict | None]:
    return {
        "Deployment": api.read_object(DEPLOYMENTS, namespace, c.child_name(name)),
        "Service": api.read_object(SERVICES, namespace, c.child_name(name)),
        "PersistentVolumeClaim": api.read_object(CLAIMS, namespace, c.data_claim_name(name)),
    }


async def test_create_makes_children_then_ready(apiserver: ApiServer, operator: object) -> None:
    instance = create_instance(apiserver, "os-1", {"classDiv": "os-1"})
    uid = instance["metadata"]["uid"]

    found = await eventually(lambda: all(children(apiserver).values()), what="the children")
    assert found
    owned = children(apiserver)
    for kind, obj in owned.items():
        assert obj is not None
        assert obj["metadata"]["labels"] == LABELS, kind
    controller = [
        {
            "apiVersion": "watcher.jcode.io/v1alpha1",
            "kind": "WatcherInstance",
            "name": "os-1",
            "uid": uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert owned["Deployment"]["metadata"]["ownerReferences"] == controller
    assert owned["Service"]["metadata"]["ownerReferences"] == controller
    # retainOnDelete defaults to true: the class's data outlives the instance.
    assert owned["PersistentVolumeClaim"]["metadata"].get("ownerReferences", []) == []

    # Until the Deployment reports, the instance is Pending and not Ready.
    pending = await eventually(
        lambda: instance_status(apiserver, "os-1").get("phase") == "Pending", what="Pending"
    )
    assert pending
    status = instance_status(apiserver, "os-1")
    assert condition(status, "Ready")["status"] == "False"
    assert status["readyReplicas"] == 0

    mark_deployment_ready(apiserver, "watcher-os-1")
    await eventually(
        lambda: instance_status(apiserver, "os-1").get("phase") == "Ready", what="Ready"
    )
    status = instance_status(apiserver, "os-1")
    generation = apiserver.read_object(INSTANCES, "ns1", "os-1")["metadata"]["generation"]
    assert status["observedGeneration"] == generation
    assert status["readyReplicas"] == 1
    assert status["serviceURL"] == "http://watcher-os-1.ns1.svc:3000"
    ready = condition(status, "Ready")
    assert (ready["status"], ready["reason"], ready["observedGeneration"]) == (
        "True",
        "DeploymentReady",
        generation,
    )
    assert condition(status, "Progressing")["status"] == "False"
    assert condition(status, "Degraded")["status"] == "False"
    assert "lastRestartAt" not in status

    # The operator said what it did.
    await eventually(lambda: reasons(apiserver, "os-1").count("Created") == 3, what="3 Created")
    # Without the monitoring.coreos.com API, no ServiceMonitor is attempted.
    assert not any("servicemonitors" in str(request.url) for request in list(apiserver))

    # For the report: the status of a WatcherInstance from a real run (visible with -s).
    print("\n" + yaml.safe_dump({"status": status}, sort_keys=False), file=sys.__stdout__)


async def ready_instance(
    api: ApiServer, name: str = "os-1", spec: dict | None = None, namespace: str = "ns1"
) -> dict:
    """Create an instance, play the Deployment controller, and wait until it is Ready."""
    create_instance(api, name, spec or {"classDiv": name}, namespace)
    child = c.child_name(name)
    await eventually(lambda: api.read_object(DEPLOYMENTS, namespace, child), what="Deployment")
    await eventually(
        lambda: instance_status(api, name, namespace).get("observedGeneration"), what="status"
    )
    mark_deployment_ready(api, child, namespace)
    await eventually(
        lambda: instance_status(api, name, namespace).get("phase") == "Ready", what="Ready"
    )
    return api.read_object(INSTANCES, namespace, name)


def deployment_versions(api: ApiServer, name: str = "watcher-os-1") -> list[dict]:
    return [v for v in api.object_versions(DEPLOYMENTS, "ns1", name) if v is not None]


async def passes_after(api: ApiServer, n: int, path: str) -> None:
    """Wait until the operator has reconciled ``n`` more times (it reads ``path`` each pass)."""
    start = client_reads(api, path)
    await eventually(lambda: client_reads(api, path) >= start + n, what=f"{n} more passes")


DEPLOYMENT_PATH = "/apis/apps/v1/namespaces/ns1/deployments/watcher-os-1"


async def test_spec_change_patches_the_deployment_once(
    apiserver: ApiServer, operator: object
) -> None:
    await ready_instance(apiserver)
    before = len(deployment_versions(apiserver))
    apiserver.patch_object(
        INSTANCES,
        "ns1",
        "os-1",
        {
            "spec": {
                "image": "registry.example/watcher:0.2.0",
                "env": [{"name": "WATCHER_LOG_LEVEL", "value": "debug"}],
                "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}},
            }
        },
    )

    def container() -> dict:
        deployment = apiserver.read_object(DEPLOYMENTS, "ns1", "watcher-os-1")
        return deployment["spec"]["template"]["spec"]["containers"][0]

    await eventually(lambda: container()["image"] == "registry.example/watcher:0.2.0")
    assert {"name": "WATCHER_LOG_LEVEL", "value": "debug"} in container()["env"]
    assert container()["resources"] == {"requests": {"cpu": "250m", "memory": "256Mi"}}
    generation = apiserver.read_object(INSTANCES, "ns1", "os-1")["metadata"]["generation"]
    await eventually(
        lambda: instance_status(apiserver, "os-1").get("observedGeneration") == generation
    )
    # A new pod template: the Deployment rolls out, and the instance says so until it is done.
    assert instance_status(apiserver, "os-1")["phase"] in ("Pending", "Progressing")
    await eventually(lambda: "Updated" in reasons(apiserver, "os-1"))

    # One patch for one change: later passes (woken by the Deployment's own events, then by
    # the repair interval) find nothing to do.
    await passes_after(apiserver, 3, DEPLOYMENT_PATH)
    assert len(deployment_versions(apiserver)) == before + 1

    mark_deployment_ready(apiserver, "watcher-os-1")
    await eventually(lambda: instance_status(apiserver, "os-1").get("phase") == "Ready")


def pod_template(api: ApiServer, name: str = "watcher-os-1") -> dict:
    return api.read_object(DEPLOYMENTS, "ns1", name)["spec"]["template"]["spec"]


def snapshot_parts(pod: dict) -> tuple[list, list, list]:
    """The snapshot volume, its mount and WATCHER_SNAPSHOT_DIR, as found in a pod template."""
    [container] = pod["containers"]
    return (
        [v for v in pod["volumes"] if v["name"] == "snapshots"],
        [m for m in container["volumeMounts"] if m["name"] == "snapshots"],
        [e for e in container["env"] if e["name"] == "WATCHER_SNAPSHOT_DIR"],
    )


async def test_snapshots_volume_is_mounted_read_only_and_removed_with_the_spec(
    apiserver: ApiServer, operator: object
) -> None:
    spec = {
        "classDiv": "os-1",
        "snapshots": {"claimName": "watcher-filemon-pvc", "subPath": "snapshots"},
        "env": [{"name": "WATCHER_LOG_LEVEL", "value": "debug"}],
    }
    await ready_instance(apiserver, spec=spec)
    volumes, mounts, env = snapshot_parts(pod_template(apiserver))
    assert volumes == [
        {
            "name": "snapshots",
            "persistentVolumeClaim": {"claimName": "watcher-filemon-pvc", "readOnly": True},
        }
    ]
    assert mounts == [
        {"name": "snapshots", "mountPath": "/snapshots", "readOnly": True, "subPath": "snapshots"}
    ]
    assert env == [{"name": "WATCHER_SNAPSHOT_DIR", "value": "/snapshots"}]
    # The claim is filemon's: the operator neither creates nor touches it.
    assert apiserver.read_object(CLAIMS, "ns1", "watcher-filemon-pvc") is None

    # Removing spec.snapshots removes all three from the live Deployment (the merge patch
    # replaces the lists whole), and leaves the rest of the pod as it was.
    apiserver.patch_object(INSTANCES, "ns1", "os-1", {"spec": {"snapshots": None}})
    await eventually(
        lambda: snapshot_parts(pod_template(apiserver)) == ([], [], []),
        what="the snapshot volume, mount and env gone",
    )
    pod = pod_template(apiserver)
    assert [v["name"] for v in pod["volumes"]] == ["data", "tmp"]
    assert [m["name"] for m in pod["containers"][0]["volumeMounts"]] == ["data", "tmp"]
    assert {"name": "WATCHER_LOG_LEVEL", "value": "debug"} in pod["containers"][0]["env"]
    generation = apiserver.read_object(INSTANCES, "ns1", "os-1")["metadata"]["generation"]
    await eventually(
        lambda: instance_status(apiserver, "os-1").get("observedGeneration") == generation
    )
    # And nothing brings them back on later passes.
    await passes_after(apiserver, 2, DEPLOYMENT_PATH)
    assert snapshot_parts(pod_template(apiserver)) == ([], [], [])

    # An invalid value is refused in status, and the running service is left as it is.
    before = len(deployment_versions(apiserver))
    apiserver.patch_object(
        INSTANCES, "ns1", "os-1", {"spec": {"snapshots": {"claimName": "pvc", "subPath": "../x"}}}
    )
    await eventually(lambda: degraded(apiserver, "os-1", "InvalidSpec"), what="refused")
    message = condition(instance_status(apiserver, "os-1"), "Degraded")["message"]
    assert "spec.snapshots.subPath '../x' must be a relative path" in message
    await passes_after(apiserver, 2, DEPLOYMENT_PATH)
    assert len(deployment_versions(apiserver)) == before


def restarted_at(deployment: dict) -> str | None:
    template = deployment["spec"]["template"]["metadata"]
    return (template.get("annotations") or {}).get(c.RESTARTED_AT_ANNOTATION)


def restarts(api: ApiServer) -> list[str]:
    """Each change of the pod template's restartedAt annotation, in order."""
    values = [restarted_at(v) for v in deployment_versions(api)]
    return [v for prev, v in zip([None, *values], values, strict=False) if v and v != prev]


async def test_restart_at_restarts_exactly_once(apiserver: ApiServer, operator: object) -> None:
    await ready_instance(apiserver)
    first = "2026-03-02T09:00:00Z"
    apiserver.patch_object(INSTANCES, "ns1", "os-1", {"spec": {"restartAt": first}})
    await eventually(lambda: instance_status(apiserver, "os-1").get("lastRestartAt") == first)
    assert restarts(apiserver) == [first]
    await eventually(lambda: "Restarted" in reasons(apiserver, "os-1"))

    # Neither the passes that follow nor an unrelated change restart it again.
    await passes_after(apiserver, 3, DEPLOYMENT_PATH)
    apiserver.patch_object(INSTANCES, "ns1", "os-1", {"spec": {"paused": False, "env": []}})
    generation = apiserver.read_object(INSTANCES, "ns1", "os-1")["metadata"]["generation"]
    await eventually(
        lambda: instance_status(apiserver, "os-1").get("observedGeneration") == generation
    )
    await passes_after(apiserver, 2, DEPLOYMENT_PATH)
    assert restarts(apiserver) == [first]

    assert reasons(apiserver, "os-1").count("Restarted") == 1

    # A new value is one more restart.
    second = "2026-03-09T09:00:00+09:00"
    apiserver.patch_object(INSTANCES, "ns1", "os-1", {"spec": {"restartAt": second}})
    await eventually(lambda: instance_status(apiserver, "os-1").get("lastRestartAt") == second)
    await eventually(lambda: reasons(apiserver, "os-1").count("Restarted") == 2)
    await passes_after(apiserver, 3, DEPLOYMENT_PATH)
    assert restarts(apiserver) == [first, second]
    assert reasons(apiserver, "os-1").count("Restarted") == 2


async def test_deleted_service_and_edited_deployment_are_repaired(
    apiserver: ApiServer, operator: object
) -> None:
    await ready_instance(apiserver)
    old = apiserver.read_object(SERVICES, "ns1", "watcher-os-1")
    apiserver.delete_object(SERVICES, "ns1", "watcher-os-1")
    # Nothing watches Services: the repair interval (1 s here) brings it back.
    new = await eventually(lambda: apiserver.read_object(SERVICES, "ns1", "watcher-os-1"))
    assert new["metadata"]["uid"] != old["metadata"]["uid"]
    assert new["spec"] == old["spec"]
    await eventually(
        lambda: (
            ("Normal", "Repaired", "Recreated missing Service watcher-os-1")
            in events_for(apiserver, "os-1")
        )
    )

    # Someone edits the Deployment by hand: it is reverted.
    apiserver.patch_object(
        DEPLOYMENTS,
        "ns1",
        "watcher-os-1",
        {"spec": {"replicas": 3, "strategy": {"type": "RollingUpdate", "rollingUpdate": {}}}},
    )

    def reverted() -> bool:
        spec = apiserver.read_object(DEPLOYMENTS, "ns1", "watcher-os-1")["spec"]
        return spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}

    await eventually(reverted, what="the Deployment reverted")
    await eventually(
        lambda: (
            ("Normal", "Repaired", "Reverted drift in Deployment watcher-os-1")
            in events_for(apiserver, "os-1")
        )
    )


async def passes_after_stop(api: ApiServer) -> None:
    """Long enough for a pass in flight, or a wrongly surviving reconciler, to show."""
    writes = len(list(api))
    await asyncio.sleep(1.5)  # > the 1 s interval: a live reconciler would read something
    stray = [
        f"{r.method.value} {r.url.path}"
        for r in list(api)[writes:]
        if r.headers.get("User-Agent", "").startswith("OpenAPI-Generator")
    ]
    assert stray == [], "the reconciler still ran after the instance was deleted"


async def test_delete_removes_owned_children_and_keeps_data(
    apiserver: ApiServer, operator: object
) -> None:
    instance = await ready_instance(apiserver)
    uid = instance["metadata"]["uid"]
    for res in (DEPLOYMENTS, SERVICES):
        refs = apiserver.read_object(res, "ns1", "watcher-os-1")["metadata"]["ownerReferences"]
        assert [(ref["uid"], ref["controller"]) for ref in refs] == [(uid, True)]
    claim = apiserver.read_object(CLAIMS, "ns1", "watcher-os-1-data")
    assert claim["metadata"].get("ownerReferences", []) == []

    apiserver.delete_object(INSTANCES, "ns1", "os-1")
    # Kopf stops the reconciler and removes its finalizer, the instance goes, and the garbage
    # collector takes its children.
    await eventually(lambda: apiserver.read_object(INSTANCES, "ns1", "os-1") is None)
    assert apiserver.read_object(DEPLOYMENTS, "ns1", "watcher-os-1") is None
    assert apiserver.read_object(SERVICES, "ns1", "watcher-os-1") is None
    kept = apiserver.read_object(CLAIMS, "ns1", "watcher-os-1-data")
    assert kept is not None and kept["metadata"]["uid"] == claim["metadata"]["uid"]
    # And nothing was written after the reconciler stopped: no child came back.
    await passes_after_stop(apiserver)
    for res in (DEPLOYMENTS, SERVICES):
        history = apiserver.object_versions(res, "ns1", "watcher-os-1")
        assert history[-1] is None and history.count(None) == 1, res.plural


async def test_delete_without_retain_removes_the_data_too(
    apiserver: ApiServer, operator: object
) -> None:
    spec = {"classDiv": "os-1", "storage": {"retainOnDelete": False}}
    instance = await ready_instance(apiserver, spec=spec)
    claim = apiserver.read_object(CLAIMS, "ns1", "watcher-os-1-data")
    assert [ref["uid"] for ref in claim["metadata"]["ownerReferences"]] == [
        instance["metadata"]["uid"]
    ]
    apiserver.delete_object(INSTANCES, "ns1", "os-1")
    await eventually(lambda: apiserver.read_object(INSTANCES, "ns1", "os-1") is None)
    assert apiserver.read_object(CLAIMS, "ns1", "watcher-os-1-data") is None
    assert apiserver.read_object(DEPLOYMENTS, "ns1", "watcher-os-1") is None


async def test_retain_toggled_back_on_disowns_the_data(
    apiserver: ApiServer, operator: object
) -> None:
    await ready_instance(apiserver, spec={"classDiv": "os-1", "storage": {"retainOnDelete": False}})
    apiserver.patch_object(
        INSTANCES, "ns1", "os-1", {"spec": {"storage": {"retainOnDelete": True}}}
    )
    await eventually(
        lambda: (
            not apiserver.read_object(CLAIMS, "ns1", "watcher-os-1-data")["metadata"].get(
                "ownerReferences"
            )
        ),
        what="the claim disowned",
    )
    apiserver.delete_object(INSTANCES, "ns1", "os-1")
    await eventually(lambda: apiserver.read_object(INSTANCES, "ns1", "os-1") is None)
    assert apiserver.read_object(CLAIMS, "ns1", "watcher-os-1-data") is not None


def degraded(api: ApiServer, name: str, reason: str) -> bool:
    status = instance_status(api, name)
    cond = condition(status, "Degraded")
    return status.get("phase") == "Degraded" and cond.get("reason") == reason


async def test_invalid_spec_is_degraded_and_nothing_is_created(
    apiserver: ApiServer, operator: object
) -> None:
    create_instance(apiserver, "bad-1", {"classDiv": "os_1", "restartAt": "yesterday"})
    await eventually(lambda: degraded(apiserver, "bad-1", "InvalidSpec"))
    status = instance_status(apiserver, "bad-1")
    message = condition(status, "Degraded")["message"]
    assert "spec.classDiv 'os_1'" in message and "spec.restartAt 'yesterday'" in message
    assert condition(status, "Ready")["status"] == "False"
    assert all(obj is None for obj in children(apiserver, "bad-1").values())
    await eventually(lambda: events_for(apiserver, "bad-1"))
    assert [(t, r) for t, r, _ in events_for(apiserver, "bad-1")] == [("Warning", "Refused")]

    # Fixed, it is applied.
    apiserver.patch_object(
        INSTANCES, "ns1", "bad-1", {"spec": {"classDiv": "os-1", "restartAt": ""}}
    )
    await eventually(lambda: all(children(apiserver, "bad-1").values()), what="the children")


async def test_storage_shrink_is_refused_and_nothing_is_destroyed(
    apiserver: ApiServer, operator: object
) -> None:
    await ready_instance(apiserver, spec={"classDiv": "os-1", "storage": {"size": "5Gi"}})
    versions = {
        res.plural: len(apiserver.object_versions(res, "ns1", name))
        for res, name in ((DEPLOYMENTS, "watcher-os-1"), (CLAIMS, "watcher-os-1-data"))
    }
    apiserver.patch_object(
        INSTANCES,
        "ns1",
        "os-1",
        {"spec": {"storage": {"size": "1Gi"}, "image": "registry.example/other:1"}},
    )
    await eventually(lambda: degraded(apiserver, "os-1", "StorageShrinkRefused"))
    message = condition(instance_status(apiserver, "os-1"), "Degraded")["message"]
    assert "1Gi is smaller than the 5Gi" in message
    await eventually(lambda: ("Warning", "Refused", message) in events_for(apiserver, "os-1"))
    # The refused spec is not applied at all, and the running service is left alone.
    await passes_after(
        apiserver, 2, "/api/v1/namespaces/ns1/persistentvolumeclaims/watcher-os-1-data"
    )
    assert apiserver.read_object(CLAIMS, "ns1", "watcher-os-1-data")["spec"]["resources"] == {
        "requests": {"storage": "5Gi"}
    }
    for res, name in ((DEPLOYMENTS, "watcher-os-1"), (CLAIMS, "watcher-os-1-data")):
        assert len(apiserver.object_versions(res, "ns1", name)) == versions[res.plural]
    assert instance_status(apiserver, "os-1")["readyReplicas"] == 1
    assert reasons(apiserver, "os-1").count("Refused") == 1  # said once, not every pass

    # Growing is fine.
    apiserver.patch_object(
        INSTANCES, "ns1", "os-1", {"spec": {"storage": {"size": "10Gi"}, "image": ""}}
    )
    await eventually(
        lambda: (
            apiserver.read_object(CLAIMS, "ns1", "watcher-os-1-data")["spec"]["resources"]
            == {"requests": {"storage": "10Gi"}}
        )
    )
    await eventually(lambda: instance_status(apiserver, "os-1").get("phase") == "Ready")


async def test_second_instance_for_a_class_is_refused_until_the_first_goes(
    apiserver: ApiServer, operator: object
) -> None:
    await ready_instance(apiserver, "os-1", {"classDiv": "os-1"})
    create_instance(apiserver, "os-1-again", {"classDiv": "os-1"})
    await eventually(lambda: degraded(apiserver, "os-1-again", "DuplicateClassDiv"))
    message = condition(instance_status(apiserver, "os-1-again"), "Degraded")["message"]
    assert "already served by WatcherInstance os-1" in message
    assert all(obj is None for obj in children(apiserver, "os-1-again").values())
    assert instance_status(apiserver, "os-1")["phase"] == "Ready"

    apiserver.delete_object(INSTANCES, "ns1", "os-1")
    await eventually(lambda: all(children(apiserver, "os-1-again").values()), what="takeover")
    await eventually(lambda: instance_status(apiserver, "os-1-again")["phase"] == "Pending")


async def test_paused_scales_to_zero_and_back(apiserver: ApiServer, operator: object) -> None:
    await ready_instance(apiserver)
    apiserver.patch_object(INSTANCES, "ns1", "os-1", {"spec": {"paused": True}})
    await eventually(
        lambda: apiserver.read_object(DEPLOYMENTS, "ns1", "watcher-os-1")["spec"]["replicas"] == 0
    )
    # Paused at once; scaling down (Progressing) until the Deployment reports 0 replicas.
    await eventually(lambda: instance_status(apiserver, "os-1").get("phase") == "Paused")
    status = instance_status(apiserver, "os-1")
    assert condition(status, "Progressing")["reason"] == "ScalingDown"
    mark_deployment_ready(apiserver, "watcher-os-1")  # the controller reports 0/0
    await eventually(lambda: instance_status(apiserver, "os-1")["readyReplicas"] == 0)
    status = instance_status(apiserver, "os-1")
    assert condition(status, "Progressing")["status"] == "False"
    assert (condition(status, "Ready")["status"], condition(status, "Ready")["reason"]) == (
        "False",
        "Paused",
    )
    assert status["readyReplicas"] == 0
    assert apiserver.read_object(CLAIMS, "ns1", "watcher-os-1-data") is not None

    apiserver.patch_object(INSTANCES, "ns1", "os-1", {"spec": {"paused": False}})
    await eventually(
        lambda: apiserver.read_object(DEPLOYMENTS, "ns1", "watcher-os-1")["spec"]["replicas"] == 1
    )
    mark_deployment_ready(apiserver, "watcher-os-1")
    await eventually(lambda: instance_status(apiserver, "os-1").get("phase") == "Ready")


async def test_service_monitor_follows_the_spec_when_the_api_exists(
    apiserver: ApiServer, operator: object
) -> None:
    install_crd(apiserver, "monitoring.coreos.com", "v1", "servicemonitors", "ServiceMonitor")
    spec = {
        "classDiv": "os-1",
        "serviceMonitor": {"interval": "15s", "labels": {"release": "prometheus"}},
    }
    instance = create_instance(apiserver, "os-1", spec)
    monitor = await eventually(
        lambda: apiserver.read_object(SERVICE_MONITORS, "ns1", "watcher-os-1"), what="monitor"
    )
    assert monitor["metadata"]["labels"] == {**LABELS, "release": "prometheus"}
    assert [ref["uid"] for ref in monitor["metadata"]["ownerReferences"]] == [
        instance["metadata"]["uid"]
    ]
    assert monitor["spec"] == {
        "selector": {"matchLabels": {k: LABELS[k] for k in list(LABELS)[:2]}},
        "namespaceSelector": {"matchNames": ["ns1"]},
        "endpoints": [{"port": "http", "path": "/metrics", "interval": "15s"}],
    }
    # The Service it selects carries those labels and names its port "http".
    service = apiserver.read_object(SERVICES, "ns1", "watcher-os-1")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert service["spec"]["ports"][0]["name"] == "http"

    apiserver.patch_object(
        INSTANCES, "ns1", "os-1", {"spec": {"serviceMonitor": {"enabled": False}}}
    )
    await eventually(lambda: apiserver.read_object(SERVICE_MONITORS, "ns1", "watcher-os-1") is None)
    await eventually(lambda: "Deleted" in reasons(apiserver, "os-1"))


async def test_kubectl_applies_the_example_and_waits_for_ready(
    apiserver: ApiServer, operator: object, kubectl_env: dict[str, str]
) -> None:
    kubectl = str(KUBECTL)
    code, out, err = await run(
        kubectl, "apply", "--validate=false", "-f", str(EXAMPLE_PATH), env=kubectl_env
    )
    assert code == 0, err
    assert out.strip() == "watcherinstance.watcher.jcode.io/os-1 created"
    await eventually(lambda: apiserver.read_object(DEPLOYMENTS, "ns1", "watcher-os-1"))
    mark_deployment_ready(apiserver, "watcher-os-1")
    code, out, err = await run(
        kubectl, "wait", "--for=condition=Ready", "wi/os-1", "--timeout=20s", env=kubectl_env
    )
    assert code == 0, err
    assert out.strip() == "watcherinstance.watcher.jcode.io/os-1 condition met"
    # The example's env reached the service.
    deployment = apiserver.read_object(DEPLOYMENTS, "ns1", "watcher-os-1")
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "WATCHER_LOG_FORMAT", "value": "json"} in env


async def test_api_errors_are_reported_once_and_retried(
    apiserver: ApiServer, operator: object
) -> None:
    failing = True

    def forbidden() -> object:
        # Until the test lifts it, creating the Service is forbidden (as if RBAC lacked it);
        # NotImplemented then retires this reaction and the emulator serves the request.
        if failing:
            return kmock.KubernetesError(403, "Forbidden", 'services "watcher-os-1" is forbidden')
        return NotImplemented

    apiserver["post /api/v1/namespaces/ns1/services"] << forbidden
    create_instance(apiserver, "os-1", {"classDiv": "os-1"})
    failure = ("Warning", "ApplyFailed", "API request failed: 403 Forbidden")
    await eventually(lambda: failure in events_for(apiserver, "os-1"), what="ApplyFailed")
    await passes_after(apiserver, 3, DEPLOYMENT_PATH)  # retried...
    assert events_for(apiserver, "os-1").count(failure) == 1  # ...but said once
    assert apiserver.read_object(SERVICES, "ns1", "watcher-os-1") is None
    status = instance_status(apiserver, "os-1")
    assert status["phase"] == "Degraded"
    assert condition(status, "Degraded")["reason"] == "ApplyFailed"
    assert condition(status, "Ready")["status"] == "False"

    failing = False
    await eventually(lambda: apiserver.read_object(SERVICES, "ns1", "watcher-os-1"))
    await eventually(lambda: instance_status(apiserver, "os-1").get("phase") == "Pending")


def routing_table(api: ApiServer, namespace: str = "ns1") -> dict | None:
    found = api.read_object(CONFIG_MAPS, namespace, "watcher-routes")
    return json.loads(found["data"]["routes.json"]) if found else None


async def test_ready_instances_are_published_for_the_gateway(
    apiserver: ApiServer, operator: object
) -> None:
    create_instance(apiserver, "os-1", {"classDiv": "os-1"})
    os1 = "http://watcher-os-1.ns1.svc:3000"
    # Routed as soon as it is accepted: until its pod is ready the gateway answers 503.
    await eventually(lambda: routing_table(apiserver) == {"os-1": os1}, what="os-1 routed")
    assert instance_status(apiserver, "os-1").get("phase") != "Ready"
    # A refused duplicate for the class never takes its route.
    create_instance(apiserver, "os-1-copy", {"classDiv": "os-1"})
    await eventually(lambda: degraded(apiserver, "os-1-copy", "DuplicateClassDiv"), what="refused")
    mark_deployment_ready(apiserver, "watcher-os-1")
    await ready_instance(apiserver, "ds-2")
    both = {"os-1": os1, "ds-2": "http://watcher-ds-2.ns1.svc:3000"}
    await eventually(lambda: routing_table(apiserver) == both, what="both routed")
    table = apiserver.read_object(CONFIG_MAPS, "ns1", "watcher-routes")
    assert table["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "watcher-operator"
    assert reasons(apiserver, "os-1").count("Routed") == 1

    assert routing_table(apiserver) == both
    apiserver.delete_object(INSTANCES, "ns1", "os-1-copy")
    apiserver.delete_object(INSTANCES, "ns1", "os-1")
    await eventually(
        lambda: routing_table(apiserver) == {"ds-2": "http://watcher-ds-2.ns1.svc:3000"},
        what="os-1 unrouted on deletion",
    )
    # Another namespace's instances never appear in this namespace's table.
    assert routing_table(apiserver, "ns2") is None
