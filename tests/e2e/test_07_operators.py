"""The operator process itself: killed mid-reconcile, run twice, and peering as its README says."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.e2e.cluster import Cluster
from tests.e2e.conftest import HERE, NAMESPACE, OPERATOR, REPAIR_INTERVAL, SCALE, Release
from tests.e2e.kube import Operator, denied, eventually
from tests.e2e.test_02_validation import instance

CRASH = [f"crash-{index:02d}" for index in range(12)]
KINDS = ("deployment", "replicaset", "service", "persistentvolumeclaim", "servicemonitor")


def counts(cluster: Cluster, name: str) -> dict[str, int]:
    """How many objects of each kind carry an instance's label."""
    found = cluster.get(
        ",".join(KINDS), "-n", NAMESPACE, "-l", f"app.kubernetes.io/instance={name}"
    )
    tally = dict.fromkeys(KINDS, 0)
    for item in found["items"]:
        tally[item["kind"].lower()] += 1
    return tally


def delete_all(cluster: Cluster, names: list[str]) -> None:
    cluster.kubectl("delete", "wi", *names, "-n", NAMESPACE, "--wait=true", "--timeout=90s")
    claims = [f"watcher-{name}-data" for name in names]
    cluster.kubectl("delete", "pvc", *claims, "-n", NAMESPACE, "--ignore-not-found", "--wait=false")


@pytest.fixture
def main_stopped(release: Release) -> Iterator[Operator]:
    """The session's operator stopped for the test, and running again after it."""
    assert release.operator.stop() == 0, f"log {release.operator.log}"
    try:
        yield release.operator
    finally:
        if not release.operator.running:
            release.operator.start()


def test_killed_mid_reconcile_it_converges_with_no_duplicates(
    release: Release, main_stopped: Operator
) -> None:
    cluster, operator = release.cluster, main_stopped
    for name in CRASH:
        cluster.kubectl("apply", "-f", "-", input=instance(name, {"classDiv": name}))
    operator.start()

    def some_children() -> int:
        path = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments"
        items = cluster.api_get(
            f"{path}?labelSelector=app.kubernetes.io/managed-by%3Dwatcher-operator"
        )["items"]
        return sum(
            1 for item in items if item["metadata"]["name"].removeprefix("watcher-") in CRASH
        )

    eventually(some_children, within=60, what="the first crash-* Deployment", interval=0.01)
    operator.kill()
    partial = {name: counts(cluster, name) for name in CRASH}
    print(f"\nat SIGKILL: {json.dumps({n: c for n, c in partial.items() if any(c.values())})}")
    whole = [name for name, tally in partial.items() if all(tally[kind] for kind in KINDS)]
    assert len(whole) < len(CRASH), "killed too late to be mid-way"
    operator.start()
    for name in CRASH:
        cluster.kubectl(
            "wait", "-n", NAMESPACE, "--for=condition=Ready", f"wi/{name}", "--timeout=120s"
        )
    time.sleep(REPAIR_INTERVAL + 1)
    for name in CRASH:
        assert counts(cluster, name) == dict.fromkeys(KINDS, 1), name
    delete_all(cluster, CRASH)


def test_two_standalone_operators_at_once_change_nothing_twice(release: Release) -> None:
    """operator/README.md: standalone is one replica. A second one by mistake (e.g. a developer's)
    does every pass again, but the children are named by the instance: nothing is duplicated
    and nothing rolls out twice."""
    cluster = release.cluster
    second = Operator(cluster, NAMESPACE, OPERATOR, "second")
    second.start(WATCHER_OPERATOR_LIVENESS_PORT="0", WATCHER_OPERATOR_METRICS_PORT="0")
    try:
        cluster.kubectl("apply", "-f", "-", input=instance("twice", {"classDiv": "tw-1"}))
        cluster.kubectl(
            "wait", "-n", NAMESPACE, "--for=condition=Ready", "wi/twice", "--timeout=90s"
        )
        generation = cluster.get("deployment", "watcher-twice", "-n", NAMESPACE)["metadata"][
            "generation"
        ]
        time.sleep(2 * REPAIR_INTERVAL + 1)
        assert counts(cluster, "twice") == dict.fromkeys(KINDS, 1)
        assert (
            cluster.get("deployment", "watcher-twice", "-n", NAMESPACE)["metadata"]["generation"]
            == generation
        )
        delete_all(cluster, ["twice"])
    finally:
        assert second.stop() == 0, f"log {second.log}"
    assert second.forbidden_lines() == []


def peering_rbac(account: str, namespaces: tuple[str, ...]) -> str:
    """The extra rules operator/README.md lists for peering, as a Role in each namespace."""
    items = []
    for namespace in namespaces:
        items += [
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": {"name": "kopf-peering", "namespace": namespace},
                "rules": [
                    {
                        "apiGroups": ["kopf.dev"],
                        "resources": ["kopfpeerings"],
                        "verbs": ["get", "list", "watch", "patch"],
                    }
                ],
            },
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": "kopf-peering", "namespace": namespace},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Role",
                    "name": "kopf-peering",
                },
                "subjects": [
                    {
                        "kind": "ServiceAccount",
                        "name": account.rsplit(":", 1)[1],
                        "namespace": NAMESPACE,
                    }
                ],
            },
            {
                "apiVersion": "kopf.dev/v1",
                "kind": "KopfPeering",
                "metadata": {"name": "e2e", "namespace": namespace},
            },
        ]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


def handled_by(operator: Operator, name: str) -> bool:
    """Whether this process (its token) created the instance's Deployment (the audit log)."""
    return any(
        event.get("verb") == "create"
        and event.get("objectRef", {}).get("resource") == "deployments"
        and (event.get("responseStatus") or {}).get("code") == 201
        and event.get("objectRef", {}).get("name") == f"watcher-{name}"
        for event in operator.requests()
    )


def logged(operator: Operator, text: str) -> bool:
    return text in operator.log.read_text(errors="replace")


def test_peering_the_highest_priority_handles_equal_ones_pause(
    release: Release, main_stopped: Operator
) -> None:
    cluster = release.cluster
    served = (NAMESPACE, SCALE)
    cluster.kubectl("apply", "-f", str(HERE / "kopf-peering-crd.yaml"))
    cluster.kubectl("wait", "--for=condition=Established", "crd/kopfpeerings.kopf.dev")
    cluster.kubectl("apply", "-f", "-", input=peering_rbac(main_stopped.username, served))
    quiet = {
        "WATCHER_OPERATOR_LIVENESS_PORT": "0",
        "WATCHER_OPERATOR_METRICS_PORT": "0",
        "WATCHER_OPERATOR_PEERING": "e2e",
    }
    low, high, same = (
        Operator(cluster, NAMESPACE, OPERATOR, f"peer-{label}") for label in ("low", "high", "same")
    )
    names = ["peer-1", "peer-2", "peer-3"]
    try:
        low.start(**quiet, WATCHER_OPERATOR_PRIORITY="0")
        cluster.kubectl("apply", "-f", "-", input=instance("peer-1", {"classDiv": "pr-1"}))
        cluster.kubectl(
            "wait", "-n", NAMESPACE, "--for=condition=Ready", "wi/peer-1", "--timeout=90s"
        )
        assert handled_by(low, "peer-1")
        # A higher priority takes over; the lower one pauses.
        high.start(**quiet, WATCHER_OPERATOR_PRIORITY="10")
        eventually(
            lambda: logged(low, "Pausing operations in favour of"),
            within=60,
            what=f"low pausing; {low.log}",
        )
        cluster.kubectl("apply", "-f", "-", input=instance("peer-2", {"classDiv": "pr-2"}))
        cluster.kubectl(
            "wait", "-n", NAMESPACE, "--for=condition=Ready", "wi/peer-2", "--timeout=90s"
        )
        assert handled_by(high, "peer-2") and not handled_by(low, "peer-2")
        # Two of the same priority: both pause (Kopf's rule), nobody handles anything. (The
        # newcomer starts paused, as every peering operator does until it has looked.)
        same.start(**quiet, WATCHER_OPERATOR_PRIORITY="10")
        eventually(
            lambda: logged(high, "Pausing all operators"),
            within=60,
            what=f"high pausing; {high.log}",
        )
        eventually(
            lambda: logged(same, "Possibly conflicting operators with the same priority"),
            within=60,
            what=f"the newcomer seeing its equal; {same.log}",
        )
        cluster.kubectl("apply", "-f", "-", input=instance("peer-3", {"classDiv": "pr-3"}))
        time.sleep(REPAIR_INTERVAL + 2)
        assert "status" not in cluster.get("wi", "peer-3", "-n", NAMESPACE)
        # One of them leaves: the other resumes.
        assert same.stop() == 0
        cluster.kubectl(
            "wait", "-n", NAMESPACE, "--for=condition=Ready", "wi/peer-3", "--timeout=90s"
        )
        assert handled_by(high, "peer-3")
        # The highest leaves: the lower one resumes.
        assert high.stop() == 0
        eventually(
            lambda: logged(low, "Resuming operations"), within=60, what=f"low resuming; {low.log}"
        )
        cluster.kubectl(
            "patch",
            "wi",
            "peer-1",
            "-n",
            NAMESPACE,
            "--type=merge",
            "-p",
            '{"spec": {"paused": true}}',
        )
        eventually(
            lambda: (
                (cluster.get("wi", "peer-1", "-n", NAMESPACE).get("status") or {}).get("phase")
                == "Paused"
            ),
            within=30,
            what="peer-1 Paused by the low-priority operator",
        )
        delete_all(cluster, names)
    finally:
        for operator in (same, high, low):
            if operator.running:
                operator.stop()
        cluster.kubectl(
            "delete",
            "-f",
            "-",
            "--ignore-not-found",
            input=peering_rbac(main_stopped.username, served),
        )
        cluster.kubectl("delete", "-f", str(HERE / "kopf-peering-crd.yaml"))
    for operator in (low, high, same):
        assert operator.forbidden_lines() == [], operator.log
        assert denied(operator.requests()) == []
