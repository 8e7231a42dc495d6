"""Kopf handlers: thin wiring from events to passes.py.

Run with ``python -m watcher_operator`` (see __main__.py), which runs ``kopf run`` on this module.

Each WatcherInstance has one reconciler (a Kopf daemon) that does all the work for it, one pass at
a time (passes.py: apply the children, write status, publish the routing table). It is woken by a
spec change, by any change of the instance's Deployment (its readiness, an edit, its deletion),
and otherwise runs every repair_interval seconds, which repairs drift in children nobody watches
(a deleted Service).
One writer per instance means a status can never be overwritten by an older one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

import kopf
from kubernetes.client.exceptions import ApiException

from watcher_operator import apply, metrics, passes, publish, routes
from watcher_operator import conventions as c
from watcher_operator.config import Settings
from watcher_operator.policy import Policy
from watcher_operator.routes import Route

# Read at import: Kopf imports this module after its own command line is parsed.
SETTINGS = Settings.from_env()
POLICY = Policy(
    allowed_images=SETTINGS.allowed_images, reserved_names=frozenset(SETTINGS.reserved_names)
)
METRICS = metrics.Metrics()
# How often the instances of a namespace being deleted are looked at (seconds).
FINALIZER_POLL = 1.0
# How long a stopping reconciler may take to finish its pass before Kopf re-checks later.
INSTANT_EXIT_TIMEOUT = 5.0

Key = metrics.Key


class Claim(NamedTuple):
    """An instance claiming a classDiv; the oldest claim (ties broken by name) is served."""

    created: str  # metadata.creationTimestamp (RFC 3339, so ordered as text)
    name: str


# (namespace, classDiv) -> the instances claiming it; namespace -> (name, route) of each routed one.
ClassIndex = kopf.Index[tuple[str, Any], Claim]
RouteIndex = kopf.Index[str, tuple[str, Route]]


def namespaced(namespace: str | None) -> str:
    """The namespace Kopf passes for WatcherInstances and Deployments: never None (they are
    namespaced), though Kopf's signatures allow it for cluster-scoped kinds."""
    if namespace is None:
        raise kopf.PermanentError("a namespaced object came without its namespace")
    return namespace


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
    namespace: str | None, name: str, spec: Mapping[str, Any], meta: Mapping[str, Any], **_: Any
) -> dict[tuple[str, Any], Claim]:
    """(namespace, classDiv) -> the claim of every instance claiming it.

    An instance being deleted claims nothing: its children are going, another may take over.
    """
    if meta.get("deletionTimestamp"):
        return {}
    key = (namespaced(namespace), spec.get("classDiv"))
    return {key: Claim(str(meta.get("creationTimestamp") or ""), name)}


@kopf.index(c.GROUP, c.VERSION, c.PLURAL)
def route_index(
    namespace: str | None,
    name: str,
    spec: Mapping[str, Any],
    status: Mapping[str, Any],
    meta: Mapping[str, Any],
    **_: Any,
) -> dict[str, tuple[str, Route]]:
    """namespace -> (name, route) of every instance that should get traffic."""
    found = routes.entry(spec, status, meta)
    return {namespaced(namespace): (name, found)} if found else {}


def other_routes(index: RouteIndex, namespace: str, name: str) -> list[Route]:
    """The routes of the namespace's instances but ``name``, as indexed."""
    return [route for other, route in index.get(namespace, []) if other != name]


def class_owner(index: ClassIndex, namespace: str, class_div: Any) -> str | None:
    """The oldest instance (ties broken by name) claiming a classDiv is the one serving it."""
    key = (namespace, class_div)
    claims = sorted(index[key]) if key in index else []
    return claims[0].name if claims else None


def _wakeup(memo: kopf.Memo, key: Key) -> asyncio.Event:
    wakeups: dict[Key, asyncio.Event] = memo.wakeups
    return wakeups.setdefault(key, asyncio.Event())


@kopf.on.update(c.GROUP, c.VERSION, c.PLURAL, field="spec")
async def spec_changed(namespace: str | None, name: str, memo: kopf.Memo, **_: Any) -> None:
    _wakeup(memo, (namespaced(namespace), name)).set()


@kopf.on.event("apps", "v1", "deployments", labels={c.LABEL_MANAGED_BY: c.MANAGED_BY})
async def deployment_changed(
    namespace: str | None, labels: Mapping[str, str], memo: kopf.Memo, **_: Any
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
    namespace: str | None,
    name: str,
    memo: kopf.Memo,
    stopped: kopf.DaemonStopped,
    logger: kopf.Logger,
    **kwargs: Any,
) -> None:
    namespace = namespaced(namespace)
    # Kopf passes each index as a keyword named after its function (typed by Kopf as **kwargs).
    class_claims: ClassIndex = kwargs["class_index"]
    routed: RouteIndex = kwargs["route_index"]
    key = (namespace, name)
    wakeup = _wakeup(memo, key)
    instance = passes.Reconciler(
        memo.api,
        namespace,
        name,
        current=body.get("status"),
        settings=SETTINGS,
        policy=POLICY,
        logger=logger,
    )
    try:
        while not stopped and namespace not in memo.terminating:
            wakeup.clear()
            started = time.monotonic()
            done = await instance.run(
                body,
                class_owner=class_owner(
                    class_claims, namespace, (body.get("spec") or {}).get("classDiv")
                ),
                others=lambda: other_routes(routed, namespace, name),
            )
            for event in done.events:
                kopf.event(body, type=event.type, reason=event.reason, message=event.message)
            METRICS.record_pass(
                key,
                done.result,
                time.monotonic() - started,
                phase=done.phase,
                api_error=done.api_error,
            )
            await _sleep(wakeup, stopped, done.delay)
    finally:
        METRICS.phases.pop(key, None)
        # Deleted (or the operator is stopping). Deleted: the gateway must stop sending this
        # class here now, not at the next pass of another instance (unless the whole namespace,
        # the table with it, is going).
        if body.get("metadata", {}).get("deletionTimestamp") and namespace not in memo.terminating:
            try:
                await asyncio.to_thread(publish.withdraw_route, memo.api, namespace, name)
            except Exception as exc:  # the others' passes converge, if any is left
                logger.warning(f"Could not take class out of {routes.CONFIG_MAP}: {exc}")
        # An instance that was refused the same classDiv may serve it now: let the others in
        # the namespace look without delay.
        memo.wakeups.pop(key, None)
        for (other_namespace, _), other in list(memo.wakeups.items()):
            if other_namespace == namespace:
                other.set()
