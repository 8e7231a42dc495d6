"""Kopf handlers: thin wiring from events to reconcile.py and status.py.

Run with ``python -m watcher_operator`` (see __main__.py), which runs ``kopf run`` on this module.
Handlers are synchronous (Kopf runs them in a thread pool) because the official client is.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import Any

import kopf
from kubernetes.client.exceptions import ApiException

from watcher_operator import apply, reconcile, status
from watcher_operator import conventions as c
from watcher_operator.config import Settings

# Read at import: the timer's interval is fixed when the handler is registered.
SETTINGS = Settings.from_env()
# How soon a handler that failed on an API error is retried (seconds).
RETRY_DELAY = 10

logger = logging.getLogger(__name__)


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    # Kopf's bookkeeping on WatcherInstances lives in annotations under our group: status is
    # ours and structural (the API server would prune status.kopf), and kopf.zalando.org
    # would say nothing to a reader of the object about who put it there.
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
    # Only our Deployments are of interest: filter them in the API server, not here.
    settings.watching.label_selectors["apps", "v1", "deployments"] = (
        f"{c.LABEL_MANAGED_BY}={c.MANAGED_BY}"
    )
    settings.posting.reporting_component = c.MANAGED_BY
    memo.api = apply.Api(apply.client_from_environment(), timeout=SETTINGS.request_timeout)


@kopf.index(c.GROUP, c.VERSION, c.PLURAL)
def class_index(
    namespace: str, name: str, spec: Mapping[str, Any], meta: Mapping[str, Any], **_: Any
) -> dict[tuple[str, str], tuple[str, str]]:
    """(namespace, classDiv) -> (creationTimestamp, name) of every instance claiming it."""
    return {(namespace, spec.get("classDiv", "")): (meta.get("creationTimestamp") or "", name)}


@kopf.index(c.GROUP, c.VERSION, c.PLURAL)
def status_index(
    namespace: str, name: str, status: Mapping[str, Any], **_: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """(namespace, name) -> the instance's status, for the Deployment handler."""
    return {(namespace, name): copy.deepcopy(dict(status))}


def _class_owner(index: kopf.Index, namespace: str, class_div: Any) -> str | None:
    """The oldest instance (ties broken by name) claiming a classDiv serves it."""
    key = (namespace, class_div)
    claims = sorted(index[key]) if key in index else []
    return claims[0][1] if claims else None


def _reconcile(
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    class_index: kopf.Index,
    *,
    repairing: bool,
) -> None:
    raw = copy.deepcopy(dict(body))
    owner = _class_owner(
        class_index, raw["metadata"]["namespace"], raw.get("spec", {}).get("classDiv")
    )
    try:
        result = reconcile.reconcile(
            memo.api,
            raw,
            default_image=SETTINGS.default_image,
            class_owner=owner,
            repairing=repairing,
        )
    except ApiException as exc:
        raise kopf.TemporaryError(
            f"API request failed: {exc.status} {exc.reason}", delay=RETRY_DELAY
        ) from exc
    for event in result.events:
        kopf.event(body, type=event.type, reason=event.reason, message=event.message)
    if status.differs(result.status, raw.get("status") or {}):
        patch["status"] = result.status


@kopf.on.resume(c.GROUP, c.VERSION, c.PLURAL)
@kopf.on.create(c.GROUP, c.VERSION, c.PLURAL)
@kopf.on.update(c.GROUP, c.VERSION, c.PLURAL, field="spec")
def apply_spec(
    body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, class_index: kopf.Index, **_: Any
) -> None:
    _reconcile(body, patch, memo, class_index, repairing=False)


@kopf.timer(
    c.GROUP,
    c.VERSION,
    c.PLURAL,
    interval=SETTINGS.repair_interval,
    initial_delay=SETTINGS.repair_interval,  # the creation and resume handlers go first
)
def repair(
    body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, class_index: kopf.Index, **_: Any
) -> None:
    """Re-apply everything: a deleted Service or an edited Deployment comes back."""
    _reconcile(body, patch, memo, class_index, repairing=True)


@kopf.on.event("apps", "v1", "deployments", labels={c.LABEL_MANAGED_BY: c.MANAGED_BY})
def deployment_changed(
    type: str | None,
    body: kopf.Body,
    namespace: str,
    labels: Mapping[str, str],
    memo: kopf.Memo,
    status_index: kopf.Index,
    **_: Any,
) -> None:
    """Carry a Deployment's progress into its instance's status as soon as it happens."""
    key = (namespace, labels.get(c.LABEL_INSTANCE))
    if key not in status_index:
        return
    previous = next(iter(status_index[key]))
    deployment = None if type == "DELETED" else copy.deepcopy(dict(body))
    new = status.refresh(previous, deployment)
    if new is not None and status.differs(new, previous):
        try:
            memo.api.patch_instance_status(namespace, key[1], new)
        except ApiException as exc:
            if exc.status != 404:  # 404: the instance is gone; nothing to report to
                raise
