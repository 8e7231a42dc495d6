"""JSON Schemas of the custom resources the chart and the manifests ship, and a validator.

WatcherInstance: the CRD's own openAPIV3Schema, converted to JSON Schema (draft 7). The API
server also prunes or refuses fields a structural schema does not list (kubectl asks for strict
field validation), so the conversion closes every object that lists its properties. CEL rules
(x-kubernetes-validations) are not evaluated by jsonschema; the one on the object's name is
checked with the operator's own function instead.

ServiceMonitor: no pinned package ships the Prometheus operator's CRD, so this is a minimal schema
of the fields JCode Watcher uses, typed as monitoring.coreos.com/v1 types them, and closed: a field
outside it (or misspelt) is an error here, even where the real CRD would accept it.

``instance_values_schema`` is the chart's values.schema.json ``instances`` item, made from the CRD
by `make manifests` (tests/deploy/generate.py).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from watcher_operator import conventions as c
from watcher_operator import spec as instance_spec

ROOT = Path(__file__).resolve().parents[2]
# The CRD's one source (manifests/crd.yaml is its generated copy).
CRD_PATH = ROOT / "charts" / "jcode-watcher" / "crds" / "watcherinstances.yaml"

INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]
DURATION = (
    r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
)
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


def openapi_to_jsonschema(node: Any) -> Any:
    """A structural OpenAPI v3 schema of a CRD as JSON Schema: Kubernetes' extensions dropped,
    int-or-string as anyOf, objects that list properties closed to others."""
    if isinstance(node, list):
        return [openapi_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-"):
            continue
        if key in ("properties", "patternProperties"):
            out[key] = {name: openapi_to_jsonschema(sub) for name, sub in value.items()}
        else:
            out[key] = openapi_to_jsonschema(value)
    if node.get("x-kubernetes-int-or-string"):
        out.setdefault("anyOf", INT_OR_STRING)
    if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
        out["additionalProperties"] = False
    return out


def load_crd(path: Path = CRD_PATH) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def watcher_instance_schema(crd: dict[str, Any] | None = None) -> dict[str, Any]:
    crd = crd or load_crd()
    [version] = [v for v in crd["spec"]["versions"] if v.get("storage")]
    schema = openapi_to_jsonschema(version["schema"]["openAPIV3Schema"])
    group = crd["spec"]["group"]
    schema["properties"]["apiVersion"] = {"const": f"{group}/{version['name']}"}
    schema["properties"]["kind"] = {"const": crd["spec"]["names"]["kind"]}
    schema["properties"]["metadata"] = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "namespace": {"type": "string"},
            "labels": STRING_MAP,
            "annotations": STRING_MAP,
        },
    }
    schema["required"] = sorted({"apiVersion", "kind", "metadata", *schema.get("required", [])})
    return schema


SERVICE_MONITOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": f"{c.MONITORING_GROUP}/{c.MONITORING_VERSION}"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "namespace": {"type": "string"},
                "labels": STRING_MAP,
                "annotations": STRING_MAP,
            },
        },
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["selector"],
            "properties": {
                "jobLabel": {"type": "string"},
                "selector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"matchLabels": STRING_MAP},
                },
                "namespaceSelector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "any": {"type": "boolean"},
                        "matchNames": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "endpoints": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string"},
                            "scheme": {"type": "string", "enum": ["http", "https"]},
                            "interval": {"type": "string", "pattern": DURATION},
                            "scrapeTimeout": {"type": "string", "pattern": DURATION},
                            "honorLabels": {"type": "boolean"},
                        },
                    },
                },
            },
        },
    },
}


def custom_resource_errors(
    document: dict[str, Any], crd: dict[str, Any] | None = None
) -> list[str]:
    """Why ``document`` (a WatcherInstance or ServiceMonitor) would be refused; [] if valid."""
    kind = document.get("kind")
    if kind == "ServiceMonitor":
        schema = SERVICE_MONITOR_SCHEMA
    elif kind == c.KIND:
        schema = watcher_instance_schema(crd)
    else:
        return [f"no schema for kind {kind!r}"]
    validator = jsonschema.Draft7Validator(schema)
    errors = [
        f"{'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    ]
    if kind == c.KIND and isinstance(name := document.get("metadata", {}).get("name"), str):
        errors += instance_spec.check_name(name)
    return errors


def instance_values_schema(crd: dict[str, Any] | None = None) -> dict[str, Any]:
    """The values.schema.json item of ``instances``: name plus the CRD's spec, flattened."""
    spec = copy.deepcopy(watcher_instance_schema(crd)["properties"]["spec"])
    spec.pop("description", None)
    spec["description"] = "A WatcherInstance: its name, and its spec (see manifests/crd.yaml)."
    spec["properties"] = {
        "name": {
            "description": "The WatcherInstance's name (its children are watcher-<name>).",
            "type": "string",
            "pattern": c.INSTANCE_NAME_PATTERN,
            "maxLength": c.INSTANCE_NAME_MAX,
        },
        **spec["properties"],
    }
    spec["required"] = ["name", *spec.get("required", [])]
    return spec
