"""Pure builders: a WatcherInstance (its identity and parsed spec) -> the manifests of its children.

No I/O here. Every function returns a fresh plain dict in the shape the API expects, holding only
the fields the operator owns: whatever the API server or other controllers add is left alone when
the live objects are compared with these (see apply.py).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from typing import Any

import yaml

from watcher_operator import conventions as c
from watcher_operator.config import DEFAULT_LITESTREAM_IMAGE
from watcher_operator.spec import Backup, InstanceSpec, duration_ms

# Litestream's own footprint; it holds little more than the pages of one sync in memory.
LITESTREAM_RESOURCES: Mapping[str, Mapping[str, str]] = {
    "requests": {"cpu": "10m", "memory": "64Mi"},
    "limits": {"memory": "256Mi"},
}
LOCKED_DOWN = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
}


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
    litestream_image: str = DEFAULT_LITESTREAM_IMAGE,
    backup_secret_version: str = "",
) -> dict[str, Any]:
    """The service's Deployment.

    ``restarted_at`` (the pod template's restartedAt annotation) is set only while a restart is
    pending; otherwise the annotation is left out, so the live value, whoever set it, is kept.
    ``backup_secret_version`` is the resourceVersion of spec.backup's Secret, when it exists.
    """
    template_metadata: dict[str, Any] = {"labels": c.labels(instance, spec.class_div)}
    backup = backup_parts(
        instance,
        namespace,
        spec,
        litestream_image=litestream_image,
        secret_version=backup_secret_version,
    )
    annotations = dict(backup["annotations"])
    if restarted_at:
        annotations[c.RESTARTED_AT_ANNOTATION] = restarted_at
    if annotations:
        template_metadata["annotations"] = annotations
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
                    # Always present, [] without backup: the merge patch then removes them.
                    "initContainers": backup["initContainers"],
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
                                *backup["env"],
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
                            "securityContext": copy.deepcopy(LOCKED_DOWN),
                        }
                    ],
                    "volumes": [
                        {
                            "name": "data",
                            "persistentVolumeClaim": {"claimName": c.data_claim_name(instance)},
                        },
                        {"name": "tmp", "emptyDir": {}},
                        *snapshots["volumes"],
                        *backup["volumes"],
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


def _go_duration(ms: int) -> str:
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def litestream_timing(backup: Backup) -> tuple[str, str, str]:
    """(monitor-interval, sync-interval, headroom) that make spec.backup.syncInterval.

    Litestream looks for new WAL frames every monitor interval and uploads what it found every
    sync interval, so a commit waits for up to their sum, plus the upload itself. The spec's
    syncInterval is the promise of how much a lost volume can lose, so it is the sum of all
    three: a tenth (100 ms to 1 s) for the monitor, a fifth (200 ms to 5 s) left for the upload
    and for a busy CPU, the rest between uploads.
    """
    total = duration_ms(backup.sync_interval) or 1000
    monitor = min(max(total // 10, 100), 1000)
    headroom = min(max(total // 5, 200), 5000)
    return _go_duration(monitor), _go_duration(total - monitor - headroom), _go_duration(headroom)


def litestream_config(backup: Backup, *, replica_url: str, db_path: str = c.DB_PATH) -> str:
    """Litestream's configuration file for one class's database and its replica."""
    monitor, sync, headroom = litestream_timing(backup)
    replica: dict[str, Any] = {"url": replica_url, "sync-interval": sync}
    if backup.endpoint:
        replica["endpoint"] = backup.endpoint
    if backup.region:
        replica["region"] = backup.region
    retention_ms = duration_ms(backup.retention) or 0
    config = {
        "dbs": [{"path": db_path, "monitor-interval": monitor, "replica": replica}],
        # A snapshot a day (or per retention, if shorter) bounds how much a restore replays;
        # snapshots and the changes after them are kept for the retention.
        "snapshot": {
            "interval": backup.retention if retention_ms < 24 * 3_600_000 else "24h",
            "retention": backup.retention,
        },
        "logging": {"level": "info", "type": "json", "stderr": True},
    }
    body: str = yaml.safe_dump(config, sort_keys=False)
    return (
        "# Written by the watcher operator from spec.backup; it rewrites any edit.\n"
        f"# syncInterval {backup.sync_interval} = WAL checked every {monitor} + uploaded every"
        f" {sync} + {headroom} for the upload.\n"
    ) + body


def backup_config_map(
    instance: str, namespace: str, spec: InstanceSpec, owner: Mapping[str, Any]
) -> dict[str, Any]:
    """The instance's Litestream configuration, mounted by the sidecar and the restore."""
    assert spec.backup is not None
    name = c.litestream_config_name(instance)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(name, namespace, instance, spec, [dict(owner)]),
        "data": {
            c.LITESTREAM_CONFIG_KEY: litestream_config(
                spec.backup, replica_url=spec.backup.replica_url(namespace, spec.class_div)
            )
        },
    }


def restore_args(
    config_path: str = c.LITESTREAM_CONFIG_PATH, db_path: str = c.DB_PATH
) -> list[str]:
    """The init container's command line: restore only into a missing database, and only when
    the replica has a backup. A fresh class starts empty; an existing database is never
    touched; a missing one comes back from the replica, checked, before the service starts
    (if the replica cannot be read, the container fails and the service does not start empty)."""
    return [
        "restore",
        "-config",
        config_path,
        "-no-expand-env",
        "-if-db-not-exists",
        "-if-replica-exists",
        "-integrity-check",
        "quick",
        db_path,
    ]


def replicate_args(config_path: str = c.LITESTREAM_CONFIG_PATH) -> list[str]:
    return ["replicate", "-config", config_path, "-no-expand-env"]


def backup_parts(
    instance: str,
    namespace: str,
    spec: InstanceSpec,
    *,
    litestream_image: str = DEFAULT_LITESTREAM_IMAGE,
    secret_version: str = "",
) -> dict[str, Any]:
    """The Deployment's additions for spec.backup: the restore init container, the Litestream
    sidecar, their volumes, the service's WAL setting and the pod template's annotations.

    The sidecar is a native one (an init container that keeps running): it starts after the
    restore and before the service, and stops after it, so the service's last commits are
    uploaded on a graceful stop. Empty when backup is unset or disabled.
    """
    backup = spec.backup
    if backup is None or not backup.enabled:
        return {"initContainers": [], "volumes": [], "env": [], "annotations": {}}
    env = [
        {
            "name": key,
            "valueFrom": {
                # optional: the class keeps serving (and BackupReady says why nothing is
                # uploaded) while the Secret is missing; the pod restarts when it appears.
                "secretKeyRef": {"name": backup.credentials_secret, "key": key, "optional": True}
            },
        }
        for key in (c.BACKUP_SECRET_KEYS if backup.credentials_secret else ())
    ]
    mounts = [
        {"name": "data", "mountPath": c.DATA_DIR},
        {"name": "tmp", "mountPath": "/tmp"},
        {
            "name": c.LITESTREAM_CONFIG_VOLUME,
            "mountPath": c.LITESTREAM_CONFIG_DIR,
            "readOnly": True,
        },
    ]
    volumes: list[dict[str, Any]] = [
        {
            "name": c.LITESTREAM_CONFIG_VOLUME,
            "configMap": {"name": c.litestream_config_name(instance)},
        }
    ]
    if not backup.is_s3:
        mounts.append({"name": c.BACKUP_VOLUME, "mountPath": c.BACKUP_DIR})
        volumes.append(
            {"name": c.BACKUP_VOLUME, "persistentVolumeClaim": {"claimName": backup.claim_name}}
        )

    def container(name: str, args: list[str]) -> dict[str, Any]:
        return {
            "name": name,
            "image": litestream_image,
            "args": args,
            "env": copy.deepcopy(env),
            "volumeMounts": copy.deepcopy(mounts),
            "resources": copy.deepcopy(dict(LITESTREAM_RESOURCES)),
            "securityContext": copy.deepcopy(LOCKED_DOWN),
        }

    sidecar = container(c.LITESTREAM_CONTAINER, replicate_args())
    sidecar["restartPolicy"] = "Always"
    config = litestream_config(backup, replica_url=backup.replica_url(namespace, spec.class_div))
    annotations = {c.LITESTREAM_CONFIG_ANNOTATION: hashlib.sha256(config.encode()).hexdigest()[:16]}
    if secret_version:
        annotations[c.BACKUP_SECRET_ANNOTATION] = secret_version
    return {
        "initContainers": [container(c.RESTORE_CONTAINER, restore_args()), sidecar],
        "volumes": volumes,
        "env": [{"name": c.WAL_AUTOCHECKPOINT_ENV, "value": "0"}],
        "annotations": annotations,
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
