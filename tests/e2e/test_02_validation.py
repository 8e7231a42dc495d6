"""Invalid WatcherInstances are refused by the API server itself, with the CRD's own messages.

kubectl sends each object as is (server-side field validation, --validate=strict); nothing is
checked on the client. Each test quotes what the API server answered.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import NAMESPACE, Release
from tests.operator.test_manifests import SPEC_SCHEMA, with_defaults
from watcher_operator.spec import parse


def instance(name: str, spec: dict[str, Any]) -> str:
    return json.dumps(
        {
            "apiVersion": "watcher.jcode.io/v1alpha1",
            "kind": "WatcherInstance",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": spec,
        }
    )


def refused(release: Release, name: str, spec: dict[str, Any]) -> str:
    """Apply an instance that must be refused; the API server's answer."""
    result = release.cluster.kubectl(
        "apply", "--validate=strict", "-f", "-", input=instance(name, spec), check=False
    )
    assert result.returncode != 0, f"accepted: {result.stdout}"
    absent = release.cluster.kubectl("get", "wi", name, "-n", NAMESPACE, check=False)
    assert absent.returncode != 0, "the refused instance was stored"
    print(f"\n{name}: {result.stderr.strip()}")
    return result.stderr


@pytest.mark.parametrize(
    ("name", "spec", "expected"),
    [
        (
            "bad-class",
            {"classDiv": "os1"},
            'spec.classDiv: Invalid value: "os1": spec.classDiv in body should match '
            "'^[A-Za-z0-9]+-[A-Za-z0-9]+$'",
        ),
        (
            "bad-field",
            {"classDiv": "os-1", "colour": "red"},
            'unknown field "spec.colour"',
        ),
        (
            "bad-restart",
            {"classDiv": "os-1", "restartAt": "tomorrow"},
            'spec.restartAt: Invalid value: "tomorrow"',
        ),
        (
            "bad-env",
            {"classDiv": "os-1", "env": [{"name": "WATCHER_DB_PATH", "value": "/tmp/x.db"}]},
            "spec.env: Invalid value: WATCHER_DB_PATH, WATCHER_HOST, WATCHER_PORT and "
            "WATCHER_SNAPSHOT_DIR (from snapshots) are set by the operator",
        ),
        (
            "x" * 56,
            {"classDiv": "os-1"},
            "metadata.name: Invalid value: the name must be a DNS-1035 label of at most 55 "
            "characters (the children are named watcher-<name>)",
        ),
        (
            "1st-class",
            {"classDiv": "os-1"},
            "metadata.name: Invalid value: the name must be a DNS-1035 label",
        ),
        (
            "backend-service",
            {"classDiv": "os-1"},
            "metadata.name: Invalid value: backend-service, gateway and operator are reserved: "
            "the children would take the "
            "names of the installation's own objects (watcher-backend-service, the gateway's "
            "Service; watcher-gateway and watcher-operator)",
        ),
    ],
)
def test_invalid_specs_are_refused_by_the_api_server(
    release: Release, name: str, spec: dict[str, Any], expected: str
) -> None:
    assert expected in refused(release, name, spec)


def test_class_div_cannot_change(release: Release) -> None:
    cluster = release.cluster
    cluster.kubectl("apply", "-f", "-", input=instance("fixed-class", {"classDiv": "cs-1"}))
    try:
        result = cluster.kubectl(
            "patch", "wi", "fixed-class", "-n", NAMESPACE, "--type=merge",
            "-p", '{"spec": {"classDiv": "cs-2"}}', check=False,
        )  # fmt: skip
        assert result.returncode != 0
        print(f"\nclassDiv change: {result.stderr.strip()}")
        assert (
            'spec.classDiv: Invalid value: "cs-2": classDiv cannot change: the volume holds '
            "that class's data; create another WatcherInstance instead" in result.stderr
        )
        stored = cluster.get("wi", "fixed-class", "-n", NAMESPACE)
        assert stored["spec"]["classDiv"] == "cs-1"
    finally:
        cluster.kubectl("delete", "wi", "fixed-class", "-n", NAMESPACE, "--wait=true")


def test_defaults_are_filled_in_by_the_api_server(release: Release) -> None:
    """What the operator reads has the CRD's defaults: the same as the offline schema walk of
    tests/operator gives, and meaning to the operator what the bare spec means."""
    out = release.cluster.kubectl(
        "create", "--dry-run=server", "-o", "json", "-f", "-",
        input=instance("defaults", {"classDiv": "cs-3"}),
    )  # fmt: skip
    served = json.loads(out.stdout)["spec"]
    assert served == with_defaults(SPEC_SCHEMA, {"classDiv": "cs-3"})
    assert served["storage"] == {"size": "5Gi", "retainOnDelete": True}
    image = "ghcr.io/jcode-watcher/jcode-watcher:0.1.0"
    assert parse(served, default_image=image) == parse({"classDiv": "cs-3"}, default_image=image)
