"""The last steps of the admin's path: helm upgrade with changed values, then helm uninstall."""

from __future__ import annotations

import json

from tests.e2e.conftest import CRD, NAMESPACE, OPERATOR, RELEASE, SCALE, Release
from tests.e2e.kube import CHART, Operator, eventually, helm
from tests.e2e.test_03_rollouts import replica_sets, wait_ready

NEW_TAG = "0.1.2"


def test_upgrade_rolls_the_default_image_to_classes_that_follow_it(release: Release) -> None:
    cluster = release.cluster
    # os-1 follows the operator's default image (spec.image empty); ds-2 pins its own.
    before = {name: len(replica_sets(cluster, name)) for name in ("os-1", "ds-2")}
    # A new image, and no longer the namespace test_06 deleted.
    helm(cluster, "upgrade", RELEASE, str(CHART), "-n", NAMESPACE, "--reuse-values",
         f"--set=image.tag={NEW_TAG}", f"--set=operator.namespaces={{{NAMESPACE},{SCALE}}}",
         "--wait", "--timeout=3m")  # fmt: skip
    history = json.loads(helm(cluster, "history", RELEASE, "-n", NAMESPACE, "-o", "json").stdout)
    assert [entry["status"] for entry in history] == ["superseded", "deployed"]
    # The operator's pod would be replaced with the new environment: so is this process.
    assert release.operator.stop() == 0
    upgraded = Operator(cluster, NAMESPACE, OPERATOR, "upgraded")
    assert (
        upgraded.env["WATCHER_OPERATOR_DEFAULT_IMAGE"]
        == f"ghcr.io/jcode-watcher/jcode-watcher:{NEW_TAG}"
    )
    upgraded.start()
    release.operator = upgraded
    eventually(
        lambda: cluster.get("deployment", "watcher-os-1", "-n", NAMESPACE)["spec"]["template"][
            "spec"
        ]["containers"][0]["image"].endswith(NEW_TAG),
        within=60,
        what="os-1 rolled to the new default image",
    )
    wait_ready(cluster, "os-1")
    after = {name: len(replica_sets(cluster, name)) for name in ("os-1", "ds-2")}
    print(f"\nReplicaSets before the upgrade {before}, after {after}")
    assert after == {"os-1": before["os-1"] + 1, "ds-2": before["ds-2"]}


def test_uninstall_after_deleting_the_instances(release: Release) -> None:
    cluster = release.cluster
    # As docs/deploying.md says: instances first, while the operator still runs.
    cluster.kubectl("delete", "wi", "--all", "-n", NAMESPACE, "--wait=true", "--timeout=120s")
    assert release.operator.stop() == 0
    helm(cluster, "uninstall", RELEASE, "-n", NAMESPACE, "--wait", "--timeout=2m")

    def left() -> list[str]:
        found = cluster.get(
            "deployments,services,serviceaccounts,roles,rolebindings", "-n", NAMESPACE
        )
        return sorted(f"{item['kind']}/{item['metadata']['name']}" for item in found["items"])

    # The chart's objects are gone with the release, the classes' with their instances (the
    # garbage collector works in the background).
    eventually(lambda: left() == ["ServiceAccount/default"], within=60, what="an empty namespace")
    cluster_wide = cluster.get(
        "clusterroles,clusterrolebindings", "-l", f"app.kubernetes.io/instance={RELEASE}"
    )
    assert cluster_wide["items"] == []
    # What docs/deploying.md says stays: the CRD, the retained volumes, the routing table.
    cluster.get("crd", CRD)
    claims = sorted(
        item["metadata"]["name"] for item in cluster.get("pvc", "-n", NAMESPACE)["items"]
    )
    assert {"watcher-os-1-data", "watcher-ds-2-data"} <= set(claims)
    assert (
        json.loads(
            cluster.get("configmap", "watcher-routes", "-n", NAMESPACE)["data"]["routes.json"]
        )
        == {}
    )
