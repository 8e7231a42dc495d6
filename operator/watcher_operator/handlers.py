"""Kopf handlers: thin wiring from events to reconcile.py.

Run with ``python -m watcher_operator`` (see __main__.py), which runs ``kopf run`` on this module.

Each WatcherInstance has one reconciler (a Kopf daemon) that does all the work for it, one pass at
a time: apply the children, then write status. It is woken by a spec change, by any change of the
instance's Deployment (its readiness, an edit, its deletion), and otherwise runs every
repair_interval seconds, which repairs drift in children nobody watches (a deleted Service).
One writer per instance means a status can never be overwritten by an older one.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from collections.abc import Mapping
from typing import Any

import kopf
import urllib3
from kubernetes.client.exceptions import ApiException

from watcher_operator import apply, metrics, ownership, reconcile, routes, status
from watcher_operator import conventions as c
from watcher_operator.config import Settings
from watcher_operator.policy import Policy

# Read at import: Kopf imports this module after its own command line is parsed.
SETTINGS = Settings.from_env()
POLICY = Policy(
    allowed_images=SETTINGS.allowed_images, reserved_names=frozenset(SETTINGS.reserved_names)
)
METRICS = metrics.Metrics()
# How soon a pass that failed on an API error is retried (seconds).
RETRY_DELAY = 10.0
# How often a deleted instance recomputes the routing table when others write it meanwhile.
WITHDRAW_ATTEMPTS = 10
# How often the instances of a namespace being deleted are looked at (seconds).
FINALIZER_POLL = 1.0
# How long a stopping reconciler may take to finish its pass before Kopf re-checks later.
INSTANT_EXIT_TIMEOUT = 5.0

Key = tuple[str, str]


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    # Kopf's bookkeeping on WatcherInstances lives in annotations under our group: status is
    # ours and structural (the API server would prune status.kopf), and kopf.zalando.org
    # would tell a reader of the object nothing about who put it there.
    settings.persistence.finalizer = c.FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=c.GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=c.GROUP, key="last-handled-configuration"
    )
    # End every watch server-side now and then and resume it from its resourceVersion: a
    # connection that died silently costs at most this long.
    settings.watching.server_timeout = SETTINGS.watch_timeout
    settings.watching.client_timeout = SETTINGS.watch_timeout + 30
    settings.watching.connect_timeout = SETTINGS.request_timeout
    settings.networking.request_timeout = SETTINGS.request_timeout
    # Only our Deployments are of interest: let the API server filter them.
    settings.watching.label_selectors["apps", "v1", "deployments"] = (
        f"{c.LABEL_MANAGED_BY}={c.MANAGED_BY}"
    )
    settings.posting.reporting_component = c.MANAGED_BY
    # A reconciler told to stop finishes its pass first (see reconciler): wait that long for
    # it, rather than re-checking only after the cancellation backoff.
    settings.background.instant_exit_timeout = INSTANT_EXIT_TIMEOUT
    memo.api = apply.Api(apply.client_from_environment(), timeout=SETTINGS.request_timeout)
    memo.wakeups = {}  # (namespace, name) -> asyncio.Event of that instance's reconciler
    memo.terminating = set()  # namespaces being deleted: their reconcilers stop
    memo.releasing = {}  # namespace being deleted -> the task releasing finalizers there
    if SETTINGS.metrics_port:
        METRICS.serve(SETTINGS.metrics_port)


@kopf.index(c.GROUP, c.VERSION, c.PLURAL)
def class_index(
    namespace: str, name: str, spec: Mapping[str, Any], meta: Mapping[str, Any], **_: Any
) -> dict[tuple[str, Any], tuple[str, str]]:
    """(namespace, classDiv) -> (creationTimestamp, name) of every instance claiming it.

    An instance being deleted claims nothing: its children are going, another may take over.
    """
    if meta.get("deletionTimestamp"):
        return {}
    return {(namespace, spec.get("classDiv")): (meta.get("creationTimestamp") or "", name)}


@kopf.index(c.GROUP, c.VERSION, c.PLURAL)
def route_index(
    namespace: str,
    name: str,
    spec: Mapping[str, Any],
    status: Mapping[str, Any],
    meta: Mapping[str, Any],
    **_: Any,
) -> dict[str, tuple[str, tuple[str, str]]]:
    """namespace -> (name, (classDiv, serviceURL)) of every instance that should get traffic."""
    found = routes.entry(spec, status, meta)
    return {namespace: (name, found)} if found else {}


def _routes_conflict(found: Mapping[str, Any]) -> str | None:
    return ownership.labelled_conflict(found, routes.LABELS)


def publish_routes(
    api: apply.Api, index: kopf.Index, namespace: str, name: str, own: tuple[str, str] | None
) -> bool:
    """Write the namespace's routing table: the other instances as indexed, this one as it is now
    (the index learns of this instance's newest status only when the watch brings it back).

    True when this instance's own route was added by this write.
    """
    others = [found for other, found in index.get(namespace, []) if other != name]
    table = routes.config_map(namespace, routes.table([*others, own]))
    applied = api.ensure(
        table,
        conflict=_routes_conflict,
    )
    return own is not None and routes.routed(applied.before, own) != routes.routed(
        applied.live, own
    )


def withdraw_route(api: apply.Api, namespace: str, name: str) -> None:
    """The routing table without a deleted instance, from the instances as listed now (not the
    index, which may not know yet that others are being deleted too), written only over the
    version it was computed against. Of instances deleted together, the last one's write thus
    removes them all: no class stays routed with nobody left to correct it."""
    for _ in range(WITHDRAW_ATTEMPTS):
        entries = [
            routes.entry(item.get("spec"), item.get("status"), item.get("metadata"))
            for item in api.list_instances(namespace)
            if item["metadata"]["name"] != name
        ]
        table = routes.config_map(namespace, routes.table(entries))
        live = api.read("ConfigMap", namespace, routes.CONFIG_MAP)
        if live is not None:
            table["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
        try:
            api.ensure(
                table,
                live,
                conflict=_routes_conflict,
            )
            return
        except ApiException as exc:
            if exc.status != 409:  # 409: written meanwhile; computed again
                raise


def class_owner(index: kopf.Index, namespace: str, class_div: Any) -> str | None:
    """The oldest instance (ties broken by name) claiming a classDiv is the one serving it."""
    key = (namespace, class_div)
    claims = sorted(index[key]) if key in index else []
    return claims[0][1] if claims else None


def _wakeup(memo: kopf.Memo, key: Key) -> asyncio.Event:
    wakeups: dict[Key, asyncio.Event] = memo.wakeups
    return wakeups.setdefault(key, asyncio.Event())


@kopf.on.update(c.GROUP, c.VERSION, c.PLURAL, field="spec")
async def spec_changed(namespace: str, name: str, memo: kopf.Memo, **_: Any) -> None:
    _wakeup(memo, (namespace, name)).set()


@kopf.on.event("apps", "v1", "deployments", labels={c.LABEL_MANAGED_BY: c.MANAGED_BY})
async def deployment_changed(
    namespace: str, labels: Mapping[str, str], memo: kopf.Memo, **_: Any
) -> None:
    """Readiness, an edit or a deletion of a Deployment: its instance's reconciler looks now."""
    wakeup = memo.wakeups.get((namespace, labels.get(c.LABEL_INSTANCE)))
    if wakeup is not None:
        wakeup.set()


def _served(name: str, **_: Any) -> bool:
    return not SETTINGS.namespaces or name in SETTINGS.namespaces


@kopf.on.event(
    "", "v1", "namespaces", field="metadata.deletionTimestamp", value=kopf.PRESENT, when=_served
)
async def namespace_changed(name: str, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    """A served namespace being deleted: its reconcilers stop now, before its Role and the
    children go, so that no pass runs into what is being removed; and the operator removes its
    own finalizer from the instances there as they are deleted, because Kopf, serving a list
    of namespaces, stops watching one as soon as its deletion has begun (and would never see
    those instances' deletion)."""
    if name in memo.terminating:
        return
    memo.terminating.add(name)
    for (namespace, _), wakeup in list(memo.wakeups.items()):
        if namespace == name:
            wakeup.set()
    memo.releasing[name] = asyncio.create_task(_release_finalizers(memo, name, logger))


async def _release_finalizers(memo: kopf.Memo, namespace: str, logger: kopf.Logger) -> None:
    """Until no instance is left in the namespace being deleted; then a namespace of that name
    created later is served again."""
    try:
        while True:
            try:
                if not await asyncio.to_thread(memo.api.release_finalizers, namespace):
                    return
            except Exception as exc:  # the namespace may be gone already: then so are they
                logger.warning(f"Releasing the finalizers in namespace {namespace}: {exc}")
                if isinstance(exc, ApiException) and exc.status == 404:
                    return
            await asyncio.sleep(FINALIZER_POLL)
    finally:
        memo.terminating.discard(namespace)
        memo.releasing.pop(namespace, None)


def _failure(exc: Exception, logger: kopf.Logger) -> tuple[str, str]:
    """(reason, message) of a pass that raised ``exc``; logged and counted once here."""
    METRICS.reconciles.labels(result="failed").inc()
    if isinstance(exc, ApiException):
        METRICS.api_errors.labels(code=str(exc.status or "none")).inc()
        message = f"API request failed: {exc.status} {exc.reason}"
        logger.warning(f"{message}; retrying in {RETRY_DELAY:g}s: {exc.body}")
        return status.APPLY_FAILED, message
    if isinstance(exc, apply.Conflict):
        # Created by someone else between a read and a write: left alone.
        logger.warning(f"{exc}; looking again in {RETRY_DELAY:g}s")
        return status.NAME_CONFLICT, str(exc)
    if isinstance(exc, OSError | urllib3.exceptions.HTTPError):
        METRICS.api_errors.labels(code="none").inc()  # no answer at all
    message = f"Reconciliation failed: {exc.__class__.__name__}: {exc}"
    logger.exception(f"{message}; retrying in {RETRY_DELAY:g}s")
    return status.APPLY_FAILED, message


async def _sleep(wakeup: asyncio.Event, stopped: kopf.DaemonStopped, delay: float) -> None:
    """Until woken, stopped, or ``delay`` seconds have passed."""
    waits = {asyncio.ensure_future(wakeup.wait()), asyncio.ensure_future(stopped.wait())}
    try:
        await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


# On deletion (or shutdown) Kopf signals ``stopped`` and waits for the loop to finish its pass
# (usually milliseconds; INSTANT_EXIT_TIMEOUT): a pass cancelled midway would go on in its
# thread, and could recreate a child after the instance is gone. Only a pass stuck for longer
# than the backoff is cancelled.
@kopf.daemon(
    c.GROUP,
    c.VERSION,
    c.PLURAL,
    cancellation_backoff=4 * SETTINGS.request_timeout,
    cancellation_timeout=10,
)
async def reconciler(
    body: kopf.Body,
    namespace: str,
    name: str,
    memo: kopf.Memo,
    class_index: kopf.Index,
    route_index: kopf.Index,
    stopped: kopf.DaemonStopped,
    logger: kopf.Logger,
    **_: Any,
) -> None:
    key = (namespace, name)
    wakeup = _wakeup(memo, key)
    # Nobody else writes status: what this loop wrote last is the current status, even before
    # the watch brings it back in ``body`` (a live view Kopf keeps up to date).
    current: dict[str, Any] = copy.deepcopy(dict(body.get("status") or {}))
    failure = ""
    try:
        while not stopped and namespace not in memo.terminating:
            wakeup.clear()
            raw = copy.deepcopy(dict(body))
            raw["status"] = current
            owner = class_owner(class_index, namespace, (raw.get("spec") or {}).get("classDiv"))
            started = time.monotonic()
            try:
                result = await asyncio.to_thread(
                    reconcile.reconcile,
                    memo.api,
                    raw,
                    default_image=SETTINGS.default_image,
                    class_owner=owner,
                    policy=POLICY,
                    litestream_image=SETTINGS.litestream_image,
                )
                for event in result.events:
                    kopf.event(body, type=event.type, reason=event.reason, message=event.message)
                if status.differs(result.status, current):
                    await asyncio.to_thread(
                        memo.api.patch_instance_status, namespace, name, result.status
                    )
                    current = {**current, **result.status}
                own_route = routes.entry(raw.get("spec"), current, body.get("metadata"))
                if await asyncio.to_thread(
                    publish_routes, memo.api, route_index, namespace, name, own_route
                ):
                    assert own_route is not None
                    kopf.event(
                        body,
                        type="Normal",
                        reason="Routed",
                        message=f"ConfigMap {routes.CONFIG_MAP} sends class {own_route[0]} to "
                        f"{own_route[1]}",
                    )
                failure, delay = "", SETTINGS.repair_interval
                refused = status.refusal_in(current, current.get("observedGeneration", 0))
                METRICS.reconciles.labels(result="refused" if refused else "applied").inc()
            except Exception as exc:  # the API refused, or was unreachable: retry, keep going
                reason, message = _failure(exc, logger)
                if message != failure:  # said once, not on every retry
                    kopf.event(body, type="Warning", reason=reason, message=message[:1000])
                failure, delay = message, min(RETRY_DELAY, SETTINGS.repair_interval)
                generation = body.get("metadata", {}).get("generation", 1)
                marked = status.failed(
                    current, generation=generation, message=message[:1000], reason=reason
                )
                if status.differs(marked, current):
                    with contextlib.suppress(Exception):  # the API may be down altogether
                        await asyncio.to_thread(
                            memo.api.patch_instance_status, namespace, name, marked
                        )
                        current = {**current, **marked}
            METRICS.duration.observe(time.monotonic() - started)
            if current.get("phase"):
                METRICS.phases[key] = current["phase"]
            await _sleep(wakeup, stopped, delay)
    finally:
        METRICS.phases.pop(key, None)
        # Deleted (or the operator is stopping). Deleted: the gateway must stop sending this
        # class here now, not at the next pass of another instance (unless the whole namespace,
        # the table with it, is going).
        if body.get("metadata", {}).get("deletionTimestamp") and namespace not in memo.terminating:
            try:
                await asyncio.to_thread(withdraw_route, memo.api, namespace, name)
            except Exception as exc:  # the others' passes converge, if any is left
                logger.warning(f"Could not take class out of {routes.CONFIG_MAP}: {exc}")
        # An instance that was refused the same classDiv may serve it now: let the others in
        # the namespace look without delay.
        memo.wakeups.pop(key, None)
        for (other_namespace, _), other in list(memo.wakeups.items()):
            if other_namespace == namespace:
                other.set()
