"""Fixtures of the e2e tests: one real control plane per session, the chart installed on it with
helm, and the operator of this checkout running as the chart's ServiceAccount.

The tests run in file order (test_01_... to test_09_...): each module leaves the cluster as it
found it, except the last, which upgrades and uninstalls the release. A failed or interrupted
run keeps the cluster's directory (certificates, kubeconfigs, a log per component and per
operator process, the API server's audit log); the summary at the end names it. JCODE_E2E_KEEP=1
keeps it after a passing run too.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cluster import Cluster, free_port
from tests.e2e.kube import CHART, Operator, denied, eventually, helm

RELEASE = "watcher"
NAMESPACE = "watcher"  # the chart's release namespace, where the examples go
GONE = "e2e-gone"  # a served namespace the tests delete
SCALE = "e2e-scale"  # a served namespace for the scale test
SERVED = (NAMESPACE, GONE, SCALE)
OPERATOR = f"{RELEASE}-jcode-watcher-operator"  # the chart's operator Deployment
# Drift must be repaired within one timer period: a short one keeps the tests short.
REPAIR_INTERVAL = 5
CRD = "watcherinstances.watcher.jcode.io"
HERE = Path(__file__).parent
WORKDIR = pytest.StashKey[Path]()
KEPT = pytest.StashKey[bool]()


@dataclasses.dataclass
class Release:
    cluster: Cluster
    liveness_port: int
    metrics_port: int
    operator: Operator

    def values(self) -> list[str]:
        """The --set flags the release was installed with."""
        return [
            f"operator.repairInterval={REPAIR_INTERVAL}",
            f"operator.livenessPort={self.liveness_port}",
            f"operator.metricsPort={self.metrics_port}",
            f"operator.namespaces={{{','.join(SERVED)}}}",
        ]


def volumes(count: int, storage_class: str = "", first: int = 0) -> dict[str, object]:
    """Static PersistentVolumes for the claims to bind to (the cluster has no provisioner); the
    volume controller binds each claim to one. Never mounted: kwok starts no containers."""
    items = []
    for index in range(first, first + count):
        spec: dict[str, object] = {
            "capacity": {"storage": "20Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "hostPath": {"path": f"/tmp/jcode-e2e-volume-{index}"},
        }
        if storage_class:
            spec["storageClassName"] = storage_class
        items.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": f"pv-{index}"},
                "spec": spec,
            }
        )
    return {"apiVersion": "v1", "kind": "List", "items": items}


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    workdir = Path(tempfile.mkdtemp(prefix="jcode-e2e-"))
    request.config.stash[WORKDIR] = workdir
    cluster = Cluster(workdir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        keep = (
            bool(request.session.testsfailed)
            or request.session.shouldstop
            or request.session.shouldfail
            or os.environ.get("JCODE_E2E_KEEP")
        )
        request.config.stash[KEPT] = bool(keep) or not request.session.testscollected
        if not request.config.stash[KEPT]:
            shutil.rmtree(workdir, ignore_errors=True)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    workdir = config.stash.get(WORKDIR, None)
    if workdir is not None and config.stash.get(KEPT, True):
        terminalreporter.write_line(
            f"e2e cluster kept in {workdir}; component logs in {workdir / 'logs'}"
        )


@pytest.fixture(scope="session")
def release(cluster: Cluster) -> Iterator[Release]:
    """The chart installed into a fresh namespace, with the cluster's ServiceMonitor API and
    volumes to bind; the operator (this checkout) running as the chart's ServiceAccount."""
    cluster.kubectl("apply", "-f", str(HERE / "servicemonitor-crd.yaml"))
    cluster.kubectl(
        "wait", "--for=condition=Established", "crd/servicemonitors.monitoring.coreos.com"
    )
    for namespace in SERVED:
        cluster.kubectl("create", "namespace", namespace)
    cluster.kubectl("apply", "-f", "-", input=json.dumps(volumes(120)))
    cluster.kubectl("apply", "-f", "-", input=json.dumps(volumes(4, "standard", first=120)))
    liveness, metrics = free_port(), free_port()
    placeholder = Release(cluster, liveness, metrics, operator=None)  # type: ignore[arg-type]
    helm(cluster, "install", RELEASE, str(CHART), "-n", NAMESPACE, "--wait", "--timeout=3m",
         *(f"--set={value}" for value in placeholder.values()))  # fmt: skip
    cluster.kubectl("wait", "--for=condition=Established", f"crd/{CRD}", "--timeout=60s")
    operator = Operator(cluster, NAMESPACE, OPERATOR, "main")
    operator.start()
    release = dataclasses.replace(placeholder, operator=operator)
    eventually(
        lambda: _liveness_ok(liveness),
        within=60,
        what=f"the operator's /healthz; log {operator.log}",
    )
    yield release
    if release.operator.running:
        assert release.operator.stop() == 0, (
            f"the operator failed to stop; log {release.operator.log}"
        )


def _liveness_ok(port: int) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(autouse=True)
def no_forbidden_requests(request: pytest.FixtureRequest) -> Iterator[None]:
    """Any request of the operator that RBAC refused fails the test during which it was made: in
    its log (Kopf's and the client's errors) and in the API server's audit log."""
    if "release" not in request.fixturenames:
        yield
        return
    release: Release = request.getfixturevalue("release")
    watched = release.operator
    before = (len(watched.forbidden_lines()), len(denied(watched.requests())))
    yield
    operator = release.operator  # test_09 replaces it: then all of the new one's count
    start = before if operator is watched else (0, 0)
    assert operator.forbidden_lines()[start[0] :] == [], f"log {operator.log}"
    assert denied(operator.requests())[start[1] :] == []
