"""One reconciliation of a WatcherInstance: check the spec, apply the children, compute status.

Level-based: it looks only at the instance as it is now and at the live children, never at what
changed, so running it again (a retry, the repair timer, a restarted operator) is harmless.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from kubernetes.client.exceptions import ApiException

from watcher_operator import conventions as c
from watcher_operator import ownership, resources, status
from watcher_operator import spec as specs
from watcher_operator.apply import Api, Outcome
from watcher_operator.config import DEFAULT_LITESTREAM_IMAGE
from watcher_operator.policy import Policy
from watcher_operator.status import BackupState, Refusal

DEFAULT_POLICY = Policy()


@dataclasses.dataclass(frozen=True)
class Event:
    """A Kubernetes Event to post on the instance."""

    type: str  # Normal or Warning
    reason: str
    message: str


@dataclasses.dataclass(frozen=True)
class Result:
    status: dict[str, Any]
    events: list[Event]


def claim_refusal(spec: specs.InstanceSpec, claim: Mapping[str, Any]) -> Refusal | None:
    """Why the live data volume cannot take this spec, if it cannot."""
    name = claim["metadata"]["name"]
    held = (claim["metadata"].get("labels") or {}).get(c.LABEL_CLASS_DIV)
    if held and held != spec.class_div:
        return Refusal(
            status.CLASS_DIV_CHANGE,
            f"PersistentVolumeClaim {name} holds the data of class {held}, not "
            f"{spec.class_div}; restore spec.classDiv or create another WatcherInstance",
        )
    requested = ((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}
    current = specs.quantity(requested.get("storage", "0"))
    wanted = specs.quantity(spec.storage.size)
    if current is not None and wanted is not None and wanted < current:
        return Refusal(
            status.STORAGE_SHRINK,
            f"spec.storage.size {spec.storage.size} is smaller than the {requested['storage']} "
            f"of PersistentVolumeClaim {name}: volumes can grow, never shrink",
        )
    live_class = (claim.get("spec") or {}).get("storageClassName")
    wanted_class = spec.storage.storage_class_name
    if wanted_class and live_class and wanted_class != live_class:
        return Refusal(
            status.STORAGE_CLASS_CHANGE,
            f"spec.storage.storageClassName {wanted_class} differs from {live_class} of "
            f"PersistentVolumeClaim {name}, which cannot change",
        )
    return None


def backup_state(
    api: Api, namespace: str, spec: specs.InstanceSpec
) -> tuple[BackupState | None, str]:
    """What spec.backup needs, as found in the namespace, and its Secret's resourceVersion ('' if
    none). Only the Secret's metadata is read: the sidecar gets the keys from the kubelet."""
    backup = spec.backup
    if backup is None:
        return None, ""
    state = BackupState(
        replica_url=backup.replica_url(namespace, spec.class_div),
        sync_interval=backup.sync_interval,
        enabled=backup.enabled,
        secret=backup.credentials_secret,
        claim=backup.claim_name,
    )
    if not backup.enabled:
        return state, ""
    version = ""
    if backup.claim_name:
        found = api.read("PersistentVolumeClaim", namespace, backup.claim_name) is not None
        state = dataclasses.replace(state, claim_found=found)
    if backup.credentials_secret:
        try:
            secret = api.secret_metadata(namespace, backup.credentials_secret)
        except ApiException as exc:
            if exc.status != 403:
                raise
        else:
            state = dataclasses.replace(state, secret_found=secret is not None)
            version = ((secret or {}).get("metadata") or {}).get("resourceVersion", "")
    return state, version


def _describe(applied_kind: str, name: str, outcome: Outcome, *, repairing: bool) -> Event:
    if outcome is Outcome.CREATED:
        verb = "Recreated missing" if repairing else "Created"
    else:
        verb = "Reverted drift in" if repairing else "Updated"
    reason = "Repaired" if repairing else outcome.value.capitalize()
    return Event("Normal", reason, f"{verb} {applied_kind} {name}")


def reconcile(
    api: Api,
    body: Mapping[str, Any],
    *,
    default_image: str,
    class_owner: str | None,
    policy: Policy = DEFAULT_POLICY,
    litestream_image: str = DEFAULT_LITESTREAM_IMAGE,
) -> Result:
    """Bring the children in line with the spec; ``class_owner`` serves the classDiv, if known.

    Changes made for a spec already reconciled (same generation) are repairs of drift.
    """
    meta = body["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    generation = meta.get("generation", 1)
    previous = body.get("status") or {}
    repairing = previous.get("observedGeneration") == generation
    events: list[Event] = []

    refusal: Refusal | None = None
    parsed: specs.InstanceSpec | None = None
    try:
        problems = specs.check_name(name)
        parsed = specs.parse(body.get("spec"), default_image=default_image)
        problems += specs.check_backup_claim(name, parsed)
        if problems:
            raise specs.SpecError(problems)
    except specs.SpecError as exc:
        refusal = Refusal(status.INVALID_SPEC, str(exc))
    if parsed is not None and refusal is None and class_owner not in (None, name):
        refusal = Refusal(
            status.DUPLICATE_CLASS,
            f"classDiv {parsed.class_div} is already served by WatcherInstance {class_owner} "
            "in this namespace; a class has one service (and one database)",
        )
    if parsed is not None and refusal is None:
        refusal = policy.refusal(name, parsed.image, default_image)

    desired: list[dict[str, Any]] = []
    live: dict[str, dict[str, Any] | None] = {}  # kind -> the child as it is now
    monitoring = False
    restart = ""
    backup: BackupState | None = None
    secret_version = ""
    if parsed is not None and refusal is None:
        owner = resources.owner_reference(body)
        restart = resources.pending_restart(parsed, previous)
        backup, secret_version = backup_state(api, namespace, parsed)
        desired = [
            resources.data_claim(name, namespace, parsed, owner),
            # Litestream's configuration exists before the pod that mounts it.
            *(
                [resources.backup_config_map(name, namespace, parsed, owner)]
                if backup is not None and backup.enabled
                else []
            ),
            resources.deployment(
                name,
                namespace,
                parsed,
                owner,
                restarted_at=restart,
                litestream_image=litestream_image,
                backup_secret_version=secret_version,
            ),
            resources.service(name, namespace, parsed, owner),
        ]
        monitoring = api.has_api(c.MONITORING_GROUP, c.MONITORING_VERSION)
        if monitoring and parsed.service_monitor.enabled:
            desired.append(resources.service_monitor(name, namespace, parsed, owner))
        for manifest in desired:
            live[manifest["kind"]] = api.read(
                manifest["kind"], namespace, manifest["metadata"]["name"]
            )
        # Nothing is changed unless every child is absent or already this instance's own.
        conflicts = [
            problem
            for found in live.values()
            if found is not None and (problem := ownership.conflict(found, name, meta["uid"]))
        ]
        claim = live["PersistentVolumeClaim"]
        if conflicts:
            refusal = Refusal(status.NAME_CONFLICT, "; ".join(conflicts))
        elif claim is not None:
            refusal = claim_refusal(parsed, claim)

    if refusal is not None:
        if refusal != status.refusal_in(previous, generation):
            events.append(Event("Warning", "Refused", refusal.message))
        # Its readiness is reported only if the Deployment is this instance's.
        found = live.get("Deployment", ...)
        if found is ...:
            found = api.read("Deployment", namespace, c.child_name(name))
        if found is not None and ownership.conflict(found, name, meta["uid"]):
            found = None
        new = status.compute(
            generation=generation,
            previous=previous,
            refusal=refusal,
            paused=False,
            deployment=found,
            service_url=c.service_url(name, namespace),
        )
        return Result(new, events)

    assert parsed is not None  # parsing failed, or a refusal was returned above
    deployment: dict[str, Any] | None = None
    for manifest in desired:
        kind, child = manifest["kind"], manifest["metadata"]["name"]
        applied = api.ensure(
            manifest,
            live[kind],
            conflict=lambda found: ownership.conflict(found, name, meta["uid"]),
        )
        if applied.outcome is not Outcome.UNCHANGED:
            events.append(_describe(kind, child, applied.outcome, repairing=repairing))
        if kind == "Deployment":
            deployment = applied.live
            before = ((applied.before or {}).get("spec") or {}).get("template") or {}
            before_at = (before.get("metadata") or {}).get("annotations") or {}
            if (
                restart
                and applied.before is not None
                and before_at.get(c.RESTARTED_AT_ANNOTATION) != restart
            ):
                events.append(
                    Event(
                        "Normal", "Restarted", f"Restarted Deployment {child} (restartAt {restart})"
                    )
                )
            if (
                secret_version
                and applied.before is not None
                and (before_at.get(c.BACKUP_SECRET_ANNOTATION) != secret_version)
            ):
                assert parsed.backup is not None
                events.append(
                    Event(
                        "Normal",
                        "Restarted",
                        f"Restarted Deployment {child}: Secret {parsed.backup.credentials_secret}"
                        " appeared or changed (Litestream reads its credentials at start)",
                    )
                )

    if monitoring and not parsed.service_monitor.enabled:
        events.extend(_remove_service_monitor(api, namespace, name, meta["uid"]))

    new = status.compute(
        generation=generation,
        previous=previous,
        refusal=None,
        paused=parsed.paused,
        deployment=deployment,
        service_url=c.service_url(name, namespace),
        last_restart_at=restart,
        backup=backup,
    )
    return Result(new, events)


def _remove_service_monitor(api: Api, namespace: str, instance: str, uid: str) -> list[Event]:
    """Delete the instance's ServiceMonitor after serviceMonitor.enabled turned false."""
    name = c.child_name(instance)
    live = api.read("ServiceMonitor", namespace, name)
    if live is None or ownership.conflict(live, instance, uid) is not None:
        return []
    if not api.delete("ServiceMonitor", namespace, name):
        return []
    return [Event("Normal", "Deleted", f"Deleted ServiceMonitor {name} (serviceMonitor disabled)")]
