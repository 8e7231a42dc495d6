"""Spec parsing: the defaults the CRD documents, and every refusal naming its field."""

from __future__ import annotations

from typing import Any

import pytest

from watcher_operator import spec

IMAGE = "ghcr.io/jcode-watcher/jcode-watcher:0.1.0"


def problems(raw: dict[str, Any]) -> str:
    with pytest.raises(spec.SpecError) as caught:
        spec.parse(raw, default_image=IMAGE)
    return str(caught.value)


def test_minimal_spec_gets_every_default() -> None:
    assert spec.parse({"classDiv": "os-1"}, default_image=IMAGE) == spec.InstanceSpec(
        class_div="os-1",
        image=IMAGE,
        paused=False,
        restart_at="",
        storage=spec.Storage(size="5Gi", storage_class_name="", retain_on_delete=True),
        resources=spec.DEFAULT_RESOURCES,
        service_monitor=spec.ServiceMonitor(enabled=True, interval="30s", labels={}),
        env=(),
    )


def test_what_the_crd_defaults_fill_in_means_the_same() -> None:
    """The API server's defaults (CRD) and the operator's, given explicitly, agree."""
    explicit = {
        "classDiv": "os-1",
        "image": "",
        "paused": False,
        "restartAt": "",
        "storage": {"size": "5Gi", "retainOnDelete": True},
        "resources": {},
        "serviceMonitor": {"enabled": True, "interval": "30s"},
    }
    assert spec.parse(explicit, default_image=IMAGE) == spec.parse(
        {"classDiv": "os-1"}, default_image=IMAGE
    )


def test_full_spec() -> None:
    raw = {
        "classDiv": "OS-2b",
        "image": "registry.example/w:1",
        "paused": True,
        "restartAt": "2026-03-02T09:00:00.5+09:00",
        "storage": {"size": "20Gi", "storageClassName": "fast", "retainOnDelete": False},
        "resources": {"requests": {"cpu": 1, "memory": "1Gi"}},
        "serviceMonitor": {"enabled": False, "interval": "1m30s", "labels": {"release": "p"}},
        "env": [{"name": "A", "value": "1"}, {"name": "B", "valueFrom": {"fieldRef": {}}}],
    }
    parsed = spec.parse(raw, default_image=IMAGE)
    assert parsed.class_div == "OS-2b"
    assert parsed.image == "registry.example/w:1"
    assert parsed.paused is True
    assert parsed.restart_at == "2026-03-02T09:00:00.5+09:00"
    assert parsed.storage == spec.Storage(
        size="20Gi", storage_class_name="fast", retain_on_delete=False
    )
    assert parsed.resources == {"requests": {"cpu": 1, "memory": "1Gi"}}
    assert parsed.service_monitor == spec.ServiceMonitor(
        enabled=False, interval="1m30s", labels={"release": "p"}
    )
    assert parsed.env == ({"name": "A", "value": "1"}, {"name": "B", "valueFrom": {"fieldRef": {}}})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, "spec.classDiv is required"),
        ({"classDiv": "os1"}, "spec.classDiv 'os1' must match"),
        ({"classDiv": "os-1-2"}, "spec.classDiv 'os-1-2' must match"),
        ({"classDiv": "os-" + "1" * 64}, "at most 63 characters"),
        ({"classDiv": "os-1", "image": "a b"}, "spec.image 'a b' is not an image reference"),
        ({"classDiv": "os-1", "paused": "yes"}, "spec.paused must be a bool"),
        ({"classDiv": "os-1", "restartAt": "2026-03-02"}, "spec.restartAt '2026-03-02' is not"),
        ({"classDiv": "os-1", "restartAt": "2026-13-02T00:00:00Z"}, "is not an RFC 3339"),
        ({"classDiv": "os-1", "storage": {"size": "5GB"}}, "spec.storage.size '5GB' is not"),
        ({"classDiv": "os-1", "storage": {"size": "0"}}, "is not a positive quantity"),
        ({"classDiv": "os-1", "storage": {"retainOnDelete": 1}}, "retainOnDelete must be a bool"),
        ({"classDiv": "os-1", "resources": {"claims": []}}, "spec.resources.claims is not"),
        ({"classDiv": "os-1", "resources": {"limits": {"cpu": "lots"}}}, "limits.cpu 'lots'"),
        ({"classDiv": "os-1", "serviceMonitor": {"interval": "30"}}, "interval '30' is not"),
        ({"classDiv": "os-1", "serviceMonitor": {"labels": {"a": "b c"}}}, "invalid label 'a'"),
        ({"classDiv": "os-1", "env": [{"value": "x"}]}, "spec.env[0].name must be"),
        ({"classDiv": "os-1", "env": [{"name": "WATCHER_DB_PATH", "value": "/x"}]}, "set by"),
        ({"classDiv": "os-1", "env": [{"name": "A"}, {"name": "A"}]}, "A is listed twice"),
        ({"classDiv": "os-1", "env": [{"name": "A", "value": 1}]}, "value must be a string"),
        ({"classDiv": "os-1", "env": [{"name": "A", "valueFrom": {}}]}, "exactly one of"),
        ({"classDiv": "os-1", "env": [{"name": "A", "valueFrom": {"x": {}}}]}, "exactly one of"),
        ({"classDiv": "os-1", "env": [{"name": "A", "extra": 1}]}, "unknown fields ['extra']"),
        ({"classDiv": "os-1", "env": [{"name": "A" * 257}]}, "spec.env[0].name must be"),
        (
            {"classDiv": "os-1", "env": [{"name": f"V{i}", "value": ""} for i in range(65)]},
            "spec.env has 65 entries; at most 64",
        ),
        (
            {"classDiv": "os-1", "env": [{"name": "WATCHER_SNAPSHOT_DIR", "value": "/x"}]},
            "WATCHER_SNAPSHOT_DIR is set by the operator from spec.snapshots",
        ),
        ({"classDiv": "os-1", "snapshots": "pvc"}, "spec.snapshots must be a dict"),
        ({"classDiv": "os-1", "snapshots": {}}, "spec.snapshots.claimName is required"),
        (
            {"classDiv": "os-1", "snapshots": {"subPath": "os-1"}},
            "spec.snapshots.claimName is required",
        ),
        ({"classDiv": "os-1", "snapshots": {"claimName": "Filemon"}}, "claimName 'Filemon' must"),
        ({"classDiv": "os-1", "snapshots": {"claimName": "a_b"}}, "DNS-1123 subdomain"),
        ({"classDiv": "os-1", "snapshots": {"claimName": "a" * 254}}, "at most 253 characters"),
        ({"classDiv": "os-1", "snapshots": {"claimName": 7}}, "claimName 7 must be"),
        (
            {"classDiv": "os-1", "snapshots": {"claimName": "pvc", "subPath": "/os-1"}},
            "spec.snapshots.subPath '/os-1' must be a relative path",
        ),
        (
            {"classDiv": "os-1", "snapshots": {"claimName": "pvc", "subPath": "../other"}},
            "subPath '../other' must be",
        ),
        (
            {"classDiv": "os-1", "snapshots": {"claimName": "pvc", "subPath": "a/../../b"}},
            "subPath 'a/../../b' must be",
        ),
        (
            {"classDiv": "os-1", "snapshots": {"claimName": "pvc", "subPath": ["os-1"]}},
            "subPath ['os-1'] must be",
        ),
        (
            {"classDiv": "os-1", "snapshots": {"claimName": "pvc", "claim": "x"}},
            "spec.snapshots has unknown fields ['claim']",
        ),
    ],
)
def test_refusals_name_the_field(raw: dict[str, Any], expected: str) -> None:
    assert expected in problems(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"claimName": "watcher-filemon-pvc"}, spec.Snapshots(claim_name="watcher-filemon-pvc")),
        (
            {"claimName": "filemon.snapshots", "subPath": "watcher/snapshots"},
            spec.Snapshots(claim_name="filemon.snapshots", sub_path="watcher/snapshots"),
        ),
        ({"claimName": "a" * 253, "subPath": ""}, spec.Snapshots(claim_name="a" * 253)),
        ({"claimName": "pvc", "subPath": None}, spec.Snapshots(claim_name="pvc")),
    ],
)
def test_snapshots(raw: dict[str, Any], expected: spec.Snapshots) -> None:
    parsed = spec.parse({"classDiv": "os-1", "snapshots": raw}, default_image=IMAGE)
    assert parsed.snapshots == expected
    assert spec.parse({"classDiv": "os-1"}, default_image=IMAGE).snapshots is None


@pytest.mark.parametrize(
    ("sub_path", "ok"),
    [
        ("os-1", True),
        ("a/b/c", True),
        (".hidden/x", True),
        ("..x/y", True),  # a name that starts with two dots is not a parent reference
        ("a/.", True),
        ("한글/스냅샷", True),
        ("/os-1", False),
        ("/", False),
        ("..", False),
        ("../os-1", False),
        ("a/..", False),
        ("a/../b", False),
        ("a//b", False),
        ("a/", False),
    ],
)
def test_sub_path_must_stay_inside_the_volume(sub_path: str, ok: bool) -> None:
    raw = {"classDiv": "os-1", "snapshots": {"claimName": "pvc", "subPath": sub_path}}
    if ok:
        assert spec.parse(raw, default_image=IMAGE).snapshots.sub_path == sub_path
    else:
        assert "spec.snapshots.subPath" in problems(raw)


def test_every_problem_is_reported_at_once() -> None:
    error = problems({"classDiv": "x", "restartAt": "now", "storage": {"size": "-1Gi"}})
    assert error.count(";") == 2
    assert all(field in error for field in ("classDiv", "restartAt", "storage.size"))


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("os-1", True),
        ("a", True),
        ("a" * 55, True),
        ("a" * 56, False),
        ("1os", False),
        ("os.1", False),
        ("OS-1", False),
        ("os-", False),
    ],
)
def test_instance_names_must_make_valid_child_names(name: str, ok: bool) -> None:
    assert (spec.check_name(name) == []) is ok


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        ("5Gi", 5 * 2**30),
        ("500m", 0.5),
        (2, 2),
        ("1e3", 1000),
        ("5GB", None),
        ("", None),
        (True, None),
        (None, None),
    ],
)
def test_quantity(value: Any, amount: float | None) -> None:
    parsed = spec.quantity(value)
    assert (None if parsed is None else float(parsed)) == amount
