"""The real Kopf runtime and client against the emulated API server, for what a real API server
cannot be made to do (tests/e2e runs everything else against a real control plane):

- store a spec its CRD refuses (an older CRD, a cluster without CEL): the operator's own checks;
- fail a request on cue: API errors are reported once, counted, and retried;
- and, without Kopf, what the namespace handler does with a namespace being deleted.
"""

from __future__ import annotations

import asyncio
import json
import logging

import kmock
import kopf
import kubernetes.client

from tests.operator.apiserver import ApiServer
from tests.operator.helpers import (
    CLAIMS,
    CONFIG_MAPS,
    DEPLOYMENTS,
    INSTANCES,
    SERVICES,
    client_reads,
    condition,
    create_instance,
    events_for,
    eventually,
    instance_status,
)
from watcher_operator import apply, publish, routes
from watcher_operator import conventions as c

DEPLOYMENT_PATH = "/apis/apps/v1/namespaces/ns1/deployments/watcher-os-1"


def children(api: ApiServer, name: str = "os-1", namespace: str = "ns1") -> dict[str, dict | None]:
    return {
        "Deployment": api.read_object(DEPLOYMENTS, namespace, c.child_name(name)),
        "Service": api.read_object(SERVICES, namespace, c.child_name(name)),
        "PersistentVolumeClaim": api.read_object(CLAIMS, namespace, c.data_claim_name(name)),
    }


async def passes_after(api: ApiServer, n: int, path: str) -> None:
    """Wait until the operator has reconciled ``n`` more times (it reads ``path`` each pass)."""
    start = client_reads(api, path)
    await eventually(lambda: client_reads(api, path) >= start + n, what=f"{n} more passes")


def degraded(api: ApiServer, name: str, reason: str) -> bool:
    status = instance_status(api, name)
    cond = condition(status, "Degraded")
    return status.get("phase") == "Degraded" and cond.get("reason") == reason


def api_errors(code: str) -> float:
    # Imported here: the handlers read their settings at import, which the operator fixture's
    # environment must come first for (Kopf imports the module when it starts).
    from watcher_operator import handlers

    value = handlers.METRICS.registry.get_sample_value(
        "watcher_operator_api_errors_total", {"code": code}
    )
    return value or 0.0


async def test_invalid_spec_is_degraded_and_nothing_is_created(
    apiserver: ApiServer, operator: object
) -> None:
    create_instance(apiserver, "bad-1", {"classDiv": "os_1", "restartAt": "yesterday"})
    await eventually(lambda: degraded(apiserver, "bad-1", "InvalidSpec"))
    status = instance_status(apiserver, "bad-1")
    message = condition(status, "Degraded")["message"]
    assert "spec.classDiv 'os_1'" in message and "spec.restartAt 'yesterday'" in message
    assert condition(status, "Ready")["status"] == "False"
    assert all(obj is None for obj in children(apiserver, "bad-1").values())
    await eventually(lambda: events_for(apiserver, "bad-1"))
    assert [(t, r) for t, r, _ in events_for(apiserver, "bad-1")] == [("Warning", "Refused")]

    # Fixed, it is applied.
    apiserver.patch_object(
        INSTANCES, "ns1", "bad-1", {"spec": {"classDiv": "os-1", "restartAt": ""}}
    )
    await eventually(lambda: all(children(apiserver, "bad-1").values()), what="the children")


async def test_api_errors_are_reported_once_counted_and_retried(
    apiserver: ApiServer, operator: object
) -> None:
    failing = True
    counted = api_errors("403")

    def forbidden() -> object:
        # Until the test lifts it, creating the Service is forbidden (as if RBAC lacked it);
        # NotImplemented then retires this reaction and the emulator serves the request.
        if failing:
            return kmock.KubernetesError(403, "Forbidden", 'services "watcher-os-1" is forbidden')
        return NotImplemented

    apiserver["post /api/v1/namespaces/ns1/services"] << forbidden
    create_instance(apiserver, "os-1", {"classDiv": "os-1"})
    failure = ("Warning", "ApplyFailed", "API request failed: 403 Forbidden")
    await eventually(lambda: failure in events_for(apiserver, "os-1"), what="ApplyFailed")
    await passes_after(apiserver, 3, DEPLOYMENT_PATH)  # retried...
    assert events_for(apiserver, "os-1").count(failure) == 1  # ...but said once
    assert api_errors("403") >= counted + 3  # ...and counted each time
    assert apiserver.read_object(SERVICES, "ns1", "watcher-os-1") is None
    status = instance_status(apiserver, "os-1")
    assert status["phase"] == "Degraded"
    assert condition(status, "Degraded")["reason"] == "ApplyFailed"
    assert condition(status, "Ready")["status"] == "False"

    failing = False
    await eventually(lambda: apiserver.read_object(SERVICES, "ns1", "watcher-os-1"))
    await eventually(lambda: instance_status(apiserver, "os-1").get("phase") == "Pending")


async def test_a_namespace_being_deleted_is_released_then_served_again(
    apiserver: ApiServer,
) -> None:
    """handlers.namespace_changed (a served namespace being deleted): its reconcilers are told
    to stop, its instances lose the operator's finalizer, and once none is left a namespace of
    that name created again is served again."""
    from watcher_operator import handlers  # after the settings, as in api_errors

    configuration = kubernetes.client.Configuration(host=str(apiserver.url).rstrip("/"))
    memo = kopf.Memo(
        api=apply.Api(kubernetes.client.ApiClient(configuration), timeout=10),
        wakeups={("ns1", "os-1"): asyncio.Event(), ("elsewhere", "x"): asyncio.Event()},
        terminating=set(),
        releasing={},
    )
    create_instance(apiserver, "os-1", {"classDiv": "os-1"})
    finalizers = {"metadata": {"finalizers": [c.FINALIZER]}}
    apiserver.patch_object(INSTANCES, "ns1", "os-1", finalizers)
    apiserver.delete_object(INSTANCES, "ns1", "os-1")  # held by the finalizer
    await handlers.namespace_changed(name="ns1", memo=memo, logger=logging.getLogger("test"))
    assert memo.terminating == {"ns1"}
    assert memo.wakeups["ns1", "os-1"].is_set() and not memo.wakeups["elsewhere", "x"].is_set()
    await asyncio.wait_for(memo.releasing["ns1"], timeout=10)
    assert apiserver.read_object(INSTANCES, "ns1", "os-1") is None
    assert memo.terminating == set() and memo.releasing == {}


async def test_instances_deleted_together_leave_no_route_behind(apiserver: ApiServer) -> None:
    """publish.withdraw_route, as each deleted instance's reconciler runs it when it stops: from
    the instances as listed then, so the last one to go leaves an empty table even when the
    others' deletion is not indexed yet (found by tests/e2e: a class stayed routed)."""
    configuration = kubernetes.client.Configuration(host=str(apiserver.url).rstrip("/"))
    api = apply.Api(kubernetes.client.ApiClient(configuration), timeout=10)
    urls = {name: f"http://watcher-{name}.ns1.svc:3000" for name in ("os-1", "ds-2")}
    for name, url in urls.items():
        create_instance(apiserver, name, {"classDiv": name})
        apiserver.patch_object(INSTANCES, "ns1", name, {"metadata": {"finalizers": ["x/y"]}})
        status = {"status": {"phase": "Ready", "serviceURL": url}}
        apiserver.patch_object(INSTANCES, "ns1", name, status, subresource="status")
    table = routes.config_map("ns1", {"ds-2": urls["ds-2"], "os-1": urls["os-1"]})
    await asyncio.to_thread(api.ensure, table, conflict=publish.conflict)

    def routed() -> dict[str, str]:
        found = apiserver.read_object(CONFIG_MAPS, "ns1", routes.CONFIG_MAP)
        return json.loads(found["data"][routes.KEY])

    apiserver.delete_object(INSTANCES, "ns1", "os-1")
    await asyncio.to_thread(publish.withdraw_route, api, "ns1", "os-1")
    assert routed() == {"ds-2": urls["ds-2"]}  # ds-2 still serves
    # ds-2 is deleted too; whichever of the two writes last, nothing is left.
    apiserver.delete_object(INSTANCES, "ns1", "ds-2")
    await asyncio.to_thread(publish.withdraw_route, api, "ns1", "os-1")
    assert routed() == {}
    await asyncio.to_thread(publish.withdraw_route, api, "ns1", "ds-2")
    assert routed() == {}
