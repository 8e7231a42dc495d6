"""End to end: the real Kopf runtime and client against the emulated API server.

Each test starts a fresh emulator and operator (the ``operator`` fixture), acts as a user or as
the cluster's controllers would, and polls the emulator's state with a bounded timeout.
"""

from __future__ import annotations

import sys

import yaml

from tests.operator.apiserver import ApiServer
from tests.operator.helpers import (
    CLAIMS,
    DEPLOYMENTS,
    INSTANCES,
    SERVICES,
    condition,
    create_instance,
    eventually,
    instance_status,
    mark_deployment_ready,
    reasons,
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
