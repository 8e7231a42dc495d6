"""A reconciler's passes (passes.py) without Kopf, against the emulator through the real client:
what each pass writes (children, status, routing table), the events it returns for the handler to
post, and a failed pass (marked in status, said once, retried sooner)."""

from __future__ import annotations

import json
import logging

import kmock
import kubernetes.client
import pytest
import urllib3

from tests.operator.apiserver import ApiServer
from tests.operator.helpers import (
    CONFIG_MAPS,
    INSTANCES,
    SERVICES,
    condition,
    create_instance,
    instance_status,
)
from watcher_operator import apply, passes, routes
from watcher_operator.config import Settings
from watcher_operator.policy import Policy
from watcher_operator.reconcile import Event

URL = "http://watcher-os-1.ns1.svc:3000"
SETTINGS = Settings(repair_interval=30.0)


@pytest.fixture
def api(apiserver: ApiServer) -> apply.Api:
    configuration = kubernetes.client.Configuration(host=str(apiserver.url).rstrip("/"))
    return apply.Api(kubernetes.client.ApiClient(configuration), timeout=10)


def reconciler(api: apply.Api) -> passes.Reconciler:
    return passes.Reconciler(
        api,
        "ns1",
        "os-1",
        current=None,
        settings=SETTINGS,
        policy=Policy(),
        logger=logging.getLogger("test"),
    )


async def run(instance: passes.Reconciler, apiserver: ApiServer) -> passes.PassResult:
    body = apiserver.read_object(INSTANCES, "ns1", "os-1")
    others = [routes.Route("ds-2", "http://watcher-ds-2.ns1.svc:3000")]
    return await instance.run(body, class_owner="os-1", others=lambda: others)


def routed(apiserver: ApiServer) -> dict[str, str]:
    found = apiserver.read_object(CONFIG_MAPS, "ns1", routes.CONFIG_MAP)
    return json.loads(found["data"][routes.KEY]) if found else {}


async def test_a_pass_applies_writes_status_and_routes_the_class_once(
    apiserver: ApiServer, api: apply.Api
) -> None:
    create_instance(apiserver, "os-1", {"classDiv": "os-1"})
    instance = reconciler(api)
    first = await run(instance, apiserver)
    assert (first.result, first.delay, first.phase, first.api_error) == (
        "applied",
        SETTINGS.repair_interval,
        "Pending",
        None,
    )
    assert [event.reason for event in first.events] == ["Created"] * 3 + ["Routed"]
    assert first.events[-1] == Event(
        "Normal", "Routed", f"ConfigMap watcher-routes sends class os-1 to {URL}"
    )
    assert instance_status(apiserver, "os-1")["phase"] == "Pending"
    assert instance.current == instance_status(apiserver, "os-1")
    # The other instances' routes as given, and this one's own from the status just written.
    assert routed(apiserver) == {"ds-2": "http://watcher-ds-2.ns1.svc:3000", "os-1": URL}

    second = await run(instance, apiserver)
    assert (second.result, second.events) == ("applied", [])


async def test_a_refused_spec_is_not_routed(apiserver: ApiServer, api: apply.Api) -> None:
    create_instance(apiserver, "os-1", {"classDiv": "os-1", "image": "miner/xmr:1"})
    done = await run(reconciler(api), apiserver)
    assert (done.result, done.phase) == ("refused", "Degraded")
    assert [(e.type, e.reason) for e in done.events] == [("Warning", "Refused")]
    assert "os-1" not in routed(apiserver)


async def test_a_failed_pass_is_marked_said_once_and_retried_sooner(
    apiserver: ApiServer, api: apply.Api
) -> None:
    failing = True

    def unavailable() -> object:
        if failing:
            return kmock.KubernetesError(503, "ServiceUnavailable", "try later")
        return NotImplemented

    apiserver["post /api/v1/namespaces/ns1/services"] << unavailable
    create_instance(apiserver, "os-1", {"classDiv": "os-1"})
    instance = reconciler(api)
    first = await run(instance, apiserver)
    assert (first.result, first.api_error, first.delay) == ("failed", "503", passes.RETRY_DELAY)
    warning = Event("Warning", "ApplyFailed", "API request failed: 503 Service Unavailable")
    assert first.events[-1] == warning  # after what the pass did before the failure
    status = instance_status(apiserver, "os-1")
    assert status["phase"] == first.phase == "Degraded"
    assert condition(status, "Degraded")["reason"] == "ApplyFailed"

    again = await run(instance, apiserver)
    assert again.result == "failed" and warning not in again.events  # said once

    failing = False
    recovered = await run(instance, apiserver)
    assert recovered.result == "applied"
    assert apiserver.read_object(SERVICES, "ns1", "watcher-os-1") is not None
    assert condition(instance_status(apiserver, "os-1"), "Degraded")["status"] == "False"


@pytest.mark.parametrize(
    ("exc", "reason", "api_error"),
    [
        (kubernetes.client.ApiException(status=403, reason="Forbidden"), "ApplyFailed", "403"),
        (apply.Conflict("Service watcher-os-1 is someone else's"), "NameConflict", None),
        (ConnectionRefusedError("refused"), "ApplyFailed", "none"),
        (urllib3.exceptions.ReadTimeoutError(None, "/", "timed out"), "ApplyFailed", "none"),
        (KeyError("spec"), "ApplyFailed", None),
    ],
)
def test_failures_are_told_apart(exc: Exception, reason: str, api_error: str | None) -> None:
    failure = passes.failure_of(exc)
    assert (failure.reason, failure.api_error) == (reason, api_error)
    assert failure.message
