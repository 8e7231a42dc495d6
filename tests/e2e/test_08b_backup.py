"""spec.backup on the real control plane: the API server refuses bad backups with the CRD's
rules; an instance with a backup gets Litestream's ConfigMap, the restore init container and the
native sidecar (the API server and the Deployment controller take them as rendered);
BackupReady follows the Secret, whose arrival rolls out exactly one new ReplicaSet. The
operator reads the Secret's metadata as the chart's ServiceAccount: the autouse fixture fails
this module on any 403."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import NAMESPACE, REPAIR_INTERVAL, Release
from tests.e2e.kube import condition, eventually
from tests.e2e.test_02_validation import refused
from tests.e2e.test_03_rollouts import replica_sets, settled, wait_ready

NAME = "bk-1"
SECRET = "bk-1-s3"
BACKUP = {
    "url": "s3://jcode-backups/watcher",
    "endpoint": "http://127.0.0.1:9",  # never contacted: kwok runs no containers
    "region": "us-east-1",
    "credentialsSecret": SECRET,
}
WITHIN = REPAIR_INTERVAL + 5


@pytest.mark.parametrize(
    ("name", "backup", "extra", "expected"),
    [
        ("bk-no-claim", {"url": "file:///backup/watcher"}, {},
         "spec.backup: Invalid value: claimName is required for a file:// url"),
        ("bk-s3-claim", {**BACKUP, "claimName": "backups"}, {},
         "spec.backup: Invalid value: claimName is for file:// urls only"),
        ("bk-file-secret", {"url": "file:///backup/x", "claimName": "b", "region": "eu"}, {},
         "spec.backup: Invalid value: endpoint, region and credentialsSecret are for s3:// urls "
         "only"),
        ("bk-fast", {**BACKUP, "syncInterval": "500ms"}, {},
         'spec.backup.syncInterval: Invalid value: "500ms": syncInterval must be from 1s to 1h'),
        ("bk-short", {**BACKUP, "retention": "30m"}, {},
         'spec.backup.retention: Invalid value: "30m": retention must be at least 1h'),
        ("bk-url", {"url": "gs://jcode-backups/x"}, {}, "spec.backup.url in body should match"),
        ("bk-own", {"url": "file:///backup/x", "claimName": "watcher-bk-own-data"}, {},
         "spec.backup.claimName: Invalid value: spec.backup.claimName is this instance's data "
         "volume; a replica must live on another volume to survive its loss"),
        ("bk-wal", BACKUP, {"env": [{"name": "WATCHER_WAL_AUTOCHECKPOINT", "value": "100"}]},
         "spec: Invalid value: WATCHER_WAL_AUTOCHECKPOINT is set by the operator while backup is "
         "enabled (Litestream checkpoints the WAL itself)"),
    ],
)  # fmt: skip
def test_bad_backups_are_refused_by_the_api_server(
    release: Release, name: str, backup: dict[str, Any], extra: dict[str, Any], expected: str
) -> None:
    assert expected in refused(release, name, {"classDiv": "bk-9", "backup": backup, **extra})


@pytest.fixture(scope="module")
def instance(release: Release) -> Iterator[str]:
    cluster = release.cluster
    body = {
        "apiVersion": "watcher.jcode.io/v1alpha1",
        "kind": "WatcherInstance",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "spec": {"classDiv": NAME, "backup": BACKUP},
    }
    cluster.kubectl("apply", "--validate=strict", "-f", "-", input=json.dumps(body))
    yield NAME
    cluster.kubectl("delete", "wi", NAME, "-n", NAMESPACE, "--wait=true")
    cluster.kubectl("delete", "secret", SECRET, "-n", NAMESPACE, "--ignore-not-found")
    cluster.kubectl("delete", "pvc", f"watcher-{NAME}-data", "-n", NAMESPACE, "--wait=true")


def backup_ready(release: Release) -> dict[str, Any]:
    return condition(release.cluster.get("wi", NAME, "-n", NAMESPACE), "BackupReady")


def test_an_instance_with_backup_gets_litestream(release: Release, instance: str) -> None:
    cluster = release.cluster
    config_map = eventually(
        lambda: cluster.kubectl("get", "cm", f"watcher-{NAME}-litestream", "-n", NAMESPACE,
                                "-o", "json", check=False).stdout,
        within=WITHIN, what="Litestream's ConfigMap",
    )  # fmt: skip
    config = json.loads(config_map)["data"]["litestream.yml"]
    assert f"url: s3://jcode-backups/watcher/{NAMESPACE}/{NAME}" in config
    assert "sync-interval: 700ms" in config and "monitor-interval: 100ms" in config
    pod = cluster.get("deployment", f"watcher-{NAME}", "-n", NAMESPACE)["spec"]["template"]["spec"]
    restore, sidecar = pod["initContainers"]  # as stored by the API server
    assert restore["name"] == "litestream-restore" and "-if-db-not-exists" in restore["args"]
    assert sidecar["name"] == "litestream" and sidecar["restartPolicy"] == "Always"
    assert sidecar["image"] == restore["image"] == "litestream/litestream:0.5.17"
    [service] = pod["containers"]
    assert {"name": "WATCHER_WAL_AUTOCHECKPOINT", "value": "0"} in service["env"]
    wait_ready(cluster, NAME)  # scheduled on a kwok node; its pod Ready with the sidecar
    ready = eventually(lambda: backup_ready(release), within=WITHIN, what="BackupReady")
    print(f"\nBackupReady without the Secret: {ready}")
    assert (ready["status"], ready["reason"]) == ("False", "SecretMissing")


def test_backup_ready_follows_the_secret(release: Release, instance: str) -> None:
    cluster = release.cluster
    before = replica_sets(cluster, NAME)
    cluster.kubectl(
        "create", "secret", "generic", SECRET, "-n", NAMESPACE,
        "--from-literal=AWS_ACCESS_KEY_ID=e2e", "--from-literal=AWS_SECRET_ACCESS_KEY=e2e",
    )  # fmt: skip
    version = cluster.get("secret", SECRET, "-n", NAMESPACE)["metadata"]["resourceVersion"]
    ready = eventually(
        lambda: (found := backup_ready(release)).get("status") == "True" and found,
        within=WITHIN, what="BackupReady True",
    )  # fmt: skip
    print(f"\nBackupReady with the Secret: {ready}")
    assert ready["reason"] == "ReplicaConfigured"
    template = cluster.get("deployment", f"watcher-{NAME}", "-n", NAMESPACE)["spec"]["template"]
    assert template["metadata"]["annotations"]["watcher.jcode.io/backup-secret-version"] == version
    wait_ready(cluster, NAME)
    after = settled(cluster, NAME)
    assert len(after) == len(before) + 1  # the sidecar restarted once, for the credentials

    cluster.kubectl("delete", "secret", SECRET, "-n", NAMESPACE)
    gone = eventually(
        lambda: (found := backup_ready(release)).get("status") == "False" and found,
        within=WITHIN, what="BackupReady False again",
    )  # fmt: skip
    assert gone["reason"] == "SecretMissing"
    assert len(settled(cluster, NAME)) == len(after)  # no restart: the pod keeps its keys
