"""Whose an object is (ownership.py) and what the admin allows (policy.py): pure checks."""

from __future__ import annotations

from typing import Any

import pytest

from watcher_operator import conventions as c
from watcher_operator import ownership
from watcher_operator.policy import Policy, repository

UID = "u-1"
OURS = {c.LABEL_MANAGED_BY: c.MANAGED_BY, c.LABEL_INSTANCE: "os-1"}


def live(labels: dict[str, str] | None = None, owners: list[dict[str, Any]] | None = None) -> dict:
    meta: dict[str, Any] = {"name": "watcher-os-1"}
    if labels is not None:
        meta["labels"] = labels
    if owners is not None:
        meta["ownerReferences"] = owners
    return {"kind": "Service", "metadata": meta}


def reference(uid: str, kind: str = "WatcherInstance", controller: bool = True) -> dict:
    return {"kind": kind, "name": "x", "uid": uid, "controller": controller}


@pytest.mark.parametrize(
    "found",
    [
        live(OURS, [reference(UID)]),  # created by this instance
        live({}, [reference(UID)]),  # its labels edited away: the reference still says whose
        live(OURS),  # retained volume, or orphaned by --cascade=orphan: labelled as its own
        live(OURS, []),
        live(OURS, [reference("someone", kind="ConfigMap", controller=False)]),
    ],
)
def test_the_instances_own_objects(found: dict) -> None:
    assert ownership.conflict(found, "os-1", UID) is None


@pytest.mark.parametrize(
    ("found", "says"),
    [
        (live(), "Service watcher-os-1 already exists and is not this WatcherInstance's"),
        (live({"team": "other"}), "no controller reference to it, no labels"),
        (live({**OURS, c.LABEL_INSTANCE: "os-2"}), "already exists and is not"),
        (live({c.LABEL_INSTANCE: "os-1"}), "already exists and is not"),
        (live(OURS, [reference("u-9")]), "controlled by WatcherInstance x (uid u-9)"),
        (live(OURS, [reference("u-7", kind="ReplicaSet")]), "controlled by ReplicaSet x"),
    ],
)
def test_anything_else_is_a_conflict(found: dict, says: str) -> None:
    problem = ownership.conflict(found, "os-1", UID)
    assert problem is not None and says in problem
    assert "left alone" in problem


def test_the_routing_table_is_ours_only_when_labelled_so() -> None:
    wanted = {c.LABEL_MANAGED_BY: c.MANAGED_BY, c.LABEL_COMPONENT: "routes"}
    table = {"kind": "ConfigMap", "metadata": {"name": "watcher-routes", "labels": wanted}}
    assert ownership.labelled_conflict(table, wanted) is None
    theirs = {"kind": "ConfigMap", "metadata": {"name": "watcher-routes"}}
    problem = ownership.labelled_conflict(theirs, wanted)
    assert problem is not None and problem.startswith("ConfigMap watcher-routes already exists")


@pytest.mark.parametrize(
    ("image", "repo"),
    [
        ("ghcr.io/jcode-watcher/jcode-watcher:0.1.0", "ghcr.io/jcode-watcher/jcode-watcher"),
        ("registry:5000/a/b:1", "registry:5000/a/b"),
        ("registry:5000/a/b", "registry:5000/a/b"),
        ("a/b@sha256:abc", "a/b"),
        ("a/b:1@sha256:abc", "a/b"),
        ("busybox", "busybox"),
    ],
)
def test_repository(image: str, repo: str) -> None:
    assert repository(image) == repo


DEFAULT = "ghcr.io/jcode-watcher/jcode-watcher:0.1.0"


def test_by_default_only_the_default_images_repository_runs() -> None:
    policy = Policy()
    assert policy.image_allowed(DEFAULT, DEFAULT)
    assert policy.image_allowed("ghcr.io/jcode-watcher/jcode-watcher:0.2.0", DEFAULT)
    assert policy.image_allowed("ghcr.io/jcode-watcher/jcode-watcher@sha256:ab", DEFAULT)
    # A longer name with the same beginning is another repository.
    assert not policy.image_allowed("ghcr.io/jcode-watcher/jcode-watcher-evil:1", DEFAULT)
    assert not policy.image_allowed("docker.io/library/busybox:1", DEFAULT)
    refusal = policy.refusal("os-1", "busybox:1", DEFAULT)
    assert refusal is not None and refusal.reason == "ImageNotAllowed"
    assert "allowed: ghcr.io/jcode-watcher/jcode-watcher" in refusal.message


def test_an_allow_list_of_repositories_and_exact_references() -> None:
    policy = Policy(allowed_images=("mirror.example/watcher", "busybox:1.36"))
    assert policy.image_allowed("mirror.example/watcher:9", DEFAULT)
    assert policy.image_allowed("busybox:1.36", DEFAULT)
    assert not policy.image_allowed("busybox:1.37", DEFAULT)
    assert not policy.image_allowed(DEFAULT, DEFAULT)  # the list replaces the default
    assert Policy(allowed_images=("*",)).image_allowed("anything/at:all", DEFAULT)


def test_reserved_names_refuse_the_instances_that_would_take_them() -> None:
    policy = Policy(reserved_names=frozenset({"watcher-backend-service", "watcher-x-data"}))
    refusal = policy.refusal("backend-service", DEFAULT, DEFAULT)
    assert refusal is not None and refusal.reason == "ReservedName"
    assert "would name its children watcher-backend-service" in refusal.message
    assert policy.refusal("x", DEFAULT, DEFAULT) is not None  # its data volume's name
    assert policy.refusal("os-1", DEFAULT, DEFAULT) is None
