"""The gateway's routing table: which service answers for which class.

The gateway (`python -m watcher gateway`) mounts ConfigMap `watcher-routes` of its namespace and
reads key `routes.json`, a JSON object {classDiv: serviceURL}. The operator keeps that ConfigMap
in every namespace with WatcherInstances. A class is listed from the moment its instance is
accepted (Pending, Progressing, Ready or Paused) until it is deleted: while its service is down
(first start, a restart, an upgrade, paused) the gateway then answers 503 with Retry-After — "come
back" — rather than 404 "no instance serves this class". A refused (Degraded) instance is never
listed: it serves nothing, and a duplicate must not steal its class.

Every instance's reconciler publishes the whole table after each pass, from the operator's index
of all instances plus its own latest status, and removes itself when it stops for a deletion
(publish.py writes it). Concurrent publishers converge: each writes the table as it sees it now,
and the next pass of any of them (at most repair_interval later) corrects a stale view.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from watcher_operator import conventions as c

CONFIG_MAP = "watcher-routes"
KEY = "routes.json"
COMPONENT = "routes"
ROUTED_PHASES = ("Pending", "Progressing", "Ready", "Paused")
# The ConfigMap's labels: the operator writes it only while it carries them (it is its own).
LABELS = {c.LABEL_NAME: c.APP_NAME, c.LABEL_COMPONENT: COMPONENT, c.LABEL_MANAGED_BY: c.MANAGED_BY}


class Route(NamedTuple):
    """One line of the table: the gateway sends class ``class_div`` to ``url``."""

    class_div: str
    url: str


def entry(
    spec: Mapping[str, Any] | None,
    status: Mapping[str, Any] | None,
    meta: Mapping[str, Any] | None,
) -> Route | None:
    """The route of an instance that should receive traffic, else None."""
    if (meta or {}).get("deletionTimestamp"):
        return None
    status = status or {}
    class_div, url = (spec or {}).get("classDiv"), status.get("serviceURL")
    if status.get("phase") not in ROUTED_PHASES or not class_div or not url:
        return None
    return Route(str(class_div), str(url))


def table(entries: Iterable[Route | None]) -> dict[str, str]:
    """The routing table, sorted by class; a second instance for a class is refused (so never
    listed), but should two claim it the first in sorted order wins, deterministically."""
    routes: dict[str, str] = {}
    for item in sorted(e for e in entries if e is not None):
        routes.setdefault(*item)
    return routes


def config_map(namespace: str, routes: Mapping[str, str]) -> dict[str, Any]:
    """The ConfigMap the gateway mounts. Not owned by any one instance: it outlives each of them."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": CONFIG_MAP,
            "namespace": namespace,
            "labels": dict(LABELS),
        },
        "data": {KEY: json.dumps(dict(routes), indent=2, sort_keys=True) + "\n"},
    }


def routed(config_map: Mapping[str, Any] | None, route: Route) -> bool:
    """Whether a live routing-table ConfigMap sends `route`'s class to its URL."""
    raw = ((config_map or {}).get("data") or {}).get(KEY)
    if not isinstance(raw, str) or not raw:
        return False
    try:
        found = json.loads(raw)
    except ValueError:
        return False
    return isinstance(found, dict) and found.get(route.class_div) == route.url
