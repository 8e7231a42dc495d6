"""Drift in a class's children is repaired within one timer period (REPAIR_INTERVAL): a deleted
Service, an edited Deployment, a deleted routing table."""

from __future__ import annotations

import json
import time

from tests.e2e.conftest import NAMESPACE, REPAIR_INTERVAL, Release
from tests.e2e.kube import eventually
from tests.e2e.test_01_install import routes

NAME = "os-1"
# One timer period, plus the API round trips of one pass.
WITHIN = REPAIR_INTERVAL + 3


def test_a_deleted_service_is_recreated(release: Release) -> None:
    cluster = release.cluster
    old = cluster.get("service", f"watcher-{NAME}", "-n", NAMESPACE)["metadata"]["uid"]
    cluster.kubectl("delete", "service", f"watcher-{NAME}", "-n", NAMESPACE)
    started = time.monotonic()

    def recreated() -> bool:
        found = cluster.kubectl(
            "get", "service", f"watcher-{NAME}", "-n", NAMESPACE, "-o", "json", check=False
        )
        return found.returncode == 0 and json.loads(found.stdout)["metadata"]["uid"] != old

    eventually(recreated, within=WITHIN, what="the Service recreated", interval=0.2)
    print(f"\nService recreated after {time.monotonic() - started:.1f}s")


def test_an_edited_deployment_image_is_reverted(release: Release) -> None:
    cluster = release.cluster
    deployment = f"deployment/watcher-{NAME}"
    want = cluster.get(deployment, "-n", NAMESPACE)["spec"]["template"]["spec"]["containers"][0][
        "image"
    ]
    cluster.kubectl("set", "image", "-n", NAMESPACE, deployment, "watcher=registry.example/evil:1")
    started = time.monotonic()

    def reverted() -> bool:
        found = cluster.get(deployment, "-n", NAMESPACE)
        return found["spec"]["template"]["spec"]["containers"][0]["image"] == want

    eventually(reverted, within=WITHIN, what="the image reverted", interval=0.2)
    print(f"\nDeployment image reverted after {time.monotonic() - started:.1f}s")
    cluster.kubectl("rollout", "status", "-n", NAMESPACE, deployment, "--timeout=60s")


def test_a_deleted_routing_table_is_rewritten(release: Release) -> None:
    cluster = release.cluster
    before = routes(cluster)
    assert NAME in before
    cluster.kubectl("delete", "configmap", "watcher-routes", "-n", NAMESPACE)
    started = time.monotonic()
    eventually(
        lambda: routes(cluster) == before, within=WITHIN, what="the routing table", interval=0.2
    )
    print(f"\nRouting table rewritten after {time.monotonic() - started:.1f}s")
