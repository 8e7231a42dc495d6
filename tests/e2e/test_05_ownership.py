"""What a namespace user cannot make the operator do: take over objects it did not create, use a
name of the installation's own objects, run an image the admin did not allow, or act in a
namespace the install does not serve."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.cluster import Cluster
from tests.e2e.conftest import NAMESPACE, OPERATOR, REPAIR_INTERVAL, Release
from tests.e2e.kube import condition, eventually
from tests.e2e.test_02_validation import instance


def degraded(cluster: Cluster, name: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        status = cluster.get("wi", name, "-n", NAMESPACE).get("status") or {}
        return (
            condition({"status": status}, "Degraded") if status.get("phase") == "Degraded" else None
        )

    return eventually(found, within=30, what=f"{name} Degraded")


def absent(cluster: Cluster, kind: str, name: str, namespace: str = NAMESPACE) -> bool:
    return cluster.kubectl("get", kind, name, "-n", namespace, check=False).returncode != 0


def delete_instance(cluster: Cluster, name: str, namespace: str = NAMESPACE) -> None:
    cluster.kubectl("delete", "wi", name, "-n", namespace, "--wait=true", "--timeout=60s")


def test_a_foreign_service_is_left_alone_and_reported(release: Release) -> None:
    cluster = release.cluster
    foreign = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "watcher-squat", "namespace": NAMESPACE, "labels": {"team": "other"}},
        "spec": {"selector": {"app": "theirs"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(foreign))
    before = cluster.get("service", "watcher-squat", "-n", NAMESPACE)
    cluster.kubectl("apply", "-f", "-", input=instance("squat", {"classDiv": "sq-1"}))
    try:
        found = degraded(cluster, "squat")
        print(f"\nsquat: {found['reason']}: {found['message']}")
        assert found["reason"] == "NameConflict"
        assert (
            "Service watcher-squat already exists and is not this WatcherInstance's"
            in found["message"]
        )
        after = cluster.get("service", "watcher-squat", "-n", NAMESPACE)
        assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
        assert "ownerReferences" not in after["metadata"]
        # Nothing is applied while the name is taken: no Deployment, no volume.
        assert absent(cluster, "deployment", "watcher-squat")
        assert absent(cluster, "pvc", "watcher-squat-data")
        # Once its owner removes it, the instance goes ahead.
        cluster.kubectl("delete", "service", "watcher-squat", "-n", NAMESPACE)
        cluster.kubectl(
            "wait",
            "-n",
            NAMESPACE,
            "--for=condition=Ready",
            "wi/squat",
            f"--timeout={3 * REPAIR_INTERVAL + 60}s",
        )
        service = cluster.get("service", "watcher-squat", "-n", NAMESPACE)
        assert service["spec"]["selector"]["app.kubernetes.io/instance"] == "squat"
    finally:
        delete_instance(cluster, "squat")
        cluster.kubectl(
            "delete", "pvc", "watcher-squat-data", "-n", NAMESPACE, "--ignore-not-found"
        )


def test_a_hand_made_claim_and_a_controlled_deployment_are_not_adopted(release: Release) -> None:
    cluster = release.cluster
    owner = cluster.kubectl("create", "configmap", "holder", "-n", NAMESPACE, "-o", "json").stdout
    holder = json.loads(owner)["metadata"]
    objects = [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "watcher-taken-data", "namespace": NAMESPACE},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "watcher-taken",
                "namespace": NAMESPACE,
                # Labelled as ours, but controlled by something else: still not ours.
                "labels": {
                    "app.kubernetes.io/managed-by": "watcher-operator",
                    "app.kubernetes.io/instance": "taken",
                },
                "ownerReferences": [
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "name": "holder",
                        "uid": holder["uid"],
                        "controller": True,
                    }
                ],
            },
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "theirs"}},
                "template": {
                    "metadata": {"labels": {"app": "theirs"}},
                    "spec": {"containers": [{"name": "c", "image": "registry.example/theirs:1"}]},
                },
            },
        },
    ]
    cluster.kubectl(
        "apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    )
    versions = {
        kind: cluster.get(kind, name, "-n", NAMESPACE)["metadata"]["resourceVersion"]
        for kind, name in (("pvc", "watcher-taken-data"), ("deployment", "watcher-taken"))
    }
    cluster.kubectl("apply", "-f", "-", input=instance("taken", {"classDiv": "tk-1"}))
    try:
        found = degraded(cluster, "taken")
        print(f"\ntaken: {found['reason']}: {found['message']}")
        assert found["reason"] == "NameConflict"
        assert "PersistentVolumeClaim watcher-taken-data already exists" in found["message"]
        assert (
            f"Deployment watcher-taken is controlled by ConfigMap holder (uid {holder['uid']})"
            in found["message"]
        )
        for kind, name in (("pvc", "watcher-taken-data"), ("deployment", "watcher-taken")):
            assert (
                cluster.get(kind, name, "-n", NAMESPACE)["metadata"]["resourceVersion"]
                == versions[kind]
            )
        assert absent(cluster, "service", "watcher-taken")
        events = cluster.get(
            "events", "-n", NAMESPACE, "--field-selector", "involvedObject.name=taken"
        )
        assert [e["reason"] for e in events["items"] if e["type"] == "Warning"] == ["Refused"]
    finally:
        delete_instance(cluster, "taken")
        cluster.kubectl(
            "delete", "configmap", "holder", "-n", NAMESPACE
        )  # and with it its Deployment
        cluster.kubectl("delete", "pvc", "watcher-taken-data", "-n", NAMESPACE)


def test_names_of_the_installations_objects_are_refused(release: Release) -> None:
    """The chart's own operator Deployment is watcher-jcode-watcher-operator: an instance named
    jcode-watcher-operator would name its children so. The API server's CEL rule knows only the
    plain manifests' names; the operator knows the release's (WATCHER_OPERATOR_RESERVED_NAMES)."""
    cluster = release.cluster
    name = OPERATOR.removeprefix("watcher-")
    before = cluster.get("deployment", OPERATOR, "-n", NAMESPACE)
    cluster.kubectl("apply", "-f", "-", input=instance(name, {"classDiv": "op-1"}))
    try:
        found = degraded(cluster, name)
        print(f"\n{name}: {found['reason']}: {found['message']}")
        assert found["reason"] == "ReservedName"
        assert f"would name its children {OPERATOR}" in found["message"]
        after = cluster.get("deployment", OPERATOR, "-n", NAMESPACE)
        assert after["metadata"]["generation"] == before["metadata"]["generation"]
        assert "ownerReferences" not in after["metadata"]
        assert absent(cluster, "service", OPERATOR)
    finally:
        delete_instance(cluster, name)


def test_an_image_not_allowed_is_refused(release: Release) -> None:
    cluster = release.cluster
    cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=instance("miner", {"classDiv": "mn-1", "image": "registry.example/miner:1"}),
    )
    try:
        found = degraded(cluster, "miner")
        print(f"\nminer: {found['reason']}: {found['message']}")
        assert found["reason"] == "ImageNotAllowed"
        assert (
            "spec.image registry.example/miner:1 is not allowed here "
            "(allowed: ghcr.io/jcode-watcher/jcode-watcher)" in found["message"]
        )
        assert absent(cluster, "deployment", "watcher-miner")
        assert absent(cluster, "pvc", "watcher-miner-data")
    finally:
        delete_instance(cluster, "miner")


def test_the_operator_can_do_nothing_outside_its_namespaces(release: Release) -> None:
    cluster = release.cluster
    account = release.operator.username
    cluster.kubectl("create", "namespace", "e2e-unserved")
    try:
        for verb, resource in (
            ("create", "deployments"),
            ("patch", "services"),
            ("get", "secrets"),
        ):
            answer = cluster.kubectl(
                "auth",
                "can-i",
                verb,
                resource,
                "-n",
                "e2e-unserved",
                f"--as={account}",
                check=False,
            ).stdout.strip()
            assert answer == "no", (verb, resource)
        assert (
            cluster.kubectl(
                "auth", "can-i", "create", "deployments", "-n", NAMESPACE, f"--as={account}"
            ).stdout.strip()
            == "yes"
        )
        # spec.backup's Secret is read by name (its metadata: BackupReady, restarts), never
        # listed or watched: no way to discover the namespace's other Secrets.
        for verb, expected in (("get", "yes"), ("list", "no"), ("watch", "no")):
            answer = cluster.kubectl(
                "auth", "can-i", verb, "secrets", "-n", NAMESPACE, f"--as={account}", check=False
            ).stdout.strip()
            assert answer == expected, (verb, answer)
        # An instance there is not the operator's business: no finalizer, no status, no children.
        created = instance("elsewhere", {"classDiv": "el-1"}).replace(
            f'"namespace": "{NAMESPACE}"', '"namespace": "e2e-unserved"'
        )
        cluster.kubectl("apply", "-f", "-", input=created)
        import time

        time.sleep(REPAIR_INTERVAL + 2)
        found = cluster.get("wi", "elsewhere", "-n", "e2e-unserved")
        assert "status" not in found and not found["metadata"].get("finalizers")
        assert absent(cluster, "deployment", "watcher-elsewhere", "e2e-unserved")
    finally:
        cluster.kubectl("delete", "namespace", "e2e-unserved", "--wait=true", "--timeout=60s")


def resize(cluster: Cluster, size: str) -> None:
    body = json.dumps({"spec": {"storage": {"size": size}}})
    cluster.kubectl("patch", "wi", "os-1", "-n", NAMESPACE, "--type=merge", "-p", body)


def test_a_smaller_volume_is_refused_and_nothing_is_destroyed(release: Release) -> None:
    cluster = release.cluster
    claim = cluster.get("pvc", "watcher-os-1-data", "-n", NAMESPACE)
    deployment = cluster.get("deployment", "watcher-os-1", "-n", NAMESPACE)["metadata"]
    resize(cluster, "4Gi")
    found = degraded(cluster, "os-1")
    print(f"\nos-1: {found['reason']}: {found['message']}")
    assert found["reason"] == "StorageShrinkRefused"
    assert cluster.get("pvc", "watcher-os-1-data", "-n", NAMESPACE)["spec"] == claim["spec"]
    now = cluster.get("deployment", "watcher-os-1", "-n", NAMESPACE)["metadata"]
    assert now["generation"] == deployment["generation"]
    resize(cluster, "5Gi")
    cluster.kubectl("wait", "-n", NAMESPACE, "--for=condition=Ready", "wi/os-1", "--timeout=60s")


def test_a_second_instance_for_a_class_waits_for_the_first_to_go(release: Release) -> None:
    cluster = release.cluster
    cluster.kubectl("apply", "-f", "-", input=instance("first", {"classDiv": "dc-1"}))
    cluster.kubectl("wait", "-n", NAMESPACE, "--for=condition=Ready", "wi/first", "--timeout=90s")
    cluster.kubectl("apply", "-f", "-", input=instance("second", {"classDiv": "dc-1"}))
    try:
        found = degraded(cluster, "second")
        print(f"\nsecond: {found['reason']}: {found['message']}")
        assert found["reason"] == "DuplicateClassDiv"
        assert absent(cluster, "deployment", "watcher-second")
        delete_instance(cluster, "first")
        cluster.kubectl(
            "wait", "-n", NAMESPACE, "--for=condition=Ready", "wi/second", "--timeout=90s"
        )
    finally:
        for name in ("first", "second"):
            cluster.kubectl(
                "delete", "wi", name, "-n", NAMESPACE, "--ignore-not-found", "--wait=true"
            )
            cluster.kubectl(
                "delete", "pvc", f"watcher-{name}-data", "-n", NAMESPACE, "--ignore-not-found"
            )
