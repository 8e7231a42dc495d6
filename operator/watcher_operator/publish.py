"""Writing the gateway's routing table (ConfigMap watcher-routes; routes.py says what is in it).

After every pass a reconciler publishes the table with its own newest route; a deleted
instance's reconciler withdraws its route as it stops. The ConfigMap is written only while it
carries the operator's labels (see ownership.labelled_conflict): a ConfigMap of that name made by
someone else is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubernetes.client.exceptions import ApiException

from watcher_operator import ownership, routes
from watcher_operator.apply import Api
from watcher_operator.routes import Route

# How often a deleted instance recomputes the table when others write it meanwhile.
WITHDRAW_ATTEMPTS = 10


def conflict(found: Mapping[str, Any]) -> str | None:
    """Why a live ConfigMap of the table's name is not the operator's to write, or None."""
    return ownership.labelled_conflict(found, routes.LABELS)


def publish_routes(
    api: Api, others: Iterable[Route | None], namespace: str, own: Route | None
) -> bool:
    """Write the namespace's table: the other instances' routes as indexed, and this instance's
    as it is now (the index learns of its newest status only when the watch brings it back).

    True when this write added this instance's own route.
    """
    table = routes.config_map(namespace, routes.table([*others, own]))
    applied = api.ensure(table, conflict=conflict)
    return own is not None and routes.routed(applied.before, own) != routes.routed(
        applied.live, own
    )


def withdraw_route(api: Api, namespace: str, name: str) -> None:
    """The table without a deleted instance, from the instances as listed now (not the index,
    which may not know yet that others are being deleted too), written only over the version it
    was computed against. Of instances deleted together, the last one's write thus removes them
    all: no class stays routed with nobody left to correct it."""
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
            api.ensure(table, live, conflict=conflict)
            return
        except ApiException as exc:
            if exc.status != 409:  # 409: written meanwhile; computed again
                raise
