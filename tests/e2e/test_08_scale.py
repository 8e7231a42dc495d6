"""Fifty classes in one namespace: all Ready; how long, how much memory, how many API requests.
Then the operator's Prometheus metrics, scraped once where the chart's Deployment exposes them."""

from __future__ import annotations

import collections
import datetime
import json
import re
import time

from tests.e2e.conftest import SCALE, Release
from tests.e2e.kube import eventually, scrape

COUNT = 50


def phases(release: Release) -> collections.Counter[str]:
    items = release.cluster.get("wi", "-n", SCALE)["items"]
    return collections.Counter((item.get("status") or {}).get("phase", "-") for item in items)


def test_fifty_instances_become_ready(release: Release) -> None:
    cluster, operator = release.cluster, release.operator
    names = [f"class-{index:02d}" for index in range(COUNT)]
    instances = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "watcher.jcode.io/v1alpha1",
                "kind": "WatcherInstance",
                "metadata": {"name": name, "namespace": SCALE},
                "spec": {"classDiv": name},
            }
            for name in names
        ],
    }
    since = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    started = time.monotonic()
    cluster.kubectl("apply", "-f", "-", input=json.dumps(instances))
    eventually(lambda: phases(release)["Ready"] == COUNT, within=300, what="all Ready", interval=1)
    elapsed = time.monotonic() - started
    until = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.999999")
    rss = operator.peak_rss_kib()
    made = [
        event
        for event in operator.requests()
        if since <= event.get("requestReceivedTimestamp", "") <= until
    ]
    verbs = collections.Counter(event["verb"] for event in made)
    print(
        f"\n{COUNT} WatcherInstances all Ready in {elapsed:.1f}s; operator peak RSS "
        f"{rss / 1024:.0f} MiB; {len(made)} API requests ({len(made) / COUNT:.1f} per instance): "
        f"{dict(verbs.most_common())}"
    )
    routes = json.loads(
        cluster.get("configmap", "watcher-routes", "-n", SCALE)["data"]["routes.json"]
    )
    assert sorted(routes) == names
    # Each child is created once per instance, and a pass on a settled instance writes nothing:
    # writes stay near 13 per instance (4 children, 4 Events, status and routing patches).
    created = collections.Counter(
        (event.get("objectRef") or {}).get("resource")
        for event in made
        if event["verb"] == "create"
    )
    for resource in ("deployments", "services", "persistentvolumeclaims"):
        assert created[resource] == COUNT, (resource, created)
    writes = sum(verbs[verb] for verb in ("create", "update", "patch", "delete"))
    assert writes / COUNT < 20, verbs
    # Reads follow how many Deployment status changes the watch delivers while Pods start, which
    # depends on timing (32 to 41 per instance seen in all, on a shared 2-core machine).
    assert len(made) / COUNT < 50, verbs


def test_metrics_are_scraped_from_the_deployments_port(release: Release) -> None:
    deployment_port = release.operator.ports["metrics"]
    assert deployment_port == release.metrics_port
    text = scrape(deployment_port)
    samples = [
        line
        for line in text.splitlines()
        if line.startswith("watcher_operator_") and "_created" not in line and "_bucket" not in line
    ]
    print("\n" + "\n".join(samples))

    def sample(name: str, labels: str = "") -> float:
        match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
        assert match, f"{name}{labels} missing"
        return float(match.group(1))

    assert sample("watcher_operator_instances", '{phase="Ready"}') >= COUNT
    assert sample("watcher_operator_instances", '{phase="Degraded"}') == 0
    assert sample("watcher_operator_reconciles_total", '{result="applied"}') >= COUNT
    assert sample("watcher_operator_reconcile_duration_seconds_count") >= COUNT
    assert "# TYPE watcher_operator_api_errors_total counter" in text
    # Cleanup for what follows: delete the fifty, with their volumes.
    release.cluster.kubectl("delete", "wi", "--all", "-n", SCALE, "--wait=true", "--timeout=180s")
    release.cluster.kubectl("delete", "pvc", "--all", "-n", SCALE, "--wait=false")
    eventually(lambda: not phases(release), within=60, what="the instances gone")
