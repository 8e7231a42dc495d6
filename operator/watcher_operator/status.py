"""Pure computation of a WatcherInstance's status from what the operator observed.

Phases: Pending (the Deployment has not reported on its current spec yet), Progressing (it is
rolling out or its pod is not ready), Ready, Paused, and Degraded (the spec was refused, the
rollout is stuck, or a pass failed on an API error). Conditions follow the Kubernetes shape
(metav1.Condition): Ready, Progressing, Degraded, each with reason, message, lastTransitionTime
and observedGeneration; and BackupReady when spec.backup is set (see backup_condition).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any, NamedTuple

CONDITION_TYPES = ("Ready", "Progressing", "Degraded", "BackupReady")

# Reasons a spec is refused (nothing is applied; the children stay as they were).
INVALID_SPEC = "InvalidSpec"
DUPLICATE_CLASS = "DuplicateClassDiv"
STORAGE_SHRINK = "StorageShrinkRefused"
STORAGE_CLASS_CHANGE = "StorageClassImmutable"
CLASS_DIV_CHANGE = "ClassDivChanged"
# A child's name is taken by an object this instance does not own (it is left alone).
NAME_CONFLICT = "NameConflict"
# The platform admin's limits (policy.py): a reserved child name, an image not on the list.
RESERVED_NAME = "ReservedName"
IMAGE_NOT_ALLOWED = "ImageNotAllowed"
# A pass that failed on an API error (the children may be partly applied; it is retried).
APPLY_FAILED = "ApplyFailed"
REFUSALS = (
    INVALID_SPEC,
    DUPLICATE_CLASS,
    STORAGE_SHRINK,
    STORAGE_CLASS_CHANGE,
    CLASS_DIV_CHANGE,
    NAME_CONFLICT,
    RESERVED_NAME,
    IMAGE_NOT_ALLOWED,
)


@dataclasses.dataclass(frozen=True)
class Refusal:
    reason: str
    message: str


@dataclasses.dataclass(frozen=True)
class BackupState:
    """What the operator found of spec.backup's prerequisites in the instance's namespace."""

    replica_url: str
    sync_interval: str
    enabled: bool = True
    secret: str = ""  # the credentialsSecret, if any
    secret_found: bool | None = None  # None: not checked (no Secret named, or no permission)
    claim: str = ""  # a file:// replica's claim, if any
    claim_found: bool = True


class Said(NamedTuple):
    """What a condition says: its status ('True', 'False', 'Unknown'), reason and message."""

    status: str
    reason: str
    message: str


class Rollout(NamedTuple):
    """Where a Deployment that should be running stands."""

    phase: str
    reason: str
    message: str
    ready_replicas: int


def backup_condition(state: BackupState) -> Said:
    """What BackupReady says.

    It says whether replication can run as configured: the Secret and the claim it needs
    exist. It cannot see uploads succeed (the sidecar's log and Litestream's own metrics do).
    """
    if not state.enabled:
        return Said(
            "False", "BackupDisabled", "spec.backup.enabled is false: nothing is replicated."
        )
    if not state.claim_found:
        return Said(
            "False",
            "ClaimMissing",
            f"PersistentVolumeClaim {state.claim} of the file:// replica does not exist; the "
            "pod cannot start until it does.",
        )
    if state.secret and state.secret_found is False:
        return Said(
            "False",
            "SecretMissing",
            f"Secret {state.secret} (keys AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) does not "
            "exist: nothing can be uploaded, and a missing database cannot be restored. The "
            "pod restarts with the credentials once it exists.",
        )
    if state.secret and state.secret_found is None:
        return Said(
            "Unknown",
            "SecretNotChecked",
            f"The operator may not read Secret {state.secret}'s metadata (RBAC), so it cannot "
            "tell whether the credentials exist.",
        )
    return Said(
        "True",
        "ReplicaConfigured",
        f"Litestream replicates the database to {state.replica_url} every "
        f"{state.sync_interval} at most.",
    )


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def refusal_in(status: Mapping[str, Any], generation: int) -> Refusal | None:
    """The refusal a status records for this generation, if any."""
    for condition in status.get("conditions") or []:
        if (
            condition.get("type") == "Degraded"
            and condition.get("status") == "True"
            and condition.get("reason") in REFUSALS
            and condition.get("observedGeneration") == generation
        ):
            return Refusal(condition["reason"], condition.get("message", ""))
    return None


def _rollout(deployment: Mapping[str, Any]) -> Rollout:
    """Where a Deployment that should be running stands."""
    meta = deployment.get("metadata") or {}
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    wanted = spec.get("replicas", 1)
    ready = status.get("readyReplicas") or 0
    updated = status.get("updatedReplicas") or 0
    total = status.get("replicas") or 0
    name = meta.get("name", "the Deployment")
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == (
            "ProgressDeadlineExceeded"
        ):
            return Rollout("Degraded", "RolloutStalled", condition.get("message") or name, ready)
    observed = status.get("observedGeneration")
    if observed is None or observed < meta.get("generation", 0):
        return Rollout(
            "Pending", "DeploymentPending", f"{name} has not reported on its spec yet", ready
        )
    if ready >= wanted and updated >= wanted and total <= wanted:
        return Rollout(
            "Ready", "DeploymentReady", f"{name} has {ready}/{wanted} ready replicas", ready
        )
    return Rollout(
        "Progressing",
        "RolloutInProgress",
        f"{name} has {ready}/{wanted} ready and {updated}/{wanted} updated replicas",
        ready,
    )


def compute(
    *,
    generation: int,
    previous: Mapping[str, Any],
    refusal: Refusal | None,
    paused: bool,
    deployment: Mapping[str, Any] | None,
    service_url: str,
    last_restart_at: str = "",
    backup: BackupState | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The whole status (every field the operator owns), to be written as is."""
    ready_replicas = ((deployment or {}).get("status") or {}).get("readyReplicas") or 0
    conditions: dict[str, Said]  # Ready, Progressing, Degraded (and BackupReady)
    if refusal is not None:
        phase = "Degraded"
        conditions = {
            "Ready": Said(
                "False", refusal.reason, "The spec was refused; see the Degraded condition."
            ),
            "Progressing": Said(
                "False", refusal.reason, "Nothing is applied until the spec is fixed."
            ),
            "Degraded": Said("True", refusal.reason, refusal.message),
        }
    elif deployment is None:
        phase = "Pending"
        conditions = {
            "Ready": Said("False", "DeploymentMissing", "The Deployment does not exist yet."),
            "Progressing": Said("True", "DeploymentMissing", "The Deployment does not exist yet."),
            "Degraded": Said("False", "AsExpected", ""),
        }
    elif paused:
        phase = "Paused"
        scaling = ready_replicas > 0
        conditions = {
            "Ready": Said("False", "Paused", "spec.paused is true: scaled to 0, data kept."),
            "Progressing": Said(
                "True" if scaling else "False",
                "ScalingDown" if scaling else "Paused",
                f"{ready_replicas} replica(s) still running." if scaling else "",
            ),
            "Degraded": Said("False", "AsExpected", ""),
        }
    else:
        phase, reason, message, ready_replicas = _rollout(deployment)
        conditions = {
            "Ready": Said("True" if phase == "Ready" else "False", reason, message),
            "Progressing": Said(
                "True" if phase in ("Pending", "Progressing") else "False",
                "RolloutComplete" if phase == "Ready" else reason,
                message,
            ),
            "Degraded": Said(
                "True" if phase == "Degraded" else "False",
                reason if phase == "Degraded" else "AsExpected",
                message if phase == "Degraded" else "",
            ),
        }

    if backup is not None and refusal is None:
        conditions["BackupReady"] = backup_condition(backup)

    stamp = timestamp or now()
    old = {cond.get("type"): cond for cond in previous.get("conditions") or []}
    status: dict[str, Any] = {
        "phase": phase,
        "observedGeneration": generation,
        "readyReplicas": ready_replicas,
        "serviceURL": service_url,
        "conditions": [
            {
                "type": kind,
                "status": value,
                "reason": reason,
                "message": message,
                # Only a change of status is a transition; a new reason or message is not.
                "lastTransitionTime": (
                    old[kind]["lastTransitionTime"]
                    if kind in old
                    and old[kind].get("status") == value
                    and old[kind].get("lastTransitionTime")
                    else stamp
                ),
                "observedGeneration": generation,
            }
            for kind, (value, reason, message) in conditions.items()
        ],
    }
    if last_restart_at or previous.get("lastRestartAt"):
        status["lastRestartAt"] = last_restart_at or previous["lastRestartAt"]
    return status


def failed(
    previous: Mapping[str, Any],
    *,
    generation: int,
    message: str,
    reason: str = APPLY_FAILED,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The last status, marked Degraded (``reason``, by default ApplyFailed) by a pass that
    could not complete.

    observedGeneration stays what it was: this generation has not been reconciled.
    """
    stamp = timestamp or now()
    old = {cond.get("type"): cond for cond in previous.get("conditions") or []}
    missing = {
        "Ready": ("False", APPLY_FAILED, "No pass has completed yet."),
        "Progressing": ("True", APPLY_FAILED, "No pass has completed yet."),
    }
    conditions = [
        old.get(kind)
        or {
            "type": kind,
            "status": value,
            "reason": reason,
            "message": text,
            "lastTransitionTime": stamp,
            "observedGeneration": generation,
        }
        for kind, (value, reason, text) in missing.items()
    ]
    was = old.get("Degraded") or {}
    conditions.append(
        {
            "type": "Degraded",
            "status": "True",
            "reason": reason,
            "message": message,
            "lastTransitionTime": (
                was["lastTransitionTime"]
                if was.get("status") == "True" and was.get("lastTransitionTime")
                else stamp
            ),
            "observedGeneration": generation,
        }
    )
    if "BackupReady" in old:  # nothing new is known of it
        conditions.append(old["BackupReady"])
    return {**previous, "phase": "Degraded", "conditions": conditions}


def differs(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """Whether writing ``new`` over ``old`` changes anything the operator owns."""
    return any(new.get(key) != old.get(key) for key in new)
