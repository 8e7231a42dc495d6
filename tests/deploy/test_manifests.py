"""manifests/: what `kubectl apply -k manifests` installs, generated from the chart's rendering.

The chart is the one source for the operator and the gateway; `make manifests` writes the plain
files from it (tests/deploy/test_generated.py fails while they are stale). Here they are compared
with the chart as objects, which checks the generator too, after normalising what legitimately
differs:
- release labels (helm.sh/chart, app.kubernetes.io/{instance,version,managed-by}) and Helm's
  annotations: the plain files belong to no Helm release;
- names: the chart prefixes them with the release's; rendered with fullnameOverride=watcher it
  gives the plain files' names;
- the namespace: rendered into the plain files' namespace (the kustomization may move them all);
- the Namespace object: only the plain files create one, in namespace.yaml, kept by hand (helm
  install --create-namespace does);
- the operator's environment: compared as the settings it configures (the chart spells out every
  default, the plain file only what it changes), and an absent imagePullPolicy as Kubernetes
  defaults it for a tagged image (IfNotPresent).
"""

from __future__ import annotations

import functools
import subprocess
from typing import Any

import kubernetes_validate
import yaml

from tests.deploy import schemas
from tests.deploy.helpers import (
    EXAMPLES,
    K8S_VERSION,
    MANIFESTS,
    MONITORING,
    containers,
    env_of,
    find,
    load_documents,
    normalise,
    render,
)
from tests.operator.helpers import KUBECTL
from watcher_operator import conventions as c
from watcher_operator.config import Settings as OperatorSettings

INSTALL_FILES = ["namespace.yaml", "crd.yaml", "rbac.yaml", "operator.yaml", "gateway.yaml"]


def manifest(name: str) -> list[dict[str, Any]]:
    return load_documents((MANIFESTS / name).read_text())


def manifests_namespace() -> str:
    return find(manifest("namespace.yaml"), "Namespace")["metadata"]["name"]


@functools.cache
def chart_as_manifests() -> tuple[dict[str, Any], ...]:
    """The chart with default values, named and placed as the plain files are."""
    return tuple(render(namespace=manifests_namespace(), sets=["fullnameOverride=watcher"]))


def chart_object(kind: str, name: str) -> dict[str, Any]:
    return find(chart_as_manifests(), kind, name)


@functools.cache
def kustomized() -> tuple[dict[str, Any], ...]:
    result = subprocess.run(
        [str(KUBECTL), "kustomize", str(MANIFESTS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return tuple(load_documents(result.stdout))


def test_kustomization_installs_the_crd_rbac_operator_and_gateway() -> None:
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    assert kustomization["resources"] == INSTALL_FILES
    documents = kustomized()
    kinds = sorted((doc["kind"], doc["metadata"]["name"]) for doc in documents)
    namespace = kustomization.get("namespace", manifests_namespace())
    assert kinds == sorted(
        [
            ("CustomResourceDefinition", c.CRD_NAME),
            ("Namespace", namespace),
            ("ServiceAccount", "watcher-operator"),
            ("ClusterRole", "watcher-operator"),
            ("ClusterRoleBinding", "watcher-operator"),
            ("Role", "watcher-operator"),
            ("RoleBinding", "watcher-operator"),
            ("Deployment", "watcher-operator"),
            ("ServiceAccount", "watcher-gateway"),
            ("Service", "watcher-backend-service"),
            ("Deployment", "watcher-gateway"),
        ]
    )
    # Everything lands in one namespace, the binding's subject included.
    placed = {doc["metadata"]["namespace"] for doc in documents if "namespace" in doc["metadata"]}
    assert placed == {namespace}
    binding = find(documents, "ClusterRoleBinding")
    assert binding["subjects"][0]["namespace"] == namespace
    assert find(documents, "RoleBinding")["subjects"][0]["namespace"] == namespace


def test_kustomized_objects_are_valid_kubernetes() -> None:
    for document in kustomized():
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)


def test_gateway_yaml_is_the_charts_gateway() -> None:
    documents = manifest("gateway.yaml")
    assert [doc["kind"] for doc in documents] == ["ServiceAccount", "Service", "Deployment"]
    for document in documents:
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)
        expected = chart_object(document["kind"], document["metadata"]["name"])
        assert normalise(document) == normalise(expected), document["kind"]
    # And the chart has no gateway object the file lacks.
    gateway = [
        (doc["kind"], doc["metadata"]["name"])
        for doc in chart_as_manifests()
        if doc["metadata"].get("labels", {}).get(c.LABEL_COMPONENT) == "gateway"
    ]
    assert sorted(gateway) == sorted((d["kind"], d["metadata"]["name"]) for d in documents)


def test_rbac_yaml_is_the_charts_rbac() -> None:
    for document in manifest("rbac.yaml"):
        expected = chart_object(document["kind"], document["metadata"]["name"])
        assert normalise(document) == normalise(expected), document["kind"]


def operator_comparable(deployment: dict[str, Any]) -> tuple[dict[str, Any], OperatorSettings]:
    document = normalise(deployment)
    [container] = containers(document)
    settings = OperatorSettings.from_env(env_of(container))
    container.pop("env")
    container.setdefault("imagePullPolicy", "IfNotPresent")  # the API's default for a tag
    assert not container["image"].endswith(":latest")
    return document, settings


def test_operator_yaml_is_the_charts_operator() -> None:
    [deployment] = manifest("operator.yaml")
    assert deployment["metadata"]["namespace"] == manifests_namespace()
    expected = chart_object("Deployment", deployment["metadata"]["name"])
    assert operator_comparable(deployment) == operator_comparable(expected)


def test_examples_fit_the_crd() -> None:
    names = sorted(path.name for path in EXAMPLES.glob("*.yaml"))
    assert {"minimal.yaml", "full.yaml", "servicemonitor-gateway.yaml"} <= set(names)
    for name in names:
        for document in load_documents((EXAMPLES / name).read_text()):
            assert schemas.custom_resource_errors(document) == [], name
            assert "namespace" not in document["metadata"], f"{name}: applied with -n"


def test_minimal_and_full_examples() -> None:
    [minimal] = load_documents((EXAMPLES / "minimal.yaml").read_text())
    assert minimal["spec"] == {"classDiv": "os-1"}
    [full] = load_documents((EXAMPLES / "full.yaml").read_text())
    spec_schema = schemas.watcher_instance_schema()["properties"]["spec"]
    assert unset_fields(spec_schema, full["spec"]) == [], "full.yaml should set every field"
    env_sources = {
        next(iter(var["valueFrom"])) for var in full["spec"]["env"] if "valueFrom" in var
    }
    assert env_sources == {"secretKeyRef"}


# A file:// backup's claim: the alternative to the S3 fields full.yaml's backup sets.
ALTERNATIVES = {"spec.backup.claimName"}


def unset_fields(schema: dict[str, Any], value: Any, path: str = "spec") -> list[str]:
    """Fields of ``schema`` (objects with listed properties) that ``value`` does not set."""
    missing = []
    if isinstance(value, dict) and "properties" in schema:
        for key, sub in schema["properties"].items():
            if key not in value:
                if f"{path}.{key}" not in ALTERNATIVES:
                    missing.append(f"{path}.{key}")
            elif key != "env":  # env's item alternatives (value / valueFrom kinds) are exclusive
                missing += unset_fields(sub, value[key], f"{path}.{key}")
    return missing


def test_servicemonitor_example_is_the_charts() -> None:
    [example] = load_documents((EXAMPLES / "servicemonitor-gateway.yaml").read_text())
    documents = render(
        namespace=manifests_namespace(),
        sets=[
            "fullnameOverride=watcher",
            "gateway.serviceMonitor.enabled=true",
            "gateway.serviceMonitor.labels.release=prometheus",
        ],
        api_versions=[MONITORING],
    )
    rendered = normalise(find(documents, "ServiceMonitor"))
    del rendered["metadata"]["namespace"]  # the example is applied with -n
    assert normalise(example) == rendered
    # It selects the gateway's Service as the plain files define it.
    service = find(manifest("gateway.yaml"), "Service")
    selector = example["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert example["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]
