"""Operator settings from the environment."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.markdown import same_default, settings_table
from watcher_operator.config import DEFAULT_IMAGE, DEFAULT_RESERVED_NAMES, ConfigError, Settings


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings == Settings(
        default_image=DEFAULT_IMAGE,
        namespaces=(),
        repair_interval=60.0,
        watch_timeout=120,
        request_timeout=30.0,
        peering="",
        priority=0,
        liveness_port=8080,
        metrics_port=9090,
        allowed_images=(),
        reserved_names=DEFAULT_RESERVED_NAMES,
        log_level="info",
        log_format="full",
    )
    assert settings.clusterwide
    assert DEFAULT_IMAGE == "ghcr.io/jcode-watcher/jcode-watcher:0.1.0"
    # The plain manifests' own objects (manifests/operator.yaml and gateway.yaml).
    assert DEFAULT_RESERVED_NAMES == (
        "watcher-backend-service",
        "watcher-gateway",
        "watcher-operator",
    )


def test_every_setting() -> None:
    settings = Settings.from_env(
        {
            "WATCHER_OPERATOR_DEFAULT_IMAGE": "registry.example/w:2",
            "WATCHER_OPERATOR_NAMESPACES": " b , a,b,, ",
            "WATCHER_OPERATOR_REPAIR_INTERVAL": "1.5",
            "WATCHER_OPERATOR_WATCH_TIMEOUT": "30",
            "WATCHER_OPERATOR_REQUEST_TIMEOUT": "5",
            "WATCHER_OPERATOR_PEERING": "watchers",
            "WATCHER_OPERATOR_PRIORITY": "-5",
            "WATCHER_OPERATOR_LIVENESS_PORT": "0",
            "WATCHER_OPERATOR_METRICS_PORT": "9102",
            "WATCHER_OPERATOR_ALLOWED_IMAGES": " mirror.example/w , busybox:1,mirror.example/w",
            "WATCHER_OPERATOR_RESERVED_NAMES": "b-svc,a-op",
            "WATCHER_OPERATOR_LOG_LEVEL": "DEBUG",
            "WATCHER_OPERATOR_LOG_FORMAT": "json",
            "UNRELATED": "ignored",
        }
    )
    assert settings == Settings(
        default_image="registry.example/w:2",
        namespaces=("a", "b"),
        repair_interval=1.5,
        watch_timeout=30,
        request_timeout=5.0,
        peering="watchers",
        priority=-5,
        liveness_port=0,
        metrics_port=9102,
        allowed_images=("mirror.example/w", "busybox:1"),
        reserved_names=("a-op", "b-svc"),
        log_level="debug",
        log_format="json",
    )
    assert not settings.clusterwide


def test_empty_values_mean_the_default() -> None:
    blank = {"WATCHER_OPERATOR_NAMESPACES": "", "WATCHER_OPERATOR_PEERING": " "}
    assert Settings.from_env(blank) == Settings()


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(
            {
                "WATCHER_OPERATOR_DEFAULT_IMAGE": "two words",
                "WATCHER_OPERATOR_NAMESPACES": "ok,Not_OK",
                "WATCHER_OPERATOR_REPAIR_INTERVAL": "0",
                "WATCHER_OPERATOR_WATCH_TIMEOUT": "1.5",
                "WATCHER_OPERATOR_REQUEST_TIMEOUT": "fast",
                "WATCHER_OPERATOR_PEERING": "Bad Name",
                "WATCHER_OPERATOR_LIVENESS_PORT": "70000",
                "WATCHER_OPERATOR_METRICS_PORT": "-1",
                "WATCHER_OPERATOR_PRIORITY": "high",
                "WATCHER_OPERATOR_ALLOWED_IMAGES": "ok:1,two words",
                "WATCHER_OPERATOR_RESERVED_NAMES": "ok,Not_OK",
                "WATCHER_OPERATOR_LOG_LEVEL": "trace",
                "WATCHER_OPERATOR_LOG_FORMAT": "xml",
            }
        )
    message = str(caught.value)
    for fragment in (
        "DEFAULT_IMAGE='two words' is not an image reference",
        "NAMESPACES has invalid namespace names: ['Not_OK']",
        "REPAIR_INTERVAL='0' must be at least 0.1",
        "WATCH_TIMEOUT='1.5' is not a number",
        "REQUEST_TIMEOUT='fast' is not a number",
        "PEERING='Bad Name' is not a valid object name",
        "LIVENESS_PORT must be at most 65535",
        "METRICS_PORT='-1' must be at least 0",
        "PRIORITY='high' is not a number",
        "ALLOWED_IMAGES has invalid entries: ['two words']",
        "RESERVED_NAMES has invalid names: ['Not_OK']",
        "LOG_LEVEL='trace' is not one of",
        "LOG_FORMAT='xml' is not one of",
    ):
        assert fragment in message


def test_every_setting_is_documented_with_its_default() -> None:
    readme = (Path(__file__).resolve().parents[2] / "operator" / "README.md").read_text()
    table = settings_table(readme, "WATCHER_OPERATOR_")
    fields = {
        f"WATCHER_OPERATOR_{field.name.upper()}": field for field in dataclasses.fields(Settings)
    }
    assert set(table) == set(fields), "operator/README.md's settings table differs from Settings"
    for name, (documented, _meaning) in table.items():
        default = fields[name].default
        if documented.startswith("("):  # "(all)", "(standalone)": a description of the empty value
            assert not default, (name, documented, default)
        else:
            shown = ",".join(default) if isinstance(default, tuple) else str(default)
            assert same_default(documented, shown), (name, documented, default)
