"""Shared helpers of the deploy checks: helm, rendering the chart, normalising release labels."""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "jcode-watcher"
MANIFESTS = ROOT / "manifests"
EXAMPLES = MANIFESTS / "examples"
FULL_VALUES = CHART / "ci" / "full-values.yaml"
# Installed by `make deploy-tools` (a dependency of `make test` and `make check-deploy`).
HELM = ROOT / ".tools" / "bin" / "helm"
# The newest Kubernetes version whose schemas kubernetes-validate (pinned) ships.
K8S_VERSION = "1.37"
MONITORING = "monitoring.coreos.com/v1"
RELEASE = "watcher"
NAMESPACE = "watcher"

# Labels whose values depend on the Helm release; the plain manifests carry none of them.
RELEASE_LABELS = frozenset(
    {
        "helm.sh/chart",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/version",
        "app.kubernetes.io/managed-by",
    }
)


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    if not HELM.is_file():
        pytest.fail(f"{HELM} is missing: run `make deploy-tools` (make test does)")
    result = subprocess.run(
        [str(HELM), *args], capture_output=True, text=True, timeout=60, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stderr}")
    return result


def render_text(
    *,
    release: str = RELEASE,
    chart: Path = CHART,
    namespace: str = NAMESPACE,
    values: Iterable[Path] = (),
    sets: Iterable[str] = (),
    api_versions: Iterable[str] = (),
    include_crds: bool = False,
) -> str:
    args = ["template", release, str(chart), "--namespace", namespace]
    for path in values:
        args += ["--values", str(path)]
    for assignment in sets:
        args += ["--set", assignment]
    for api in api_versions:
        args += ["--api-versions", api]
    if include_crds:
        args.append("--include-crds")
    return helm(*args).stdout


def load_documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def render(**kwargs: Any) -> list[dict[str, Any]]:
    return load_documents(render_text(**kwargs))


def find(documents: Sequence[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [
        doc
        for doc in documents
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def kinds_and_names(documents: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((doc["kind"], doc["metadata"]["name"]) for doc in documents)


def normalise(document: dict[str, Any]) -> dict[str, Any]:
    """The object without what differs between a Helm release and the plain manifests: release
    labels (in labels and label selectors alike) and Helm's own annotations."""

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if is_label_map(key, value):
                value = {k: v for k, v in value.items() if k not in RELEASE_LABELS}
            elif key == "annotations" and isinstance(value, dict):
                value = {k: v for k, v in value.items() if not k.startswith("helm.sh/")}
                if not value:
                    continue
            out[key] = walk(value)
        return out

    return walk(copy.deepcopy(document))


def is_label_map(key: str, value: Any) -> bool:
    """labels, matchLabels, and a Service's selector (a plain label map)."""
    if not isinstance(value, dict):
        return False
    if key in ("labels", "matchLabels"):
        return True
    return key == "selector" and all(isinstance(v, str) for v in value.values())


def containers(document: dict[str, Any]) -> list[dict[str, Any]]:
    return document["spec"]["template"]["spec"]["containers"]


def env_of(container: dict[str, Any]) -> dict[str, str]:
    """A container's literal environment (entries with valueFrom are left out)."""
    return {var["name"]: var["value"] for var in container.get("env", []) if "value" in var}
