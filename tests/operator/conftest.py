"""Fixtures of the operator tests: the emulated API server, a kubeconfig, the running operator.

The operator runs for real: Kopf's own runtime (``kopf.testing.KopfRunner``, i.e. ``kopf run``
in a thread, with the arguments ``python -m watcher_operator`` builds) and the official client,
both talking HTTP to the emulator on 127.0.0.1. Tests observe the emulator's state.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import kmock
import kopf
import pytest
from kopf.testing import KopfRunner

from tests.operator.apiserver import CRDS, NAMESPACES, ApiServer
from tests.operator.helpers import CRD_PATH, load_yaml
from watcher_operator import rbac
from watcher_operator.__main__ import kopf_args
from watcher_operator.config import Settings

# The operator under test reads these when Kopf imports watcher_operator.handlers (in the first
# test that starts it): repair every second, and end every watch after 2 seconds, so resuming
# watches from a resourceVersion is exercised all the time.
TEST_SETTINGS = {
    "WATCHER_OPERATOR_REPAIR_INTERVAL": "1",
    "WATCHER_OPERATOR_WATCH_TIMEOUT": "2",
    "WATCHER_OPERATOR_REQUEST_TIMEOUT": "10",
    "WATCHER_OPERATOR_LIVENESS_PORT": "0",
    "WATCHER_OPERATOR_METRICS_PORT": "0",
    "WATCHER_OPERATOR_NAMESPACES": "",
}

# Where the Kopf login below points: the emulator of the test being run.
_server_url: list[str] = []


@kopf.on.login()
def login_to_emulator(**_: object) -> kopf.ConnectionInfo:
    return kopf.ConnectionInfo(server=_server_url[-1])


@pytest.fixture(scope="session", autouse=True)
def operator_settings() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in TEST_SETTINGS.items():
            patch.setenv(name, value)
        yield


@pytest.fixture
async def apiserver() -> AsyncIterator[ApiServer]:
    """A fresh emulated cluster with the WatcherInstance CRD installed."""
    async with ApiServer() as api, kmock.Server(api):
        api.create_object(CRDS, None, load_yaml(CRD_PATH))
        for namespace in ("ns1", "elsewhere"):
            api.create_object(NAMESPACES, None, {"metadata": {"name": namespace}})
        yield api


@pytest.fixture
def kubeconfig(apiserver: ApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A kubeconfig pointing at the emulator, as $KUBECONFIG (the operator's client reads it)."""
    url = str(apiserver.url).rstrip("/")
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\n"
        "kind: Config\n"
        f'clusters: [{{name: emulator, cluster: {{server: "{url}"}}}}]\n'
        "users: [{name: admin, user: {token: not-checked}}]\n"
        "contexts: [{name: emulator, context: {cluster: emulator, user: admin, namespace: ns1}}]\n"
        "current-context: emulator\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


@pytest.fixture
async def operator(apiserver: ApiServer, kubeconfig: Path) -> AsyncIterator[KopfRunner]:
    """The operator, running until the test ends; then every API call it made is checked."""
    _server_url.append(str(apiserver.url).rstrip("/"))
    runner = KopfRunner([*kopf_args(Settings.from_env()), "--verbose"], timeout=30)
    # Entering and leaving block on the operator's thread, while the emulator it talks to
    # runs on this event loop: never block the loop on them.
    await asyncio.to_thread(runner.__enter__)
    try:
        yield runner
    finally:
        await asyncio.to_thread(runner.__exit__, None, None, None)
        _server_url.pop()
    assert runner.exit_code == 0, runner.output
    assert_calls_allowed_by_rbac(apiserver)


def operator_calls(api: ApiServer) -> list[tuple[str, str, str]]:
    """(apiGroup, resource[/subresource], verb) of every request Kopf and the client made."""
    calls = []
    for request in list(api):
        agent = request.headers.get("User-Agent", "")
        if not agent.startswith(("kopf/", "OpenAPI-Generator/")):
            continue  # the test's own requests (KMock's client, kubectl)
        res = request.resource
        if res is None or not res.plural:
            continue  # discovery: /api, /apis, /apis/<group>/<version>
        resource = f"{res.plural}/{request.subresource}" if request.subresource else res.plural
        verb = {
            "POST": "create",
            "PATCH": "patch",
            "PUT": "update",
            "DELETE": "delete" if request.name else "deletecollection",
        }.get(request.method.value)
        if verb is None:
            watching = request.params.get("watch") in ("true", "1")
            verb = "watch" if watching else "get" if request.name else "list"
        calls.append((res.group or "", resource, verb))
    return calls


def assert_calls_allowed_by_rbac(api: ApiServer) -> None:
    calls = operator_calls(api)
    assert calls, "the operator made no API calls at all"
    denied = sorted({call for call in calls if not rbac.allows(*call)})
    assert not denied, f"API calls not granted by watcher_operator/rbac.py: {denied}"
