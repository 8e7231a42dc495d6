"""The Helm chart charts/jcode-watcher: lint, render (defaults, every option on, with and without
the Prometheus operator's API), validate what it renders, and hold it to the operator's contract.

Built-in kinds are validated offline with kubernetes-validate (strict: unknown fields fail);
WatcherInstances and ServiceMonitors with tests/deploy/schemas.py.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.deploy import schemas, values_table
from tests.deploy.helpers import (
    CHART,
    FULL_VALUES,
    K8S_VERSION,
    MONITORING,
    NAMESPACE,
    RELEASE,
    containers,
    env_of,
    find,
    helm,
    kinds_and_names,
    load_documents,
    render,
    render_text,
)
from tests.deploy.values_table import MAP_VALUES, leaf_paths, values_docs
from watcher.config import describe as service_describe
from watcher.gateway.config import GatewaySettings
from watcher_operator import conventions as c
from watcher_operator import rbac, routes
from watcher_operator.config import Settings as OperatorSettings

# The renderings the checks below go through: name -> helm template arguments.
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "default+monitoring": {"api_versions": [MONITORING]},
    "full": {"values": [FULL_VALUES]},
    "full+monitoring": {"values": [FULL_VALUES], "api_versions": [MONITORING]},
    "namespaced-rbac": {
        "sets": ["rbac.clusterWide=false", "operator.namespaces={watcher,course-a}"],
    },
    "cluster-wide": {"sets": ["rbac.clusterWide=true"]},
}


@functools.cache
def rendered_text(variant: str) -> str:
    return render_text(**VARIANTS[variant], include_crds=True)


def rendered(variant: str) -> list[dict[str, Any]]:
    return load_documents(rendered_text(variant))


def builtin(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [doc for doc in documents if doc["kind"] not in (c.KIND, "ServiceMonitor")]


@pytest.mark.parametrize("values", [[], ["--values", str(FULL_VALUES)]], ids=["default", "full"])
def test_helm_lint_strict(values: list[str]) -> None:
    result = helm("lint", "--strict", str(CHART), *values)
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout, result.stdout


def test_default_rendering() -> None:
    assert kinds_and_names(rendered("default")) == [
        ("ClusterRole", "watcher-jcode-watcher-operator"),
        ("ClusterRoleBinding", "watcher-jcode-watcher-operator"),
        ("CustomResourceDefinition", c.CRD_NAME),
        ("Deployment", "watcher-jcode-watcher-gateway"),
        ("Deployment", "watcher-jcode-watcher-operator"),
        # Namespace-scoped by default: the operator's rules on workloads in its own namespace.
        ("Role", "watcher-jcode-watcher-operator"),
        ("RoleBinding", "watcher-jcode-watcher-operator"),
        ("Service", "watcher-backend-service"),
        ("ServiceAccount", "watcher-jcode-watcher-gateway"),
        ("ServiceAccount", "watcher-jcode-watcher-operator"),
    ]
    # Without the value, the Prometheus operator's API alone adds nothing.
    assert kinds_and_names(rendered("default+monitoring")) == kinds_and_names(rendered("default"))


def test_full_rendering() -> None:
    with_monitoring = kinds_and_names(rendered("full+monitoring"))
    assert with_monitoring == [
        ("ClusterRole", "watcher-jcode-watcher-operator"),
        ("ClusterRoleBinding", "watcher-jcode-watcher-operator"),
        ("CustomResourceDefinition", c.CRD_NAME),
        ("Deployment", "watcher-jcode-watcher-gateway"),
        ("Deployment", "watcher-jcode-watcher-operator"),
        ("Secret", "watcher-jcode-watcher-tokens"),
        ("Service", "watcher-backend-service"),
        ("Service", "watcher-jcode-watcher-operator"),
        ("ServiceAccount", "watcher-jcode-watcher-gateway"),
        ("ServiceAccount", "watcher-jcode-watcher-operator"),
        ("ServiceMonitor", "watcher-jcode-watcher-gateway"),
        ("ServiceMonitor", "watcher-jcode-watcher-operator"),
        ("WatcherInstance", "ds-2"),
        ("WatcherInstance", "os-1"),
    ]
    # The ServiceMonitors (and the operator's metrics Service, there for its ServiceMonitor)
    # need the value and the cluster's API both.
    without = kinds_and_names(rendered("full"))
    assert without == [
        entry
        for entry in with_monitoring
        if entry[0] != "ServiceMonitor" and entry != ("Service", "watcher-jcode-watcher-operator")
    ]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_builtin_objects_are_valid_kubernetes(variant: str) -> None:
    documents = builtin(rendered(variant))
    assert documents
    for document in documents:
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_custom_resources_fit_their_schemas(variant: str) -> None:
    for document in rendered(variant):
        if document["kind"] in (c.KIND, "ServiceMonitor"):
            assert schemas.custom_resource_errors(document) == [], document["metadata"]["name"]


def test_custom_resource_check_rejects_bad_ones() -> None:
    """A control for the check above: it does find mistakes, in both kinds."""
    documents = rendered("full+monitoring")
    instance = find(documents, c.KIND, "os-1")
    instance["spec"]["storage"]["sise"] = "1Gi"
    instance["spec"]["classDiv"] = "os1"
    instance["spec"]["serviceMonitor"]["interval"] = "30 seconds"
    assert schemas.custom_resource_errors(instance) == [
        "spec.classDiv: 'os1' does not match '^[A-Za-z0-9]+-[A-Za-z0-9]+$'",
        "spec.serviceMonitor.interval: '30 seconds' does not match "
        + repr(schemas.DURATION).replace("\\\\", "\\"),
        "spec.storage: Additional properties are not allowed ('sise' was unexpected)",
    ]
    monitor = find(documents, "ServiceMonitor", "watcher-jcode-watcher-gateway")
    monitor["spec"]["endpoints"][0]["intervall"] = "30s"
    del monitor["spec"]["selector"]
    assert schemas.custom_resource_errors(monitor) == [
        "spec: 'selector' is a required property",
        "spec.endpoints.0: Additional properties are not allowed ('intervall' was unexpected)",
    ]


def rules_of(role: dict[str, Any]) -> list[tuple[tuple[str, ...], ...]]:
    return [
        (tuple(rule["apiGroups"]), tuple(rule["resources"]), tuple(rule["verbs"]))
        for rule in role["rules"]
    ]


def expected_rules(
    *, namespaced: bool = True, cluster_scoped: bool = True
) -> list[tuple[tuple[str, ...], ...]]:
    return [
        (rule.api_groups, rule.resources, rule.verbs)
        for rule in rbac.RULES
        if (cluster_scoped if rule.cluster_wide else namespaced)
    ]


def rule_comments(text: str, kind: str) -> list[str]:
    """The comment lines right above each rule of the ``kind`` object in rendered YAML."""
    [document] = [doc for doc in text.split("\n---") if f"\nkind: {kind}\n" in doc]
    lines = document.splitlines()
    return [
        lines[index - 1].strip().removeprefix("# ")
        for index, line in enumerate(lines)
        if line.strip().startswith("- apiGroups:")
    ]


def test_cluster_role_is_exactly_the_operators_rules_with_a_comment_each() -> None:
    documents = rendered("cluster-wide")
    role = find(documents, "ClusterRole")
    assert rules_of(role) == expected_rules()
    assert rule_comments(rendered_text("cluster-wide"), "ClusterRole") == [
        r.why for r in rbac.RULES
    ]
    assert not [doc for doc in documents if doc["kind"] in ("Role", "RoleBinding")]
    binding = find(documents, "ClusterRoleBinding")
    account = find(documents, "ServiceAccount", "watcher-jcode-watcher-operator")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": NAMESPACE}
    ]
    operator = find(documents, "Deployment", "watcher-jcode-watcher-operator")
    assert (
        operator["spec"]["template"]["spec"]["serviceAccountName"]
        == "watcher-jcode-watcher-operator"
    )


def test_namespaced_rbac_is_a_role_per_served_namespace() -> None:
    documents = rendered("namespaced-rbac")
    roles = [doc for doc in documents if doc["kind"] == "Role"]
    bindings = [doc for doc in documents if doc["kind"] == "RoleBinding"]
    assert sorted(doc["metadata"]["namespace"] for doc in roles) == ["course-a", "watcher"]
    assert sorted(doc["metadata"]["namespace"] for doc in bindings) == ["course-a", "watcher"]
    subject = {"kind": "ServiceAccount", "name": "watcher-jcode-watcher-operator"}
    for role in roles:
        assert rules_of(role) == expected_rules(namespaced=True, cluster_scoped=False)
    for binding in bindings:
        assert binding["roleRef"]["kind"] == "Role"
        assert binding["subjects"] == [{**subject, "namespace": NAMESPACE}]
    # Only the cluster-scoped reads stay cluster-wide (a Role cannot grant them): together,
    # exactly rbac.py's rules.
    cluster_role = find(documents, "ClusterRole")
    assert rules_of(cluster_role) == expected_rules(namespaced=False, cluster_scoped=True)
    assert find(documents, "ClusterRoleBinding")["subjects"] == [
        {**subject, "namespace": NAMESPACE}
    ]
    operator = find(documents, "Deployment", "watcher-jcode-watcher-operator")
    settings = OperatorSettings.from_env(env_of(containers(operator)[0]))
    assert settings.namespaces == ("course-a", "watcher")
    # Without operator.namespaces, a namespaced install serves the release namespace.
    alone = render(sets=["rbac.clusterWide=false"])
    assert [doc["metadata"]["namespace"] for doc in alone if doc["kind"] == "Role"] == [NAMESPACE]
    operator = find(alone, "Deployment", "watcher-jcode-watcher-operator")
    assert OperatorSettings.from_env(env_of(containers(operator)[0])).namespaces == (NAMESPACE,)


def test_rbac_can_be_left_out() -> None:
    kinds = {doc["kind"] for doc in render(sets=["rbac.create=false"])}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}


@pytest.mark.parametrize("variant", ["default", "full+monitoring"])
def test_pods_are_locked_down(variant: str) -> None:
    for deployment in [doc for doc in rendered(variant) if doc["kind"] == "Deployment"]:
        pod = deployment["spec"]["template"]["spec"]
        name = deployment["metadata"]["name"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] == c.RUN_AS_USER, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            assert container["resources"]["requests"] and container["resources"]["limits"], name
            assert container["image"] == "ghcr.io/jcode-watcher/jcode-watcher:0.1.0", name


def test_operator_runs_from_its_settings_with_kopf_liveness() -> None:
    operator = find(rendered("default"), "Deployment", "watcher-jcode-watcher-operator")
    assert operator["spec"]["replicas"] == 1
    assert operator["spec"]["strategy"] == {"type": "Recreate"}  # standalone: never two
    [container] = containers(operator)
    assert container["command"] == ["python", "-m", "watcher_operator"]
    settings = OperatorSettings.from_env(env_of(container))  # every value set there is valid
    # Namespace-scoped by default: it serves the release namespace only.
    assert settings.namespaces == (NAMESPACE,) and settings.peering == ""
    assert settings.default_image == container["image"]
    assert settings.log_format == "json"
    # Only the chart's image repository runs, and no instance may take the release's names.
    assert settings.allowed_images == ()
    assert settings.reserved_names == (
        "watcher-backend-service",
        "watcher-jcode-watcher-gateway",
        "watcher-jcode-watcher-operator",
    )
    # The probes call Kopf's liveness endpoint where python -m watcher_operator puts it; the
    # metrics port is where the operator serves /metrics.
    liveness, metrics = container["ports"]
    assert liveness["containerPort"] == settings.liveness_port == 8080
    assert (metrics["name"], metrics["containerPort"]) == ("metrics", settings.metrics_port)
    for probe in ("startupProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": liveness["name"]}
    # With metrics off, no port for them.
    off = find(
        render(sets=["operator.metricsPort=0"]), "Deployment", "watcher-jcode-watcher-operator"
    )
    assert [port["name"] for port in containers(off)[0]["ports"]] == ["liveness"]


def test_gateway_serves_the_original_backends_address_from_the_routes_configmap() -> None:
    documents = rendered("full")
    service = find(documents, "Service", "watcher-backend-service")
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 3000, "targetPort": "http", "protocol": "TCP"}
    ]
    gateway = find(documents, "Deployment", "watcher-jcode-watcher-gateway")
    pod = gateway["spec"]["template"]["spec"]
    assert service["spec"]["selector"].items() <= pod_labels(gateway).items()
    assert pod["automountServiceAccountToken"] is False
    [container] = pod["containers"]
    assert container["command"] == ["python", "-m", "watcher", "gateway"]
    settings = GatewaySettings.from_mapping(env_of(container))  # every value set there is valid
    assert [p["containerPort"] for p in container["ports"]] == [settings.port]
    assert str(settings.fallback_url) == "http://watcher-os-1.watcher.svc:3000"
    assert settings.timeout_s == 10.0
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    # The operator's ConfigMap, mounted as a directory (kubelet updates those, never a subPath),
    # where the gateway reads the file. The chart does not create it: the operator owns it.
    [mount] = [m for m in container["volumeMounts"] if m["name"] == "routes"]
    assert mount["mountPath"] == str(settings.routes_file.parent)
    assert settings.routes_file.name == routes.KEY
    assert "subPath" not in mount
    [volume] = [v for v in pod["volumes"] if v["name"] == "routes"]
    assert volume["configMap"] == {"name": routes.CONFIG_MAP, "optional": True}
    assert not [doc for doc in rendered("full+monitoring") if doc["kind"] == "ConfigMap"]


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"]["labels"]


def test_selectors_keep_the_components_apart() -> None:
    documents = rendered("default")
    operator = find(documents, "Deployment", "watcher-jcode-watcher-operator")
    gateway = find(documents, "Deployment", "watcher-jcode-watcher-gateway")
    for deployment in (operator, gateway):
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pod_labels(deployment).items()
    assert not (operator["spec"]["selector"]["matchLabels"].items() <= pod_labels(gateway).items())
    assert not (gateway["spec"]["selector"]["matchLabels"].items() <= pod_labels(operator).items())


def test_gateway_service_monitor_scrapes_its_metrics() -> None:
    monitor = find(rendered("full+monitoring"), "ServiceMonitor", "watcher-jcode-watcher-gateway")
    service = find(rendered("full+monitoring"), "Service", "watcher-backend-service")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["endpoints"] == [
        {"port": "http", "path": "/metrics", "interval": "15s", "scrapeTimeout": "10s"}
    ]


def test_operator_service_monitor_scrapes_its_metrics_port() -> None:
    documents = rendered("full+monitoring")
    monitor = find(documents, "ServiceMonitor", "watcher-jcode-watcher-operator")
    service = find(documents, "Service", "watcher-jcode-watcher-operator")
    operator = find(documents, "Deployment", "watcher-jcode-watcher-operator")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert service["spec"]["selector"].items() <= pod_labels(operator).items()
    assert service["spec"]["ports"] == [
        {"name": "metrics", "port": 9102, "targetPort": "metrics", "protocol": "TCP"}
    ]
    assert monitor["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "20s", "scrapeTimeout": "5s"}
    ]
    [container] = containers(operator)
    settings = OperatorSettings.from_env(env_of(container))
    assert settings.metrics_port == 9102
    assert settings.allowed_images == (
        "ghcr.io/jcode-watcher/jcode-watcher",
        "mirror.example/jcode-watcher",
    )
    # The gateway's and the operator's selectors never match each other's pods.
    gateway = find(documents, "Deployment", "watcher-jcode-watcher-gateway")
    assert not service["spec"]["selector"].items() <= pod_labels(gateway).items()


def service_variables() -> set[str]:
    return {name for name, _, _ in service_describe()}


def test_sample_instances_carry_secret_sourced_tokens() -> None:
    documents = rendered("full")
    secret = find(documents, "Secret")
    assert set(secret["data"]) == {"ingest-token", "read-token"}
    os1 = find(documents, c.KIND, "os-1")
    assert os1["metadata"]["namespace"] == NAMESPACE
    secret_name = secret["metadata"]["name"]
    assert os1["spec"]["env"] == [
        {
            "name": "WATCHER_INGEST_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": secret_name, "key": "ingest-token"}},
        },
        {
            "name": "WATCHER_READ_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": secret_name, "key": "read-token"}},
        },
        {"name": "WATCHER_LOG_FORMAT", "value": "json"},
    ]
    # The service reads both variables.
    assert {"WATCHER_INGEST_TOKEN", "WATCHER_READ_TOKEN"} <= service_variables()
    # An existing Secret instead: no Secret rendered, both references point at it.
    documents = render(
        sets=[
            "auth.existingSecret=course-tokens",
            "instances[0].name=os-1",
            "instances[0].classDiv=os-1",
        ]
    )
    assert not [doc for doc in documents if doc["kind"] == "Secret"]
    env = find(documents, c.KIND, "os-1")["spec"]["env"]
    assert [(var["name"], var["valueFrom"]["secretKeyRef"]["name"]) for var in env] == [
        ("WATCHER_INGEST_TOKEN", "course-tokens"),
        ("WATCHER_READ_TOKEN", "course-tokens"),
    ]
    # No token at all: the instance's spec is the values' own.
    documents = render(sets=["instances[0].name=os-1", "instances[0].classDiv=os-1"])
    assert find(documents, c.KIND, "os-1")["spec"] == {"classDiv": "os-1"}


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["instances[0].name=watcher", "instances[0].classDiv=os-1"], "is the release name"),
        (
            ["operator.namespaces={other}", "instances[0].name=os-1", "instances[0].classDiv=os-1"],
            "does not serve the release namespace",
        ),
    ],
)
def test_sample_instances_the_operator_would_mishandle_fail(sets: list[str], message: str) -> None:
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    for assignment in sets:
        args += ["--set", assignment]
    result = helm(*args, check=False)
    assert result.returncode != 0 and message in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("gateway.replicaCont=3", "additional properties 'replicaCont' not allowed"),
        ("operator.logLevel=loud", "value must be one of"),
        ("gateway.fallbackURL=watcher-os-1:3000", "does not match pattern"),
        ("image.pullPolicy=Sometimes", "value must be one of"),
        ("instances[0].name=os-1", "missing property 'classDiv'"),
        ("instances[0].classDiv=os-1", "missing property 'name'"),
        ("rbac.clusterwide=false", "additional properties 'clusterwide' not allowed"),
    ],
)
def test_values_schema_refuses_misspelt_or_wrong_values(assignment: str, message: str) -> None:
    result = helm("template", RELEASE, str(CHART), "--set", assignment, check=False)
    assert result.returncode != 0, f"{assignment} was accepted"
    assert message in result.stderr, result.stderr


def schema_node(schema: dict[str, Any], path: str) -> dict[str, Any]:
    node = schema
    for key in path.split("."):
        node = node["properties"][key]
    return node


def test_every_value_is_documented_and_typed() -> None:
    text = (CHART / "values.yaml").read_text()
    values = yaml.safe_load(text)
    schema = json.loads((CHART / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    assert list(jsonschema.Draft7Validator(schema).iter_errors(values)) == []
    documented = values_docs(text)
    for path in leaf_paths(values):
        assert documented.get(path), f"{path} has no '# --' comment in values.yaml"
        node = schema_node(schema, path)
        assert node.get("description"), f"{path} has no description in values.schema.json"
        assert "type" in node, f"{path} has no type in values.schema.json"
    # Every object of the schema is closed: a misspelt key anywhere fails.
    for path, node in schema_objects(schema):
        if path in MAP_VALUES or "additionalProperties" in node:
            continue
        raise AssertionError(f"{path or '<root>'} does not set additionalProperties")
    # And the schema has no setting values.yaml lacks (global is Helm's own).
    declared = set(schema_paths(schema)) - {"global"}
    assert declared == set(leaf_paths(values)), sorted(declared ^ set(leaf_paths(values)))


def schema_objects(schema: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if schema.get("type") == "object" and "properties" in schema:
        found.append((path, schema))
    for key, sub in (schema.get("properties") or {}).items():
        if path == "" and key == "instances":
            continue  # the CRD's own schema, checked against the CRD below
        found += schema_objects(sub, f"{path}.{key}".lstrip("."))
    return found


def schema_paths(schema: dict[str, Any], prefix: str = "") -> list[str]:
    paths = []
    for key, sub in schema.get("properties", {}).items():
        path = f"{prefix}{key}"
        if "properties" in sub and path not in MAP_VALUES:
            paths += schema_paths(sub, f"{path}.")
        else:
            paths.append(path)
    return paths


def test_values_schema_instances_follow_the_crd() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["properties"]["instances"]["items"] == schemas.instance_values_schema(), (
        "stale: run make manifests"
    )


def test_names_follow_overrides_and_the_image_its_digest() -> None:
    names = kinds_and_names(render(sets=["fullnameOverride=jw"]))
    assert ("Deployment", "jw-operator") in names and ("Deployment", "jw-gateway") in names
    documents = render(release="course", sets=["nameOverride=watch"])
    operator = find(documents, "Deployment", "course-watch-operator")
    assert pod_labels(operator)["app.kubernetes.io/name"] == "watch"
    # A release named after the chart is not repeated.
    names = kinds_and_names(render(release="jcode-watcher"))
    assert ("Deployment", "jcode-watcher-operator") in names
    digest = "sha256:" + "a" * 64
    documents = render(sets=[f"image.digest={digest}"])
    [container] = containers(find(documents, "Deployment", "watcher-jcode-watcher-operator"))
    assert container["image"] == f"ghcr.io/jcode-watcher/jcode-watcher@{digest}"
    assert env_of(container)["WATCHER_OPERATOR_DEFAULT_IMAGE"] == container["image"]


def test_notes_tell_how_to_start() -> None:
    result = helm("install", "--dry-run=client", RELEASE, str(CHART), "--namespace", NAMESPACE)
    notes = result.stdout.split("NOTES:", 1)[1]
    assert 'kind": "WatcherInstance"' in notes and "kubectl apply -n watcher -f -" in notes
    assert "http://watcher-backend-service.watcher.svc.cluster.local:3000" in notes
    assert "/api/docs" in notes
    assert "ConfigMap watcher-routes" in notes


def test_chart_version_and_image_agree_with_the_project() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    [version] = re.findall(r'^version = "([^"]+)"', pyproject, re.MULTILINE)
    assert chart["appVersion"] == version
    assert OperatorSettings().default_image.endswith(f":{chart['appVersion']}")


def test_docs_values_table_is_current() -> None:
    doc = values_table.DOC.read_text()
    assert values_table.BEGIN in doc, "docs/deploying.md lacks the values table"
    assert values_table.doc_with_table(doc) == doc, (
        "docs/deploying.md's values table is stale: python -m tests.deploy.values_table"
    )
