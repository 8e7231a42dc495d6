"""``python -m watcher_operator``: the kopf command line it builds, and the real thing running."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.operator.apiserver import ApiServer
from tests.operator.conftest import assert_calls_allowed_by_rbac
from tests.operator.helpers import DEPLOYMENTS, INSTANCES, create_instance, eventually
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_runs_against_a_kubeconfig(
    apiserver: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    """The entry point as deployed: Kopf's own login (from $KUBECONFIG), one namespace."""
    port = free_port()
    env = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "WATCHER_OPERATOR_NAMESPACES": "ns1",
        "WATCHER_OPERATOR_LIVENESS_PORT": str(port),
        "WATCHER_OPERATOR_LOG_LEVEL": "debug",
    }
    log = tmp_path / "operator.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "watcher_operator", env=env, stdout=output, stderr=output
        )
    try:
        create_instance(apiserver, "os-1", {"classDiv": "os-1"})
        create_instance(apiserver, "os-2", {"classDiv": "os-2"}, namespace="elsewhere")
        await eventually(
            lambda: apiserver.read_object(DEPLOYMENTS, "ns1", "watcher-os-1"),
            within=60,
            what=f"the Deployment; log: {log}",
        )
        url = f"http://127.0.0.1:{port}/healthz"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200
        await eventually(
            lambda: (
                (apiserver.read_object(INSTANCES, "ns1", "os-1").get("status") or {}).get("phase")
                == "Pending"
            )
        )
        # Outside its namespace, nothing is touched.
        assert "status" not in apiserver.read_object(INSTANCES, "elsewhere", "os-2")
        assert apiserver.list_objects(DEPLOYMENTS, "elsewhere") == []
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            code = await process.wait()
    assert code == 0, log.read_text()[-5000:]
    assert_calls_allowed_by_rbac(apiserver)
