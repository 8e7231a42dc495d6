"""The CRD (structural, its defaults and checks the same as the operator's) and manifests/: the
RBAC (generated from watcher_operator/rbac.py through the chart), the operator Deployment, the
kustomization, the example. Built-in kinds are validated offline against Kubernetes' schemas
(kubernetes-validate, strict)."""

from __future__ import annotations

import copy
import re
from typing import Any

import kubernetes_validate
import pytest

from tests.operator.helpers import CRD_PATH, EXAMPLE_PATH, MANIFESTS, load_all_yaml, load_yaml
from watcher_operator import conventions as c
from watcher_operator import rbac, spec, status
from watcher_operator.config import Settings
from watcher_operator.status import Refusal

K8S_VERSION = "1.37"
# The plain install's namespace (manifests/namespace.yaml): the operator serves it; its Role.
NAMESPACE = "watcher"
CRD = load_yaml(CRD_PATH)
[VERSION] = CRD["spec"]["versions"]
SCHEMA = VERSION["schema"]["openAPIV3Schema"]
SPEC_SCHEMA = SCHEMA["properties"]["spec"]
STATUS_SCHEMA = SCHEMA["properties"]["status"]


def check(schema: dict[str, Any], value: Any, path: str = "") -> list[str]:
    """What the API server would reject or prune in ``value`` (the structural-schema subset
    this CRD uses: types, properties, required, enum, pattern, lengths, int-or-string)."""
    if schema.get("x-kubernetes-int-or-string"):
        ok = isinstance(value, int | str) and not isinstance(value, bool)
        if not ok:
            return [f"{path}: not an int or a string"]
        if (
            isinstance(value, str)
            and "pattern" in schema
            and not re.search(schema["pattern"], value)
        ):
            return [f"{path}: {value!r} does not match {schema['pattern']}"]
        return []
    kind = schema.get("type")
    types = {"object": dict, "array": list, "string": str, "integer": int, "boolean": bool}
    if not isinstance(value, types[kind]) or (kind == "integer" and isinstance(value, bool)):
        return [f"{path}: not a {kind}"]
    errors: list[str] = []
    if kind == "object":
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if properties is not None and key in properties:
                errors += check(properties[key], item, f"{path}.{key}")
            elif isinstance(extra, dict):
                errors += check(extra, item, f"{path}.{key}")
            elif properties is not None:
                errors.append(f"{path}.{key}: unknown field (would be pruned)")
        errors += [
            f"{path}.{key}: required" for key in schema.get("required", []) if key not in value
        ]
        if len(value) > schema.get("maxProperties", len(value)):
            errors.append(f"{path}: too many properties")
        if len(value) < schema.get("minProperties", 0):
            errors.append(f"{path}: too few properties")
    elif kind == "array":
        for index, item in enumerate(value):
            errors += check(schema["items"], item, f"{path}[{index}]")
    elif kind == "string":
        if "enum" in schema and value not in schema["enum"]:
            errors.append(f"{path}: {value!r} not in {schema['enum']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
        if len(value) > schema.get("maxLength", len(value)) or len(value) < schema.get(
            "minLength", 0
        ):
            errors.append(f"{path}: bad length")
        if schema.get("format") == "date-time" and not spec.RFC3339.match(value):
            errors.append(f"{path}: not a date-time")
    return errors


def with_defaults(schema: dict[str, Any], value: Any) -> Any:
    """The API server's defaulting: fill in absent fields, then default within them."""
    if schema.get("type") != "object" or not isinstance(value, dict):
        return value
    result = dict(value)
    for key, sub in (schema.get("properties") or {}).items():
        if key not in result and "default" in sub:
            result[key] = copy.deepcopy(sub["default"])
        if key in result:
            result[key] = with_defaults(sub, result[key])
    return result


def nodes(schema: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = [(path, schema)]
    for key, sub in (schema.get("properties") or {}).items():
        found += nodes(sub, f"{path}.{key}")
    if isinstance(schema.get("additionalProperties"), dict):
        found += nodes(schema["additionalProperties"], f"{path}.*")
    if "items" in schema:
        found += nodes(schema["items"], f"{path}[]")
    return found


def test_crd_validates_against_kubernetes_schema() -> None:
    kubernetes_validate.validate(CRD, K8S_VERSION, strict=True)


def test_crd_names_scope_and_version() -> None:
    assert CRD["metadata"]["name"] == c.CRD_NAME
    assert CRD["spec"]["group"] == c.GROUP
    assert CRD["spec"]["scope"] == "Namespaced"
    assert CRD["spec"]["names"] == {
        "kind": "WatcherInstance",
        "listKind": "WatcherInstanceList",
        "plural": "watcherinstances",
        "singular": "watcherinstance",
        "shortNames": ["wi"],
        "categories": ["jcode-watcher"],
    }
    assert (VERSION["name"], VERSION["served"], VERSION["storage"]) == ("v1alpha1", True, True)
    assert VERSION["subresources"] == {"status": {}}


def test_crd_printer_columns() -> None:
    assert [
        (col["name"], col["type"], col["jsonPath"]) for col in VERSION["additionalPrinterColumns"]
    ] == [
        ("Class", "string", ".spec.classDiv"),
        ("Phase", "string", ".status.phase"),
        ("Ready", "string", '.status.conditions[?(@.type=="Ready")].status'),
        ("Age", "date", ".metadata.creationTimestamp"),
    ]


def test_crd_schema_is_structural() -> None:
    for path, node in nodes(SCHEMA):
        assert "x-kubernetes-preserve-unknown-fields" not in node, path
        if node.get("x-kubernetes-int-or-string"):
            assert (
                node.get("anyOf") == [{"type": "integer"}, {"type": "string"}]
                or "anyOf" not in node
            ), path
            continue
        assert node.get("type") in ("object", "array", "string", "integer", "boolean"), path
        if node["type"] == "array":
            assert "items" in node, path
        if node["type"] == "object" and path != ".metadata":
            assert "properties" in node or "additionalProperties" in node, path
    assert SCHEMA["required"] == ["spec"]
    assert SPEC_SCHEMA["required"] == ["classDiv"]


def test_crd_defaults_are_the_operators_defaults() -> None:
    defaulted = with_defaults(SPEC_SCHEMA, {"classDiv": "os-1"})
    assert defaulted == {
        "classDiv": "os-1",
        "image": "",
        "paused": False,
        "restartAt": "",
        "storage": {"size": "5Gi", "retainOnDelete": True},
        "resources": {},
        "serviceMonitor": {"enabled": True, "interval": "30s"},
    }
    image = "example/watcher:1"
    assert spec.parse(defaulted, default_image=image) == spec.parse(
        {"classDiv": "os-1"}, default_image=image
    )
    assert check(SPEC_SCHEMA, defaulted) == []


def test_crd_checks_agree_with_the_operators() -> None:
    classdiv = SPEC_SCHEMA["properties"]["classDiv"]
    assert classdiv["pattern"] == c.CLASS_DIV_PATTERN
    assert classdiv["maxLength"] == 63
    samples = {
        "restartAt": [
            "",
            "2026-03-02T09:00:00Z",
            "2026-03-02T09:00:00.123+09:00",
            "2026-03-02",
            "yesterday",
            "2026-03-02 09:00:00Z",
        ],
        "size": ["5Gi", "500M", "1e3", "0.5Ti", "5GB", "-1Gi", "Gi", "5 Gi"],
        "interval": ["30s", "1m30s", "2h", "0", "30", "1.5s", "30sec"],
    }
    nodes_by_name = {
        "restartAt": SPEC_SCHEMA["properties"]["restartAt"],
        "size": SPEC_SCHEMA["properties"]["storage"]["properties"]["size"],
        "interval": SPEC_SCHEMA["properties"]["serviceMonitor"]["properties"]["interval"],
    }
    for field, values in samples.items():
        for value in values:
            api_accepts = not check(nodes_by_name[field], value)
            raw = {"classDiv": "os-1"}
            if field == "restartAt":
                raw["restartAt"] = value
            elif field == "size":
                raw["storage"] = {"size": value}
            else:
                raw["serviceMonitor"] = {"interval": value}
            try:
                spec.parse(raw, default_image="x")
                operator_accepts = True
            except spec.SpecError:
                operator_accepts = False
            if field == "size" and value == "0":
                continue
            assert api_accepts == operator_accepts, (field, value)


def test_crd_snapshots_checks_agree_with_the_operators() -> None:
    snapshots = SPEC_SCHEMA["properties"]["snapshots"]
    assert snapshots["required"] == ["claimName"]
    assert snapshots["properties"]["claimName"]["maxLength"] == c.CLAIM_NAME_MAX
    samples = [
        {"claimName": "watcher-filemon-pvc"},
        {"claimName": "filemon.snapshots", "subPath": "watcher/snapshots"},
        {"claimName": "a" * 253},
        {"claimName": "a" * 254},
        {"claimName": "pvc", "subPath": ""},
        {"claimName": "pvc", "subPath": ".hidden/..x/."},
        {},
        {"subPath": "os-1"},
        {"claimName": ""},
        {"claimName": "Filemon"},
        {"claimName": "-pvc"},
        {"claimName": "pvc.", "subPath": "os-1"},
        {"claimName": "pvc", "subPath": "/os-1"},
        {"claimName": "pvc", "subPath": "../os-1"},
        {"claimName": "pvc", "subPath": "a/../b"},
        {"claimName": "pvc", "subPath": "a/.."},
        {"claimName": "pvc", "subPath": "a//b"},
        {"claimName": "pvc", "subPath": "a/"},
    ]
    for value in samples:
        api_accepts = not check(snapshots, value)
        try:
            spec.parse({"classDiv": "os-1", "snapshots": value}, default_image="x")
            operator_accepts = True
        except spec.SpecError:
            operator_accepts = False
        assert api_accepts == operator_accepts, value


def test_crd_forbids_the_env_the_operator_sets() -> None:
    [rule] = SPEC_SCHEMA["properties"]["env"]["x-kubernetes-validations"]
    for name in (*c.MANAGED_ENV, c.SNAPSHOT_DIR_ENV):
        assert f"'{name}'" in rule["rule"], name


def test_crd_bounds_what_its_rules_iterate() -> None:
    """The API server refuses CEL rules whose cost it cannot bound: lists and strings they
    walk need maxItems / maxLength."""
    env = SPEC_SCHEMA["properties"]["env"]
    assert env["maxItems"] == spec.MAX_ENV
    assert env["items"]["properties"]["name"]["maxLength"] == 256
    assert SPEC_SCHEMA["properties"]["classDiv"]["maxLength"] == 63


def test_crd_rejects_what_it_should() -> None:
    """A control for ``check``: it does find problems."""
    bad = {"classDiv": "os1", "paused": "no", "storage": {"size": "5GB", "extra": 1}, "env": [{}]}
    errors = check(SPEC_SCHEMA, bad)
    assert errors == [
        ".classDiv: 'os1' does not match ^[A-Za-z0-9]+-[A-Za-z0-9]+$",
        ".paused: not a boolean",
        ".storage.size: '5GB' does not match "
        + SPEC_SCHEMA["properties"]["storage"]["properties"]["size"]["pattern"],
        ".storage.extra: unknown field (would be pruned)",
        ".env[0].name: required",
    ]


@pytest.mark.parametrize(
    "written",
    [
        status.compute(
            generation=1,
            previous={},
            refusal=None,
            paused=False,
            deployment=None,
            service_url="http://x",
            last_restart_at="2026-01-01T00:00:00Z",
        ),
        status.compute(
            generation=2,
            previous={},
            refusal=Refusal("InvalidSpec", "bad"),
            paused=False,
            deployment=None,
            service_url="http://x",
        ),
        status.compute(
            generation=3,
            previous={},
            refusal=None,
            paused=True,
            deployment={"status": {"readyReplicas": 1}},
            service_url="http://x",
        ),
        status.failed({}, generation=1, message="API request failed: 500"),
    ],
)
def test_every_status_the_operator_writes_fits_the_schema(written: dict[str, Any]) -> None:
    assert check(STATUS_SCHEMA, written) == []


def test_example_is_a_valid_instance() -> None:
    example = load_yaml(EXAMPLE_PATH)
    assert (example["apiVersion"], example["kind"]) == (c.API_VERSION, c.KIND)
    assert "namespace" not in example["metadata"]  # applied with -n
    assert spec.check_name(example["metadata"]["name"]) == []
    assert check(SCHEMA, with_defaults(SCHEMA, example)) == []
    parsed = spec.parse(example["spec"], default_image="x")
    assert parsed.class_div == "os-1"
    assert parsed.service_monitor.labels == {"release": "prometheus"}


def test_rbac_yaml_grants_the_rule_list() -> None:
    documents = load_all_yaml(MANIFESTS / "rbac.yaml")
    for document in documents:
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)
    account, cluster_role, cluster_binding, role, binding = documents
    assert [doc["kind"] for doc in documents] == [
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
    ]

    def rules(*selected: rbac.Rule) -> list[dict[str, list[str]]]:
        return [
            {
                "apiGroups": list(r.api_groups),
                "resources": list(r.resources),
                "verbs": list(r.verbs),
            }
            for r in selected
        ]

    # Namespace-scoped: what it creates and changes only in its own namespace.
    assert cluster_role["rules"] == rules(*(r for r in rbac.RULES if r.cluster_wide))
    assert role["rules"] == rules(*(r for r in rbac.RULES if not r.cluster_wide))
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == NAMESPACE
    assert {r.resources for r in rbac.RULES if r.cluster_wide} == {
        ("watcherinstances",),
        ("namespaces",),
        ("customresourcedefinitions",),
    }
    for bound, granted in ((cluster_binding, cluster_role), (binding, role)):
        assert bound["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": granted["kind"],
            "name": granted["metadata"]["name"],
        }
        assert bound["subjects"] == [
            {
                "kind": "ServiceAccount",
                "name": account["metadata"]["name"],
                "namespace": NAMESPACE,
            }
        ]
    # Each rule says why, in the YAML too: the comment right above it.
    lines = (MANIFESTS / "rbac.yaml").read_text().splitlines()
    whys = [lines[i - 1].strip() for i, line in enumerate(lines) if "- apiGroups:" in line]
    assert sorted(whys) == sorted(f"# {rule.why}" for rule in rbac.RULES)


def test_rbac_grants_no_wildcards_and_no_secrets_but_one_by_name() -> None:
    for rule in rbac.RULES:
        assert "*" not in rule.verbs + rule.resources + rule.api_groups
        assert "pods" not in rule.resources
        assert rule.why
    # Secrets: only a `get` by name (spec.backup.credentialsSecret's metadata); never listed or
    # watched, so the operator can find no Secret it was not pointed at.
    assert [rule.verbs for rule in rbac.RULES if "secrets" in rule.resources] == [("get",)]
    assert not rbac.allows("", "secrets", "list") and not rbac.allows("", "secrets", "watch")
    # ConfigMaps: only the routing table it writes, never reading others' by listing them.
    assert rbac.allows("", "configmaps", "patch")
    assert not rbac.allows("", "configmaps", "list")
    assert not rbac.allows("", "configmaps", "delete")
    assert rbac.allows("apps", "deployments", "patch")
    assert not rbac.allows("apps", "deployments", "delete")
    assert not rbac.allows("", "persistentvolumeclaims", "delete")


def test_operator_deployment() -> None:
    [namespace] = load_all_yaml(MANIFESTS / "namespace.yaml")
    [deployment] = load_all_yaml(MANIFESTS / "operator.yaml")
    for document in (namespace, deployment):
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)
    assert namespace["metadata"]["name"] == NAMESPACE
    assert deployment["metadata"]["namespace"] == NAMESPACE
    spec_ = deployment["spec"]
    assert spec_["replicas"] == 1 and spec_["strategy"] == {"type": "Recreate"}  # standalone
    pod = spec_["template"]["spec"]
    assert (
        spec_["selector"]["matchLabels"].items() <= spec_["template"]["metadata"]["labels"].items()
    )
    [account] = [
        doc for doc in load_all_yaml(MANIFESTS / "rbac.yaml") if doc["kind"] == "ServiceAccount"
    ]
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    [container] = pod["containers"]
    assert container["command"] == ["python", "-m", "watcher_operator"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    env = {var["name"]: var["value"] for var in container["env"]}
    settings = Settings.from_env(env)  # every variable set there is valid
    # It serves its own namespace, where rbac.yaml's Role is.
    assert settings.namespaces == (NAMESPACE,) and settings.peering == ""
    liveness, metrics = container["ports"]
    assert liveness["containerPort"] == settings.liveness_port
    assert metrics["containerPort"] == settings.metrics_port
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": liveness["name"]}
    assert container["image"] == settings.default_image


def test_kustomization_lists_the_install_manifests() -> None:
    kustomization = load_yaml(MANIFESTS / "kustomization.yaml")
    assert kustomization["resources"] == [
        "namespace.yaml",
        "crd.yaml",
        "rbac.yaml",
        "operator.yaml",
        "gateway.yaml",
    ]
    assert all((MANIFESTS / name).is_file() for name in kustomization["resources"])
