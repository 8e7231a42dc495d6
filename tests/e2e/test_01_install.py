"""The platform admin's first steps: helm install, then the examples become running classes."""

from __future__ import annotations

import json

from tests.e2e.cluster import NODES, Cluster
from tests.e2e.conftest import CRD, NAMESPACE, RELEASE, Release
from tests.e2e.kube import EXAMPLES, condition, eventually, helm

LABELS = "app.kubernetes.io/managed-by=watcher-operator"


def children(cluster: Cluster, name: str, namespace: str = NAMESPACE) -> dict[str, bool]:
    """Which of an instance's children exist."""
    found = {}
    for kind, child in (
        ("deployment", f"watcher-{name}"),
        ("service", f"watcher-{name}"),
        ("persistentvolumeclaim", f"watcher-{name}-data"),
        ("servicemonitor", f"watcher-{name}"),
    ):
        result = cluster.kubectl("get", kind, child, "-n", namespace, "-o", "name", check=False)
        found[kind] = result.returncode == 0
    return found


def routes(cluster: Cluster, namespace: str = NAMESPACE) -> dict[str, str]:
    result = cluster.kubectl(
        "get", "configmap", "watcher-routes", "-n", namespace, "-o", "json", check=False
    )
    if result.returncode != 0:
        return {}
    return json.loads(json.loads(result.stdout)["data"]["routes.json"])


def ready_pods(cluster: Cluster, name: str, namespace: str = NAMESPACE) -> list[dict]:
    pods = cluster.get("pods", "-n", namespace, "-l", f"app.kubernetes.io/instance={name},{LABELS}")
    return [pod for pod in pods["items"] if condition(pod, "Ready").get("status") == "True"]


def test_chart_installs_its_crd_and_running_components(release: Release) -> None:
    cluster = release.cluster
    crd = cluster.get("crd", CRD)
    assert condition(crd, "Established")["status"] == "True"
    assert condition(crd, "NamesAccepted")["status"] == "True"
    status = json.loads(helm(cluster, "status", RELEASE, "-n", NAMESPACE, "-o", "json").stdout)
    assert status["info"]["status"] == "deployed"
    # helm --wait waited for the chart's pods: scheduled on the kwok nodes and Ready.
    pods = cluster.get("pods", "-n", NAMESPACE, "-l", f"app.kubernetes.io/instance={RELEASE}")[
        "items"
    ]
    components = sorted(pod["metadata"]["labels"]["app.kubernetes.io/component"] for pod in pods)
    assert components == ["gateway", "gateway", "operator"]
    assert {pod["spec"]["nodeName"] for pod in pods} <= set(NODES)


def test_minimal_example_becomes_a_ready_class(release: Release) -> None:
    cluster = release.cluster
    cluster.kubectl("apply", "-n", NAMESPACE, "-f", str(EXAMPLES / "minimal.yaml"))
    eventually(lambda: all(children(cluster, "os-1").values()), within=60, what="os-1's children")
    out = cluster.kubectl(
        "wait", "-n", NAMESPACE, "--for=condition=Ready", "wi/os-1", "--timeout=90s"
    )
    assert "condition met" in out.stdout
    [pod] = ready_pods(cluster, "os-1")
    assert pod["spec"]["nodeName"] in NODES
    claim = cluster.get("pvc", "watcher-os-1-data", "-n", NAMESPACE)
    assert claim["status"]["phase"] == "Bound"
    assert routes(cluster) == {"os-1": f"http://watcher-os-1.{NAMESPACE}.svc:3000"}
    instance = cluster.get("wi", "os-1", "-n", NAMESPACE)
    assert instance["status"]["phase"] == "Ready"
    assert instance["status"]["readyReplicas"] == 1
    assert instance["status"]["observedGeneration"] == instance["metadata"]["generation"]


def test_full_example_with_its_secret_and_snapshot_volume(release: Release) -> None:
    cluster = release.cluster
    cluster.kubectl(
        "create",
        "secret",
        "generic",
        "ds-2-tokens",
        "-n",
        NAMESPACE,
        "--from-literal=ingest-token=s3cret",
    )
    filemon = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "watcher-filemon-pvc", "namespace": NAMESPACE},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(filemon))
    cluster.kubectl("apply", "-n", NAMESPACE, "-f", str(EXAMPLES / "full.yaml"))
    cluster.kubectl("wait", "-n", NAMESPACE, "--for=condition=Ready", "wi/ds-2", "--timeout=90s")
    deployment = cluster.get("deployment", "watcher-ds-2", "-n", NAMESPACE)
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["resources"] == {
        "requests": {"cpu": "200m", "memory": "256Mi"},
        "limits": {"memory": "1Gi"},
    }
    assert {"name": "WATCHER_SNAPSHOT_DIR", "value": "/snapshots"} in container["env"]
    claim = cluster.get("pvc", "watcher-ds-2-data", "-n", NAMESPACE)
    assert claim["spec"]["storageClassName"] == "standard"
    assert claim["status"]["phase"] == "Bound"
    monitor = cluster.get("servicemonitor", "watcher-ds-2", "-n", NAMESPACE)
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["endpoints"][0]["interval"] == "15s"
    assert len(ready_pods(cluster, "ds-2")) == 1
    assert set(routes(cluster)) == {"os-1", "ds-2"}


def test_get_shows_the_printer_columns(release: Release) -> None:
    out = release.cluster.kubectl("get", "wi", "-n", NAMESPACE).stdout.splitlines()
    assert out[0].split() == ["NAME", "CLASS", "PHASE", "READY", "AGE"]
    rows = {line.split()[0]: line.split()[1:4] for line in out[1:]}
    assert rows == {"ds-2": ["ds-2", "Ready", "True"], "os-1": ["os-1", "Ready", "True"]}
    print("\n".join(out))
