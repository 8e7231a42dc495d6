"""Deleting classes: the real garbage collector removes the owned children, the data volume stays
unless retainOnDelete is false, and a namespace with instances is deleted completely."""

from __future__ import annotations

import json

from tests.e2e.cluster import Cluster
from tests.e2e.conftest import GONE, NAMESPACE, Release
from tests.e2e.kube import deleting, eventually
from tests.e2e.test_01_install import children, routes
from tests.e2e.test_02_validation import instance


def gone(cluster: Cluster, kind: str, name: str, namespace: str = NAMESPACE) -> bool:
    return cluster.kubectl("get", kind, name, "-n", namespace, check=False).returncode != 0


def test_delete_removes_the_owned_children_and_keeps_the_data(release: Release) -> None:
    cluster = release.cluster
    claim = cluster.get("pvc", "watcher-os-1-data", "-n", NAMESPACE)
    cluster.kubectl("delete", "wi", "os-1", "-n", NAMESPACE, "--wait=true", "--timeout=60s")
    eventually(
        lambda: (
            children(cluster, "os-1")
            == {
                "deployment": False,
                "service": False,
                "persistentvolumeclaim": True,
                "servicemonitor": False,
            }
        ),
        within=60,
        what="the garbage collector removing os-1's Deployment, Service and ServiceMonitor",
    )
    assert (
        cluster.get("pvc", "watcher-os-1-data", "-n", NAMESPACE)["metadata"]["uid"]
        == claim["metadata"]["uid"]
    )
    eventually(
        lambda: "os-1" not in routes(cluster), within=30, what="os-1 out of the routing table"
    )
    # A new instance of the same name and class takes its volume back.
    cluster.kubectl("apply", "-f", "-", input=instance("os-1", {"classDiv": "os-1"}))
    cluster.kubectl("wait", "-n", NAMESPACE, "--for=condition=Ready", "wi/os-1", "--timeout=90s")
    assert (
        cluster.get("pvc", "watcher-os-1-data", "-n", NAMESPACE)["metadata"]["uid"]
        == claim["metadata"]["uid"]
    )


def test_without_retain_the_data_goes_with_the_instance(release: Release) -> None:
    cluster = release.cluster
    spec = {"classDiv": "tmp-1", "storage": {"retainOnDelete": False}}
    cluster.kubectl("apply", "-f", "-", input=instance("tmp-1", spec))
    cluster.kubectl("wait", "-n", NAMESPACE, "--for=condition=Ready", "wi/tmp-1", "--timeout=90s")
    claim = cluster.get("pvc", "watcher-tmp-1-data", "-n", NAMESPACE)
    assert claim["metadata"]["ownerReferences"][0]["name"] == "tmp-1"
    # Retained again, the volume is disowned; not retained, owned again.
    for retain, owners in ((True, 0), (False, 1)):
        body = json.dumps({"spec": {"storage": {"retainOnDelete": retain}}})
        cluster.kubectl("patch", "wi", "tmp-1", "-n", NAMESPACE, "--type=merge", "-p", body)
        eventually(
            lambda n=owners: (
                len(
                    cluster.get("pvc", "watcher-tmp-1-data", "-n", NAMESPACE)["metadata"].get(
                        "ownerReferences", []
                    )
                )
                == n
            ),
            within=30,
            what=f"the volume with {owners} owner(s)",
        )
    cluster.kubectl("delete", "wi", "tmp-1", "-n", NAMESPACE, "--wait=true", "--timeout=60s")
    eventually(
        lambda: not any(children(cluster, "tmp-1").values()),
        within=60,
        what="every child of tmp-1, its volume too, garbage-collected",
    )


def test_deleting_a_namespace_with_instances_completes(release: Release) -> None:
    cluster = release.cluster
    for name in ("gone-1", "gone-2"):
        body = json.loads(instance(name, {"classDiv": name}))
        body["metadata"]["namespace"] = GONE
        cluster.kubectl("apply", "-f", "-", input=json.dumps(body))
    for name in ("gone-1", "gone-2"):
        cluster.kubectl("wait", "-n", GONE, "--for=condition=Ready", f"wi/{name}", "--timeout=90s")
    deleting(GONE)
    out = cluster.kubectl("delete", "namespace", GONE, "--wait=true", "--timeout=120s", check=False)
    if out.returncode != 0:
        stuck = cluster.get("namespace", GONE)
        left = cluster.kubectl("get", "wi,pvc,deploy,role,rolebinding", "-n", GONE, check=False)
        raise AssertionError(
            f"namespace {GONE} not deleted: {json.dumps(stuck.get('status'))}\n{left.stdout}"
        )
    assert gone(cluster, "namespace", GONE, "default")
