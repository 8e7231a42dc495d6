"""One instance's reconciliation passes and what each writes: the children (reconcile.py), the
status, and the gateway's routing table (publish.py). A pass that fails is marked in status and
retried sooner.

No Kopf here: handlers.py decides when a pass runs (its daemon per instance), posts the events a
pass returns and counts it in the metrics. The API calls run in threads (the client blocks).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import urllib3
from kubernetes.client.exceptions import ApiException

from watcher_operator import apply, publish, reconcile, routes, status
from watcher_operator.config import Settings
from watcher_operator.policy import Policy
from watcher_operator.reconcile import Event
from watcher_operator.routes import Route

# How soon a pass that failed on an API error is retried (seconds).
RETRY_DELAY = 10.0
# Events and status messages are cut to this length (the API server limits an Event's message).
MESSAGE_MAX = 1000


@dataclasses.dataclass(frozen=True)
class PassResult:
    """What a pass did, for handlers.py to report."""

    result: str  # applied, refused or failed: metrics.RESULTS
    events: list[Event]
    delay: float  # seconds until the next pass, unless woken sooner
    phase: str  # status.phase as now written ('' while there is none)
    api_error: str | None = None  # HTTP status code ('none': no answer) of a failed request


@dataclasses.dataclass(frozen=True)
class Failure:
    """Why a pass failed, as status and the Warning event say it."""

    reason: str
    message: str
    api_error: str | None  # as in PassResult


def failure_of(exc: Exception) -> Failure:
    if isinstance(exc, ApiException):
        message = f"API request failed: {exc.status} {exc.reason}"
        return Failure(status.APPLY_FAILED, message, str(exc.status or "none"))
    if isinstance(exc, apply.Conflict):
        # Created by someone else between a read and a write: left alone.
        return Failure(status.NAME_CONFLICT, str(exc), None)
    no_answer = isinstance(exc, OSError | urllib3.exceptions.HTTPError)
    message = f"Reconciliation failed: {exc.__class__.__name__}: {exc}"
    return Failure(status.APPLY_FAILED, message, "none" if no_answer else None)


class Reconciler:
    """The passes of one instance. Carries from one pass to the next what only this reconciler
    knows: the status it wrote last (nobody else writes status, so that is the current status
    even before the watch brings it back) and the failure it reported last (said once, not on
    every retry)."""

    def __init__(
        self,
        api: apply.Api,
        namespace: str,
        name: str,
        *,
        current: Mapping[str, Any] | None,
        settings: Settings,
        policy: Policy,
        logger: logging.Logger | logging.LoggerAdapter[Any],
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.name = name
        self.current: dict[str, Any] = copy.deepcopy(dict(current or {}))
        self.failure = ""
        self.settings = settings
        self.policy = policy
        self.logger = logger

    @property
    def phase(self) -> str:
        return str(self.current.get("phase") or "")

    async def run(
        self,
        body: Mapping[str, Any],
        *,
        class_owner: str | None,
        others: Callable[[], Iterable[Route | None]],
    ) -> PassResult:
        """One pass over ``body``, the instance as Kopf last saw it. ``class_owner`` serves
        its classDiv; ``others`` gives the other instances' routes when the table is written."""
        raw = copy.deepcopy(dict(body))
        raw["status"] = self.current
        events: list[Event] = []
        try:
            result = await asyncio.to_thread(
                reconcile.reconcile,
                self.api,
                raw,
                default_image=self.settings.default_image,
                class_owner=class_owner,
                policy=self.policy,
                litestream_image=self.settings.litestream_image,
            )
            events += result.events
            await self._write_status(result.status)
            # The live metadata: an instance being deleted since the pass began is not routed.
            own = routes.entry(raw.get("spec"), self.current, body.get("metadata"))
            if await asyncio.to_thread(
                publish.publish_routes, self.api, others(), self.namespace, own
            ):
                assert own is not None
                message = f"ConfigMap {routes.CONFIG_MAP} sends class {own.class_div} to {own.url}"
                events.append(Event("Normal", "Routed", message))
        except Exception as exc:  # the API refused, or was unreachable: retry, keep going
            return await self._failed(exc, body, events)
        self.failure = ""
        generation = self.current.get("observedGeneration", 0)
        refused = status.refusal_in(self.current, generation) is not None
        return PassResult(
            "refused" if refused else "applied", events, self.settings.repair_interval, self.phase
        )

    async def _write_status(self, new: Mapping[str, Any]) -> None:
        if status.differs(new, self.current):
            await asyncio.to_thread(self.api.patch_instance_status, self.namespace, self.name, new)
            self.current = {**self.current, **new}

    async def _failed(
        self, exc: Exception, body: Mapping[str, Any], events: list[Event]
    ) -> PassResult:
        """Logged, said once as a Warning event, marked in status (Degraded) if the API lets it."""
        failure = failure_of(exc)
        retry = min(RETRY_DELAY, self.settings.repair_interval)
        if isinstance(exc, ApiException):
            self.logger.warning(f"{failure.message}; retrying in {retry:g}s: {exc.body}")
        elif isinstance(exc, apply.Conflict):
            self.logger.warning(f"{exc}; looking again in {retry:g}s")
        else:
            self.logger.error(f"{failure.message}; retrying in {retry:g}s", exc_info=exc)
        message = failure.message[:MESSAGE_MAX]
        if failure.message != self.failure:  # said once, not on every retry
            events.append(Event("Warning", failure.reason, message))
        self.failure = failure.message
        generation = (body.get("metadata") or {}).get("generation", 1)
        marked = status.failed(
            self.current, generation=generation, message=message, reason=failure.reason
        )
        with contextlib.suppress(Exception):  # the API may be down altogether
            await self._write_status(marked)
        return PassResult("failed", events, retry, self.phase, failure.api_error)
