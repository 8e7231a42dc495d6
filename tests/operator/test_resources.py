"""The pure renderers, field by field, from a minimal and a full spec; the built-in kinds they
render are checked against Kubernetes' own schemas (kubernetes-validate, offline, strict)."""

from __future__ import annotations

import copy
from typing import Any

import kubernetes_validate
import pytest

from watcher_operator import resources, spec

IMAGE = "ghcr.io/jcode-watcher/jcode-watcher:0.1.0"
BODY = {"metadata": {"name": "os-1", "namespace": "ns1", "uid": "1234-abcd"}}
OWNER = {
    "apiVersion": "watcher.jcode.io/v1alpha1",
    "kind": "WatcherInstance",
    "name": "os-1",
    "uid": "1234-abcd",
    "controller": True,
    "blockOwnerDeletion": True,
}
LABELS = {
    "app.kubernetes.io/name": "jcode-watcher",
    "app.kubernetes.io/instance": "os-1",
    "app.kubernetes.io/component": "backend",
    "app.kubernetes.io/managed-by": "watcher-operator",
    "watcher.jcode.io/class-div": "os-1",
}
SELECTOR = {"app.kubernetes.io/name": "jcode-watcher", "app.kubernetes.io/instance": "os-1"}
MINIMAL = spec.parse({"classDiv": "os-1"}, default_image=IMAGE)
FULL = spec.parse(
    {
        "classDiv": "os-1",
        "image": "registry.example/watcher:9",
        "paused": True,
        "restartAt": "2026-03-02T09:00:00Z",
        "storage": {"size": "20Gi", "storageClassName": "fast", "retainOnDelete": False},
        "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
        "serviceMonitor": {"enabled": True, "interval": "15s", "labels": {"release": "prom"}},
        "env": [
            {"name": "WATCHER_LOG_LEVEL", "value": "debug"},
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "token"}}},
        ],
    },
    default_image=IMAGE,
)
K8S_VERSION = "1.37"


def valid(manifest: dict[str, Any]) -> None:
    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)


def test_owner_reference_points_at_the_instance_as_its_controller() -> None:
    assert resources.owner_reference(BODY) == OWNER


def test_deployment_from_a_minimal_spec() -> None:
    d = resources.deployment("os-1", "ns1", MINIMAL, OWNER)
    valid(d)
    assert (d["apiVersion"], d["kind"]) == ("apps/v1", "Deployment")
    assert d["metadata"] == {
        "name": "watcher-os-1",
        "namespace": "ns1",
        "labels": LABELS,
        "ownerReferences": [OWNER],
    }
    assert d["spec"]["replicas"] == 1
    assert d["spec"]["selector"] == {"matchLabels": SELECTOR}
    assert d["spec"]["strategy"] == {"type": "Recreate"}
    template = d["spec"]["template"]
    assert template["metadata"] == {"labels": LABELS}  # no restart pending: no annotation
    assert SELECTOR.items() <= template["metadata"]["labels"].items()
    pod = template["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["volumes"] == [
        {"name": "data", "persistentVolumeClaim": {"claimName": "watcher-os-1-data"}},
        {"name": "tmp", "emptyDir": {}},
    ]
    [container] = pod["containers"]
    assert container["name"] == "watcher"
    assert container["image"] == IMAGE
    assert "command" not in container and "args" not in container  # the image's default: serve
    assert container["ports"] == [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]
    assert container["env"] == [
        {"name": "WATCHER_DB_PATH", "value": "/data/watcher.db"},
        {"name": "WATCHER_HOST", "value": "0.0.0.0"},
        {"name": "WATCHER_PORT", "value": "3000"},
    ]
    assert container["volumeMounts"] == [
        {"name": "data", "mountPath": "/data"},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    assert container["livenessProbe"] == {
        "httpGet": {"path": "/healthz", "port": "http"},
        "periodSeconds": 10,
        "timeoutSeconds": 3,
        "failureThreshold": 3,
    }
    assert container["readinessProbe"] == {
        "httpGet": {"path": "/readyz", "port": "http"},
        "periodSeconds": 5,
        "timeoutSeconds": 3,
        "failureThreshold": 2,
    }
    assert container["startupProbe"] == {
        "httpGet": {"path": "/healthz", "port": "http"},
        "periodSeconds": 2,
        "failureThreshold": 60,
    }
    assert container["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"memory": "512Mi"},
    }
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }


def test_deployment_from_a_full_spec() -> None:
    d = resources.deployment("os-1", "ns1", FULL, OWNER, restarted_at="2026-03-02T09:00:00Z")
    valid(d)
    assert d["spec"]["replicas"] == 0  # paused
    assert d["spec"]["strategy"] == {"type": "Recreate"}
    template = d["spec"]["template"]
    assert template["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/restartedAt": "2026-03-02T09:00:00Z"
    }
    [container] = template["spec"]["containers"]
    assert container["image"] == "registry.example/watcher:9"
    # The operator's variables first, then the spec's, in order.
    assert container["env"][3:] == [
        {"name": "WATCHER_LOG_LEVEL", "value": "debug"},
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "token"}}},
    ]
    assert [var["name"] for var in container["env"][:3]] == [
        "WATCHER_DB_PATH",
        "WATCHER_HOST",
        "WATCHER_PORT",
    ]
    assert container["resources"] == {
        "requests": {"cpu": "1", "memory": "1Gi"},
        "limits": {"memory": "2Gi"},
    }


def with_snapshots(
    snapshots: dict[str, Any], base: dict[str, Any] | None = None
) -> spec.InstanceSpec:
    return spec.parse(
        {**(base or {"classDiv": "os-1"}), "snapshots": snapshots}, default_image=IMAGE
    )


def pod_spec(parsed: spec.InstanceSpec) -> dict[str, Any]:
    d = resources.deployment("os-1", "ns1", parsed, OWNER)
    valid(d)
    return d["spec"]["template"]["spec"]


SNAPSHOT_VOLUME = {
    "name": "snapshots",
    "persistentVolumeClaim": {"claimName": "watcher-filemon-pvc", "readOnly": True},
}
SNAPSHOT_ENV = {"name": "WATCHER_SNAPSHOT_DIR", "value": "/snapshots"}


def test_snapshots_mount_the_claim_read_only_and_name_it_in_the_env() -> None:
    pod = pod_spec(with_snapshots({"claimName": "watcher-filemon-pvc"}))
    # Read-only twice over: the volume source and the mount.
    assert pod["volumes"][2:] == [SNAPSHOT_VOLUME]
    [container] = pod["containers"]
    assert container["volumeMounts"][2:] == [
        {"name": "snapshots", "mountPath": "/snapshots", "readOnly": True}
    ]
    # Right after the operator's own variables, before the spec's.
    assert container["env"][3] == SNAPSHOT_ENV
    # Everything else is as without snapshots.
    assert pod["volumes"][:2] == pod_spec(MINIMAL)["volumes"]
    assert container["volumeMounts"][:2] == pod_spec(MINIMAL)["containers"][0]["volumeMounts"]


def test_snapshots_sub_path_is_mounted_in_place_of_the_root() -> None:
    parsed = with_snapshots(
        {"claimName": "watcher-filemon-pvc", "subPath": "watcher/snapshots"},
        base={"classDiv": "os-1", "env": [{"name": "WATCHER_LOG_LEVEL", "value": "debug"}]},
    )
    pod = pod_spec(parsed)
    assert pod["volumes"][2:] == [SNAPSHOT_VOLUME]
    [container] = pod["containers"]
    assert container["volumeMounts"][2:] == [
        {
            "name": "snapshots",
            "mountPath": "/snapshots",
            "readOnly": True,
            "subPath": "watcher/snapshots",
        }
    ]
    assert container["env"][3:] == [SNAPSHOT_ENV, {"name": "WATCHER_LOG_LEVEL", "value": "debug"}]


def test_an_empty_sub_path_mounts_the_root() -> None:
    explicit = with_snapshots({"claimName": "watcher-filemon-pvc", "subPath": ""})
    assert pod_spec(explicit) == pod_spec(with_snapshots({"claimName": "watcher-filemon-pvc"}))


def test_without_snapshots_there_is_no_volume_mount_or_env() -> None:
    for parsed in (MINIMAL, FULL):
        pod = pod_spec(parsed)
        [container] = pod["containers"]
        assert [v["name"] for v in pod["volumes"]] == ["data", "tmp"]
        assert [m["name"] for m in container["volumeMounts"]] == ["data", "tmp"]
        assert "WATCHER_SNAPSHOT_DIR" not in {var["name"] for var in container["env"]}


def test_renderers_return_fresh_objects() -> None:
    first = resources.deployment("os-1", "ns1", FULL, OWNER)
    first["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": "X", "value": "y"})
    first["metadata"]["labels"]["x"] = "y"
    assert resources.deployment("os-1", "ns1", FULL, OWNER) != first
    assert FULL.env[0] == {"name": "WATCHER_LOG_LEVEL", "value": "debug"}


def test_service() -> None:
    for parsed in (MINIMAL, FULL):
        s = resources.service("os-1", "ns1", parsed, OWNER)
        valid(s)
        assert s == {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "watcher-os-1",
                "namespace": "ns1",
                "labels": LABELS,
                "ownerReferences": [OWNER],
            },
            "spec": {
                "type": "ClusterIP",
                "selector": SELECTOR,
                "ports": [{"name": "http", "port": 3000, "targetPort": "http", "protocol": "TCP"}],
            },
        }


def test_data_claim_from_a_minimal_spec_is_retained() -> None:
    claim = resources.data_claim("os-1", "ns1", MINIMAL, OWNER)
    valid(claim)
    assert claim == {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": "watcher-os-1-data",
            "namespace": "ns1",
            "labels": LABELS,
            "ownerReferences": [],  # explicitly none: not garbage-collected with the instance
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "5Gi"}},
        },
    }


def test_data_claim_from_a_full_spec_is_owned() -> None:
    claim = resources.data_claim("os-1", "ns1", FULL, OWNER)
    valid(claim)
    assert claim["metadata"]["ownerReferences"] == [OWNER]
    assert claim["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "20Gi"}},
        "storageClassName": "fast",
    }


def test_service_monitor() -> None:
    minimal = resources.service_monitor("os-1", "ns1", MINIMAL, OWNER)
    assert minimal == {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {
            "name": "watcher-os-1",
            "namespace": "ns1",
            "labels": LABELS,
            "ownerReferences": [OWNER],
        },
        "spec": {
            "selector": {"matchLabels": SELECTOR},
            "namespaceSelector": {"matchNames": ["ns1"]},
            "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
        },
    }
    full = resources.service_monitor("os-1", "ns1", FULL, OWNER)
    assert full["metadata"]["labels"] == {"release": "prom", **LABELS}
    assert full["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "15s"}]


def test_service_monitor_labels_cannot_override_the_operators() -> None:
    parsed = spec.parse(
        {
            "classDiv": "os-1",
            "serviceMonitor": {"labels": {"app.kubernetes.io/managed-by": "someone-else"}},
        },
        default_image=IMAGE,
    )
    monitor = resources.service_monitor("os-1", "ns1", parsed, OWNER)
    assert monitor["metadata"]["labels"] == LABELS


@pytest.mark.parametrize(
    ("restart_at", "last", "pending"),
    [
        ("", None, ""),
        ("", "2026-01-01T00:00:00Z", ""),
        ("2026-03-02T09:00:00Z", None, "2026-03-02T09:00:00Z"),
        ("2026-03-02T09:00:00Z", "2026-01-01T00:00:00Z", "2026-03-02T09:00:00Z"),
        ("2026-03-02T09:00:00Z", "2026-03-02T09:00:00Z", ""),
    ],
)
def test_pending_restart(restart_at: str, last: str | None, pending: str) -> None:
    parsed = spec.parse({"classDiv": "os-1", "restartAt": restart_at}, default_image=IMAGE)
    status = {} if last is None else {"lastRestartAt": last}
    assert resources.pending_restart(parsed, status) == pending


def test_the_validation_would_catch_a_broken_manifest() -> None:
    """A control: the strict schemas do reject what the API server would."""
    broken = resources.deployment("os-1", "ns1", MINIMAL, OWNER)
    broken["spec"]["template"]["spec"]["containers"][0]["portz"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        valid(broken)
    wrong_type = copy.deepcopy(resources.service("os-1", "ns1", MINIMAL, OWNER))
    wrong_type["spec"]["ports"][0]["port"] = "3000"
    with pytest.raises(kubernetes_validate.ValidationError):
        valid(wrong_type)
