"""Whose a live object is. The operator changes only objects that are already its own.

A child belongs to an instance when its controller reference names that instance (its uid), or,
with no controller reference at all, when its labels say so (``managed-by: watcher-operator`` and
``instance: <name>``): a retained data volume, or children orphaned by ``kubectl delete
--cascade=orphan``, are taken back. Anything else of the same name (the gateway's Service, a
user's own Deployment, a volume made by hand) is someone else's: it is reported, never patched,
never given an owner reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watcher_operator import conventions as c


def conflict(live: Mapping[str, Any], instance: str, uid: str) -> str | None:
    """Why ``live`` is not the instance's to change, or None if it is."""
    meta = live.get("metadata") or {}
    what = f"{live.get('kind', 'Object')} {meta.get('name')}"
    controller = next(
        (ref for ref in meta.get("ownerReferences") or [] if ref.get("controller")), None
    )
    if controller is not None:
        if controller.get("uid") == uid:
            return None
        return (
            f"{what} is controlled by {controller.get('kind')} {controller.get('name')} "
            f"(uid {controller.get('uid')}), not by this WatcherInstance; it is left alone"
        )
    labels = meta.get("labels") or {}
    if labels.get(c.LABEL_MANAGED_BY) == c.MANAGED_BY and labels.get(c.LABEL_INSTANCE) == instance:
        return None
    return (
        f"{what} already exists and is not this WatcherInstance's (no controller reference to "
        f"it, no labels {c.LABEL_MANAGED_BY}={c.MANAGED_BY} and {c.LABEL_INSTANCE}={instance}); "
        "it is left alone: rename the WatcherInstance or remove that object"
    )


def labelled_conflict(live: Mapping[str, Any], labels: Mapping[str, str]) -> str | None:
    """For objects no instance owns (the routing table): ours only if labelled as ours."""
    meta = live.get("metadata") or {}
    have = meta.get("labels") or {}
    if all(have.get(key) == value for key, value in labels.items()):
        return None
    wanted = ", ".join(f"{key}={value}" for key, value in labels.items())
    return (
        f"{live.get('kind', 'Object')} {meta.get('name')} already exists without the labels "
        f"{wanted}: it is not the operator's, and is left alone"
    )
