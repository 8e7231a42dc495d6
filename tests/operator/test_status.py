"""Status computation: phase, conditions (Kubernetes' shape) and the fields around them."""

from __future__ import annotations

from typing import Any

import pytest

from watcher_operator import status
from watcher_operator.status import Refusal

URL = "http://watcher-os-1.ns1.svc:3000"
T0, T1 = "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"


def deployment(generation: int = 2, replicas: int = 1, **observed: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "watcher-os-1", "generation": generation},
        "spec": {"replicas": replicas},
        "status": observed,
    }


READY = deployment(
    observedGeneration=2, replicas=1, updatedReplicas=1, readyReplicas=1, availableReplicas=1
)


def compute(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "generation": 3,
        "previous": {},
        "refusal": None,
        "paused": False,
        "deployment": READY,
        "service_url": URL,
        "timestamp": T1,
    }
    return status.compute(**{**arguments, **overrides})


def conditions(result: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {cond["type"]: (cond["status"], cond["reason"]) for cond in result["conditions"]}


def test_ready() -> None:
    result = compute()
    assert result == {
        "phase": "Ready",
        "observedGeneration": 3,
        "readyReplicas": 1,
        "serviceURL": URL,
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "DeploymentReady",
                "message": "watcher-os-1 has 1/1 ready replicas",
                "lastTransitionTime": T1,
                "observedGeneration": 3,
            },
            {
                "type": "Progressing",
                "status": "False",
                "reason": "RolloutComplete",
                "message": "watcher-os-1 has 1/1 ready replicas",
                "lastTransitionTime": T1,
                "observedGeneration": 3,
            },
            {
                "type": "Degraded",
                "status": "False",
                "reason": "AsExpected",
                "message": "",
                "lastTransitionTime": T1,
                "observedGeneration": 3,
            },
        ],
    }


@pytest.mark.parametrize(
    ("observed", "phase", "reason"),
    [
        ({}, "Pending", "DeploymentPending"),
        (
            {"observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 1},
            "Pending",
            "DeploymentPending",
        ),
        ({"observedGeneration": 2, "replicas": 1}, "Progressing", "RolloutInProgress"),
        # The old pod is still there next to the updated one.
        (
            {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 1, "readyReplicas": 1},
            "Progressing",
            "RolloutInProgress",
        ),
    ],
)
def test_not_ready_yet(observed: dict[str, Any], phase: str, reason: str) -> None:
    result = compute(deployment=deployment(**observed))
    assert result["phase"] == phase
    assert conditions(result) == {
        "Ready": ("False", reason),
        "Progressing": ("True", reason),
        "Degraded": ("False", "AsExpected"),
    }


def test_stalled_rollout_is_degraded() -> None:
    stalled = deployment(
        observedGeneration=2,
        conditions=[
            {
                "type": "Progressing",
                "status": "False",
                "reason": "ProgressDeadlineExceeded",
                "message": 'ReplicaSet "x" has timed out progressing.',
            }
        ],
    )
    result = compute(deployment=stalled)
    assert result["phase"] == "Degraded"
    assert conditions(result) == {
        "Ready": ("False", "RolloutStalled"),
        "Progressing": ("False", "RolloutStalled"),
        "Degraded": ("True", "RolloutStalled"),
    }
    assert result["conditions"][2]["message"] == 'ReplicaSet "x" has timed out progressing.'


def test_missing_deployment_is_pending() -> None:
    result = compute(deployment=None)
    assert result["phase"] == "Pending"
    assert conditions(result)["Ready"] == ("False", "DeploymentMissing")
    assert result["readyReplicas"] == 0


def test_paused() -> None:
    scaling = compute(paused=True)
    assert scaling["phase"] == "Paused"
    assert conditions(scaling) == {
        "Ready": ("False", "Paused"),
        "Progressing": ("True", "ScalingDown"),
        "Degraded": ("False", "AsExpected"),
    }
    scaled = compute(paused=True, deployment=deployment(replicas=0, observedGeneration=2))
    assert conditions(scaled)["Progressing"] == ("False", "Paused")
    assert scaled["readyReplicas"] == 0


def test_refused() -> None:
    refusal = Refusal("StorageShrinkRefused", "spec.storage.size 1Gi is smaller than 5Gi")
    result = compute(refusal=refusal)
    assert result["phase"] == "Degraded"
    assert conditions(result) == {
        "Ready": ("False", "StorageShrinkRefused"),
        "Progressing": ("False", "StorageShrinkRefused"),
        "Degraded": ("True", "StorageShrinkRefused"),
    }
    assert result["conditions"][2]["message"] == refusal.message
    assert result["readyReplicas"] == 1  # the running service is still counted
    assert status.refusal_in(result, 3) == refusal
    assert status.refusal_in(result, 4) is None  # for another generation
    assert status.refusal_in(compute(), 3) is None


def test_transition_times_change_only_with_the_status() -> None:
    before = compute(deployment=deployment(observedGeneration=2), timestamp=T0)
    after = compute(previous=before, timestamp=T1)
    times = {cond["type"]: cond["lastTransitionTime"] for cond in after["conditions"]}
    # Ready and Progressing flipped; Degraded stayed False (only its reason may differ).
    assert times == {"Ready": T1, "Progressing": T1, "Degraded": T0}


def test_last_restart_is_kept_until_replaced() -> None:
    assert "lastRestartAt" not in compute()
    kept = compute(previous={"lastRestartAt": T0})
    assert kept["lastRestartAt"] == T0
    assert compute(previous={"lastRestartAt": T0}, last_restart_at=T1)["lastRestartAt"] == T1


def test_differs_compares_only_what_is_written() -> None:
    written = compute()
    assert not status.differs(written, {**written, "unrelated": 1})
    assert status.differs(written, {**written, "readyReplicas": 0})
    assert status.differs(written, {})


def test_now_is_rfc3339_utc() -> None:
    assert status.now().endswith("Z") and len(status.now()) == len(T0)


def test_a_failed_pass_marks_the_last_status_degraded() -> None:
    first = status.failed({}, generation=1, message="API request failed: 403", timestamp=T0)
    assert first["phase"] == "Degraded"
    assert "observedGeneration" not in first  # nothing has been reconciled
    assert conditions(first) == {
        "Ready": ("False", "ApplyFailed"),
        "Progressing": ("True", "ApplyFailed"),
        "Degraded": ("True", "ApplyFailed"),
    }
    ready = compute(timestamp=T0)
    later = status.failed(ready, generation=4, message="boom", timestamp=T1)
    assert later["observedGeneration"] == 3 and later["readyReplicas"] == 1
    assert conditions(later)["Ready"] == ("True", "DeploymentReady")  # still serving
    assert later["conditions"][2]["message"] == "boom"
    assert later["conditions"][2]["lastTransitionTime"] == T1
    again = status.failed(
        later, generation=4, message="boom again", timestamp="2026-04-01T00:00:00Z"
    )
    assert again["conditions"][2]["lastTransitionTime"] == T1
    recovered = compute(previous=again, timestamp="2026-04-02T00:00:00Z")
    assert conditions(recovered)["Degraded"] == ("False", "AsExpected")
