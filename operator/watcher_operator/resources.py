"""Pure builders: a WatcherInstance (its identity and parsed spec) -> the manifests of its children.

No I/O here. Every function returns a fresh plain dict in the shape the API expects, holding only
the fields the operator owns: whatever the API server or other controllers add is left alone when
the live objects are compared with these (see apply.py).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from watcher_operator import conventions as c
from watcher_operator.spec import InstanceSpec


def owner_reference(body: Mapping[str, Any]) -> dict[str, Any]:
    """A reference to the WatcherInstance that makes a child garbage-collected with it."""
    return {
        "apiVersion": c.API_VERSION,
        "kind": c.KIND,
        "name": body["metadata"]["name"],
        "uid": body["metadata"]["uid"],
        "controller": True,
        # Foreground deletion of the instance waits for its children.
        "blockOwnerDeletion": True,
    }


def _metadata(
    name: str, namespace: str, instance: str, spec: InstanceSpec, owners: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": namespace,
        "labels": c.labels(instance, spec.class_div),
        "ownerReferences": owners,
    }


def deployment(
    instance: str,
    namespace: str,
    spec: InstanceSpec,
    owner: Mapping[str, Any],
    *,
    restarted_at: str = "",
) -> dict[str, Any]:
    """The service's Deployment.

    ``restarted_at`` (the pod template's restartedAt annotation) is set only while a restart is
    pending; otherwise the annotation is left out, so the live value, whoever set it, is kept.
    """
    template_metadata: dict[str, Any] = {"labels": c.labels(instance, spec.class_div)}
    if restarted_at:
        template_metadata["annotations"] = {c.RESTARTED_AT_ANNOTATION: restarted_at}
    probe = {"httpGet": {"path": c.LIVENESS_PATH, "port": c.PORT_NAME}}
    snapshots = snapshot_parts(spec)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(c.child_name(instance), namespace, instance, spec, [dict(owner)]),
        "spec": {
            "replicas": 0 if spec.paused else 1,
            "selector": {"matchLabels": c.selector_labels(instance)},
            # SQLite on a ReadWriteOnce volume: the old pod must be gone before the new one
            # starts, never two writers.
            "strategy": {"type": "Recreate"},
            "template": {
                "metadata": template_metadata,
                "spec": {
                    # The service never calls the Kubernetes API.
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": c.RUN_AS_USER,
                        "runAsGroup": c.RUN_AS_GROUP,
                        "fsGroup": c.RUN_AS_GROUP,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": c.CONTAINER_NAME,
                            "image": spec.image,
                            "ports": [
                                {"name": c.PORT_NAME, "containerPort": c.PORT, "protocol": "TCP"}
                            ],
                            "env": [
                                {"name": "WATCHER_DB_PATH", "value": c.DB_PATH},
                                {"name": "WATCHER_HOST", "value": "0.0.0.0"},
                                {"name": "WATCHER_PORT", "value": str(c.PORT)},
                                *snapshots["env"],
                                *(copy.deepcopy(dict(var)) for var in spec.env),
                            ],
                            "volumeMounts": [
                                {"name": "data", "mountPath": c.DATA_DIR},
                                # The root filesystem is read-only; SQLite and Python may
                                # still need a scratch directory.
                                {"name": "tmp", "mountPath": "/tmp"},
                                *snapshots["volumeMounts"],
                            ],
                            # Migrations run before the port opens: allow up to 2 minutes.
                            "startupProbe": {**probe, "periodSeconds": 2, "failureThreshold": 60},
                            "livenessProbe": {
                                **probe,
                                "periodSeconds": 10,
                                "timeoutSeconds": 3,
                                "failureThreshold": 3,
                            },
                            "readinessProbe": {
                                "httpGet": {"path": c.READINESS_PATH, "port": c.PORT_NAME},
                                "periodSeconds": 5,
                                "timeoutSeconds": 3,
                                "failureThreshold": 2,
                            },
                            "resources": copy.deepcopy(dict(spec.resources)),
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "runAsNonRoot": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                        }
                    ],
                    "volumes": [
                        {
                            "name": "data",
                            "persistentVolumeClaim": {"claimName": c.data_claim_name(instance)},
                        },
                        {"name": "tmp", "emptyDir": {}},
                        *snapshots["volumes"],
                    ],
                },
            },
        },
    }


def snapshot_parts(spec: InstanceSpec) -> dict[str, list[dict[str, Any]]]:
    """The Deployment's additions for spec.snapshots: its volume, mount and env variable.

    Empty lists when it is unset. The Deployment is applied as a merge patch, which replaces
    these lists whole, so removing spec.snapshots removes all three from the live object too.
    """
    if spec.snapshots is None:
        return {"volumes": [], "volumeMounts": [], "env": []}
    mount: dict[str, Any] = {
        "name": c.SNAPSHOT_VOLUME,
        "mountPath": c.SNAPSHOT_DIR,
        "readOnly": True,
    }
    if spec.snapshots.sub_path:
        mount["subPath"] = spec.snapshots.sub_path
    volume = {
        "name": c.SNAPSHOT_VOLUME,
        "persistentVolumeClaim": {
            "claimName": spec.snapshots.claim_name,
            # filemon's volume, shared with its writer: read-only at the volume too, not just
            # at the mount, which also keeps the kubelet from applying the pod's fsGroup to
            # filemon's files (CSI volumes mounted read-only are never re-owned).
            "readOnly": True,
        },
    }
    return {
        "volumes": [volume],
        "volumeMounts": [mount],
        "env": [{"name": c.SNAPSHOT_DIR_ENV, "value": c.SNAPSHOT_DIR}],
    }


def service(
    instance: str, namespace: str, spec: InstanceSpec, owner: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(c.child_name(instance), namespace, instance, spec, [dict(owner)]),
        "spec": {
            "type": "ClusterIP",
            "selector": c.selector_labels(instance),
            "ports": [
                {"name": c.PORT_NAME, "port": c.PORT, "targetPort": c.PORT_NAME, "protocol": "TCP"}
            ],
        },
    }


def data_claim(
    instance: str, namespace: str, spec: InstanceSpec, owner: Mapping[str, Any]
) -> dict[str, Any]:
    """The class's data volume: owned (deleted with the instance) only if not retained.

    When retained, ``ownerReferences`` is an explicit empty list rather than absent, so that
    applying it also removes a reference left from when retainOnDelete was false.
    """
    claim_spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": spec.storage.size}},
    }
    if spec.storage.storage_class_name:
        claim_spec["storageClassName"] = spec.storage.storage_class_name
    owners = [] if spec.storage.retain_on_delete else [dict(owner)]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": _metadata(c.data_claim_name(instance), namespace, instance, spec, owners),
        "spec": claim_spec,
    }


def service_monitor(
    instance: str, namespace: str, spec: InstanceSpec, owner: Mapping[str, Any]
) -> dict[str, Any]:
    """The Prometheus-operator scrape config for the Service's /metrics."""
    metadata = _metadata(c.child_name(instance), namespace, instance, spec, [dict(owner)])
    # Extra labels first: the operator's own labels must not be overridden by them.
    metadata["labels"] = {**spec.service_monitor.labels, **metadata["labels"]}
    return {
        "apiVersion": f"{c.MONITORING_GROUP}/{c.MONITORING_VERSION}",
        "kind": "ServiceMonitor",
        "metadata": metadata,
        "spec": {
            "selector": {"matchLabels": c.selector_labels(instance)},
            "namespaceSelector": {"matchNames": [namespace]},
            "endpoints": [
                {
                    "port": c.PORT_NAME,
                    "path": c.METRICS_PATH,
                    "interval": spec.service_monitor.interval,
                }
            ],
        },
    }


def pending_restart(spec: InstanceSpec, status: Mapping[str, Any]) -> str:
    """The restartAt value still to be rolled out, or '' when it has been (or is unset)."""
    if spec.restart_at and spec.restart_at != status.get("lastRestartAt"):
        return spec.restart_at
    return ""
