"""The chart, rendered, applied with kubectl to the operator tests' emulated API server; then the
operator started from the rendered Deployment (its command and environment, as applied) against
it, and a WatcherInstance from the chart's values reconciled under the chart's RBAC.

The emulator (tests/operator/apiserver.py, on KMock) serves no OpenAPI documents, so kubectl runs
with --validate=false; test_chart.py validates the same objects offline. It does not enforce RBAC
either: every request the operator makes is checked against the rules the chart installed.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import kmock
import pytest
import yaml

from tests.deploy.helpers import (
    FULL_VALUES,
    MONITORING,
    NAMESPACE,
    RELEASE,
    find,
    load_documents,
    render_text,
)
from tests.operator.apiserver import ApiServer
from tests.operator.conftest import operator_calls
from tests.operator.helpers import (
    DEPLOYMENTS,
    INSTANCES,
    SERVICE_MONITORS,
    eventually,
    install_crd,
    mark_deployment_ready,
)
from tests.operator.test_kubectl import bare_cluster, kubectl
from tests.operator.test_main import free_port
from watcher.gateway.table import parse_table
from watcher_operator import conventions as c
from watcher_operator import routes

__all__ = ["bare_cluster"]  # the fixture, imported from the operator's kubectl tests

CONFIG_MAPS = kmock.resource("", "v1", "configmaps")
SECRETS = kmock.resource("", "v1", "secrets")
ROLES = kmock.resource("rbac.authorization.k8s.io", "v1", "roles")
CLUSTER_ROLES = kmock.resource("rbac.authorization.k8s.io", "v1", "clusterroles")
Cluster = tuple[ApiServer, dict[str, str]]
Rules = list[dict[str, Any]]


def rendered(**options: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(CRDs, other objects) of the chart rendered with ``options``."""
    documents = load_documents(render_text(include_crds=True, **options))
    crds = [doc for doc in documents if doc["kind"] == "CustomResourceDefinition"]
    return crds, [doc for doc in documents if doc["kind"] != "CustomResourceDefinition"]


async def apply(env: dict[str, str], path: Path, documents: list[dict[str, Any]]) -> list[str]:
    await asyncio.to_thread(path.write_text, yaml.safe_dump_all(documents))
    out = await kubectl(env, "apply", "--validate=false", "-f", str(path))
    return out.strip().splitlines()


async def helm_install_with_kubectl(
    cluster: Cluster, tmp_path: Path, **options: Any
) -> list[dict[str, Any]]:
    api, env = cluster
    crds, objects = rendered(**options)
    # The cluster runs the Prometheus operator: its API is served.
    install_crd(api, c.MONITORING_GROUP, c.MONITORING_VERSION, c.SERVICE_MONITORS, "ServiceMonitor")
    namespaces = {doc["metadata"].get("namespace") for doc in objects} - {None}
    await apply(
        env,
        tmp_path / "namespaces.yaml",
        [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in namespaces],
    )
    out = await apply(env, tmp_path / "crds.yaml", crds)
    assert out == [f"customresourcedefinition.apiextensions.k8s.io/{c.CRD_NAME} created"]
    await kubectl(env, "wait", "--for=condition=Established", f"crd/{c.CRD_NAME}")
    out = await apply(env, tmp_path / "chart.yaml", objects)
    assert len(out) == len(objects) and all(line.endswith(" created") for line in out), out
    # Applying the same again changes nothing (what `helm upgrade` with no change would do).
    out = await apply(env, tmp_path / "chart.yaml", objects)
    assert all(line.endswith(" unchanged") for line in out), out
    return objects


def stored(api: ApiServer, deployment: dict[str, Any]) -> dict[str, Any]:
    """The Deployment as the cluster holds it, after kubectl applied it."""
    meta = deployment["metadata"]
    found = api.read_object(DEPLOYMENTS, meta["namespace"], meta["name"])
    assert found is not None
    return found


async def start_operator(
    env: dict[str, str], deployment: dict[str, Any], log: Path
) -> asyncio.subprocess.Process:
    """The operator as the Deployment stored in the cluster runs it: its command, its env."""
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    command = container["command"]
    assert command[:2] == ["python", "-m"], command
    variables = {var["name"]: var["value"] for var in container["env"]}
    assert len(variables) == len(container["env"]), "valueFrom is not resolved here"
    # In a pod the client finds the service account's token; here, the emulator's kubeconfig.
    # No setting leaks in from this process: only the Deployment's.
    process_env = {k: v for k, v in env.items() if not k.startswith("WATCHER_")} | variables
    with log.open("wb") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable, *command[1:], env=process_env, stdout=output, stderr=output
        )


async def stop(process: asyncio.subprocess.Process, log: Path) -> None:
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(30):
        code = await process.wait()
    assert code == 0, tail(log)


def tail(path: Path) -> str:
    return path.read_text()[-5000:]


def rule_allows(rules: Rules, group: str, resource: str, verb: str) -> bool:
    return any(
        group in rule["apiGroups"] and resource in rule["resources"] and verb in rule["verbs"]
        for rule in rules
    )


def denied_calls(api: ApiServer, rules: Rules) -> list[tuple[str, str, str]]:
    return sorted({call for call in operator_calls(api) if not rule_allows(rules, *call)})


async def liveness(port: int, path: str) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status


def routes_table(api: ApiServer, namespace: str) -> dict[str, str] | None:
    found = api.read_object(CONFIG_MAPS, namespace, routes.CONFIG_MAP)
    if found is None:
        return None
    return {key: str(url) for key, url in parse_table(found["data"][routes.KEY].encode()).items()}


@pytest.fixture
async def cluster(bare_cluster: Cluster) -> AsyncIterator[Cluster]:
    yield bare_cluster


async def test_chart_installs_and_its_operator_reconciles_an_instance(
    cluster: Cluster, tmp_path: Path
) -> None:
    api, env = cluster
    port = free_port()
    objects = await helm_install_with_kubectl(
        cluster,
        tmp_path,
        values=[FULL_VALUES],
        api_versions=[MONITORING],
        sets=[f"operator.livenessPort={port}", "operator.repairInterval=2"],
    )
    operator = next(
        d
        for d in objects
        if d["metadata"]["name"].endswith("-operator") and d["kind"] == "Deployment"
    )
    deployment = stored(api, operator)
    log = tmp_path / "operator.log"
    process = await start_operator(env, deployment, log)
    try:
        # The sample instances from the values are the operator's to reconcile.
        os1 = await eventually(
            lambda: api.read_object(DEPLOYMENTS, NAMESPACE, "watcher-os-1"),
            within=60,
            what=f"the Deployment of os-1; log: {log}",
        )
        container = os1["spec"]["template"]["spec"]["containers"][0]
        token = next(var for var in container["env"] if var["name"] == "WATCHER_INGEST_TOKEN")
        secret = api.read_object(SECRETS, NAMESPACE, token["valueFrom"]["secretKeyRef"]["name"])
        assert secret is not None and "ingest-token" in secret["data"]
        assert container["image"] == "ghcr.io/jcode-watcher/jcode-watcher:0.1.0"
        ds2 = await eventually(lambda: api.read_object(DEPLOYMENTS, NAMESPACE, "watcher-ds-2"))
        assert ds2["spec"]["replicas"] == 0  # paused
        # Kopf's liveness endpoint answers where the rendered probes call it.
        probe = deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
        assert await liveness(port, probe["httpGet"]["path"]) == 200
        # Once its pods are ready, the instance is Ready, monitored and in the gateway's table.
        mark_deployment_ready(api, "watcher-os-1", NAMESPACE)
        await eventually(
            lambda: (
                (api.read_object(INSTANCES, NAMESPACE, "os-1").get("status") or {}).get("phase")
                == "Ready"
            ),
            within=30,
            what="os-1 Ready",
        )
        assert api.read_object(SERVICE_MONITORS, NAMESPACE, "watcher-os-1") is not None
        # Both classes are routed; the paused one's requests get 503 from the gateway, not 404.
        expected = {
            "os-1": f"http://watcher-os-1.{NAMESPACE}.svc:3000",
            "ds-2": f"http://watcher-ds-2.{NAMESPACE}.svc:3000",
        }
        table = await eventually(
            lambda: routes_table(api, NAMESPACE) == expected, within=30, what="the routing table"
        )
        assert table
    finally:
        await stop(process, log)
    # The gateway the chart installed mounts that very ConfigMap.
    gateway = next(
        d
        for d in objects
        if d["metadata"]["name"].endswith("-gateway") and d["kind"] == "Deployment"
    )
    volumes = stored(api, gateway)["spec"]["template"]["spec"]["volumes"]
    assert {"name": "routes", "configMap": {"name": routes.CONFIG_MAP, "optional": True}} in volumes
    # Every request the operator made is granted by the ClusterRole the chart installed.
    role = api.read_object(
        "rbac.authorization.k8s.io/v1/clusterroles", None, f"{RELEASE}-jcode-watcher-operator"
    )
    assert role is not None
    assert denied_calls(api, role["rules"]) == []


def operator_calls_by_namespace(api: ApiServer) -> list[tuple[str | None, tuple[str, str, str]]]:
    """operator_calls (the operator tests' view of every request the operator made), each with
    the namespace it was made in (None: cluster-scoped or all namespaces)."""
    namespaces = [
        request.namespace
        for request in list(api)
        if request.headers.get("User-Agent", "").startswith(("kopf/", "OpenAPI-Generator/"))
        and request.resource is not None
        and request.resource.plural
    ]
    calls = operator_calls(api)
    assert len(namespaces) == len(calls)
    return list(zip(namespaces, calls, strict=True))


async def test_namespaced_install_runs_on_its_roles(cluster: Cluster, tmp_path: Path) -> None:
    """rbac.clusterWide=false: the operator's rules on namespaced resources are a Role in the
    namespace it serves; only its cluster-scoped reads are cluster-wide. It still reconciles, and
    every request it makes is granted there."""
    api, env = cluster
    port = free_port()
    objects = await helm_install_with_kubectl(
        cluster,
        tmp_path,
        sets=[
            "rbac.clusterWide=false",
            f"operator.livenessPort={port}",
            "instances[0].name=os-1",
            "instances[0].classDiv=os-1",
        ],
    )
    operator = find(objects, "Deployment", f"{RELEASE}-jcode-watcher-operator")
    log = tmp_path / "operator.log"
    process = await start_operator(env, stored(api, operator), log)
    try:
        await eventually(
            lambda: api.read_object(DEPLOYMENTS, NAMESPACE, "watcher-os-1"),
            within=60,
            what=f"the Deployment of os-1; log: {log}",
        )
        mark_deployment_ready(api, "watcher-os-1", NAMESPACE)
        await eventually(lambda: routes_table(api, NAMESPACE), within=30, what="routes")
    finally:
        await stop(process, log)
    name = f"{RELEASE}-jcode-watcher-operator"
    role = api.read_object(ROLES, NAMESPACE, name)
    cluster_role = api.read_object(CLUSTER_ROLES, None, name)
    assert role is not None and cluster_role is not None
    denied = [
        (namespace, call)
        for namespace, call in operator_calls_by_namespace(api)
        if not rule_allows(cluster_role["rules"], *call)
        and not (namespace == NAMESPACE and rule_allows(role["rules"], *call))
    ]
    assert denied == []
