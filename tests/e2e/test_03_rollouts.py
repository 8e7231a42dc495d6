"""Changes to a running class, as the Deployment controller rolls them out: each spec change is
exactly one new ReplicaSet, a restartAt exactly one rollout, paused scales to 0 and back."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.e2e.cluster import Cluster
from tests.e2e.conftest import NAMESPACE, REPAIR_INTERVAL, Release
from tests.e2e.kube import eventually
from tests.e2e.test_01_install import ready_pods

NAME = "os-1"  # the minimal example, Ready since test_01


def replica_sets(cluster: Cluster, name: str = NAME) -> list[dict[str, Any]]:
    found = cluster.get("rs", "-n", NAMESPACE, "-l", f"app.kubernetes.io/instance={name}")
    return sorted(
        found["items"],
        key=lambda rs: int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]),
    )


def patch(cluster: Cluster, spec: dict[str, Any], name: str = NAME) -> None:
    cluster.kubectl(
        "patch", "wi", name, "-n", NAMESPACE, "--type=merge", "-p", json.dumps({"spec": spec})
    )


def wait_ready(cluster: Cluster, name: str = NAME) -> dict[str, Any]:
    """Ready for the current generation, its Deployment rolled out."""
    cluster.kubectl("wait", "-n", NAMESPACE, "--for=condition=Ready", f"wi/{name}", "--timeout=90s")
    cluster.kubectl(
        "rollout", "status", "-n", NAMESPACE, f"deployment/watcher-{name}", "--timeout=90s"
    )

    def reconciled() -> dict[str, Any] | None:
        found = cluster.get("wi", name, "-n", NAMESPACE)
        status = found.get("status") or {}
        current = status.get("observedGeneration") == found["metadata"]["generation"]
        return found if current and status.get("phase") == "Ready" else None

    return eventually(reconciled, within=60, what=f"{name} Ready at its generation")


def settled(cluster: Cluster, name: str = NAME) -> list[dict[str, Any]]:
    """The ReplicaSets after two more repair passes: later passes must not roll out again."""
    time.sleep(2 * REPAIR_INTERVAL + 1)
    return replica_sets(cluster, name)


def test_a_spec_change_is_exactly_one_new_replica_set(release: Release) -> None:
    cluster = release.cluster
    before = replica_sets(cluster)
    assert len(before) == 1, [rs["metadata"]["name"] for rs in before]
    patch(
        cluster,
        {
            "image": "ghcr.io/jcode-watcher/jcode-watcher:0.1.1",
            "resources": {
                "requests": {"cpu": "0.25", "memory": "200Mi"},
                "limits": {"memory": "600Mi"},
            },
            "env": [{"name": "WATCHER_LOG_LEVEL", "value": "debug"}],
        },
    )
    wait_ready(cluster)
    after = settled(cluster)
    print(f"\nReplicaSets before: {len(before)}, after image+resources+env: {len(after)}")
    assert len(after) == len(before) + 1
    newest = after[-1]["spec"]["template"]["spec"]["containers"][0]
    assert newest["image"] == "ghcr.io/jcode-watcher/jcode-watcher:0.1.1"
    assert newest["resources"]["requests"]["cpu"] == "250m"
    assert {"name": "WATCHER_LOG_LEVEL", "value": "debug"} in newest["env"]
    assert [rs["status"].get("replicas", 0) for rs in after] == [0, 1]
    assert len(ready_pods(cluster, NAME)) == 1


def test_restart_at_is_exactly_one_rollout(release: Release) -> None:
    cluster = release.cluster
    before = replica_sets(cluster)
    patch(cluster, {"restartAt": "2026-03-02T09:00:00Z"})
    found = wait_ready(cluster)
    after = settled(cluster)
    print(f"\nReplicaSets before restartAt: {len(before)}, after: {len(after)}")
    assert len(after) == len(before) + 1
    template = after[-1]["spec"]["template"]["metadata"]
    assert template["annotations"]["kubectl.kubernetes.io/restartedAt"] == "2026-03-02T09:00:00Z"
    assert found["status"]["lastRestartAt"] == "2026-03-02T09:00:00Z"
    # The same value again is no new restart.
    patch(cluster, {"restartAt": "2026-03-02T09:00:00Z"})
    assert len(settled(cluster)) == len(after)


def test_paused_scales_to_zero_then_back(release: Release) -> None:
    cluster = release.cluster
    before = replica_sets(cluster)
    patch(cluster, {"paused": True})

    def paused() -> bool:
        found = cluster.get("wi", NAME, "-n", NAMESPACE)
        deployment = cluster.get("deployment", f"watcher-{NAME}", "-n", NAMESPACE)
        pods = cluster.get("pods", "-n", NAMESPACE, "-l", f"app.kubernetes.io/instance={NAME}")
        return (
            (found.get("status") or {}).get("phase") == "Paused"
            and deployment["spec"]["replicas"] == 0
            and not pods["items"]
        )

    eventually(paused, within=60, what=f"{NAME} Paused with no pods")
    printed = cluster.kubectl("get", "wi", NAME, "-n", NAMESPACE).stdout
    assert "Paused" in printed
    patch(cluster, {"paused": False})
    wait_ready(cluster)
    assert len(ready_pods(cluster, NAME)) == 1
    # Scaling is no new ReplicaSet.
    assert len(settled(cluster)) == len(before)


def test_removing_snapshots_removes_volume_mount_and_variable_in_one_rollout(
    release: Release,
) -> None:
    cluster = release.cluster
    before = replica_sets(cluster, "ds-2")
    cluster.kubectl(
        "patch", "wi", "ds-2", "-n", NAMESPACE, "--type=json",
        "-p", '[{"op": "remove", "path": "/spec/snapshots"}]',
    )  # fmt: skip
    wait_ready(cluster, "ds-2")
    pod = cluster.get("deployment", "watcher-ds-2", "-n", NAMESPACE)["spec"]["template"]["spec"]
    [container] = pod["containers"]
    # ds-2 is the full example: its Litestream sidecar's volumes stay; the snapshot one goes.
    assert [v["name"] for v in pod["volumes"]] == ["data", "tmp", "litestream-config"]
    assert [mount["mountPath"] for mount in container["volumeMounts"]] == ["/data", "/tmp"]
    assert "WATCHER_SNAPSHOT_DIR" not in {var["name"] for var in container["env"]}
    assert len(settled(cluster, "ds-2")) == len(before) + 1


def test_the_service_monitor_follows_the_spec(release: Release) -> None:
    cluster = release.cluster

    def monitored() -> bool:
        found = cluster.kubectl(
            "get", "servicemonitor", f"watcher-{NAME}", "-n", NAMESPACE, check=False
        )
        return found.returncode == 0

    assert monitored()
    patch(cluster, {"serviceMonitor": {"enabled": False}})
    eventually(lambda: not monitored(), within=30, what="the ServiceMonitor deleted")
    patch(cluster, {"serviceMonitor": {"enabled": True, "interval": "1m"}})
    eventually(monitored, within=30, what="the ServiceMonitor back")
    monitor = cluster.get("servicemonitor", f"watcher-{NAME}", "-n", NAMESPACE)
    assert monitor["spec"]["endpoints"][0]["interval"] == "1m"
