"""``python -m watcher_operator``: the kopf command line it builds from the settings."""

from __future__ import annotations

import pytest

from watcher_operator.__main__ import kopf_args, main
from watcher_operator.config import Settings


def test_defaults_run_standalone_cluster_wide_with_liveness() -> None:
    assert kopf_args(Settings()) == [
        "run",
        "--module",
        "watcher_operator.handlers",
        "--standalone",
        "--all-namespaces",
        "--liveness=http://0.0.0.0:8080/healthz",
        "--log-format=full",
    ]


def test_namespaces_peering_logging_and_no_liveness() -> None:
    settings = Settings(
        namespaces=("a", "b"),
        peering="watchers",
        priority=10,
        liveness_port=0,
        log_level="debug",
        log_format="json",
    )
    assert kopf_args(settings) == [
        "run",
        "--module",
        "watcher_operator.handlers",
        "--peering",
        "watchers",
        "--priority=10",
        "--namespace=a",
        "--namespace=b",
        "--log-format=json",
        "--debug",
    ]
    assert kopf_args(Settings(log_level="warning"))[-1] == "--quiet"


def test_bad_settings_fail_fast_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WATCHER_OPERATOR_REPAIR_INTERVAL", "soon")
    assert main([]) == 2
    assert "WATCHER_OPERATOR_REPAIR_INTERVAL='soon' is not a number" in capsys.readouterr().err


def test_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--namespace", "x"]) == 2
    assert "settings come from WATCHER_OPERATOR_*" in capsys.readouterr().err
