"""The operator's RBAC, listed once: every API call it (and Kopf for it) makes, and why.

`make manifests` writes this list into the chart (the rules block of _helpers.tpl), and from the
chart into manifests/rbac.yaml; tests fail while either is stale. The operator tests check every
request the operator makes against ``allows``, and the end-to-end tests run it with the chart's
RBAC on a real API server. Discovery (/api, /apis) needs no rule: every authenticated user may
read it.

The install is namespace-scoped: the rules on the resources it creates are a Role in each
namespace the operator serves, so its token can create or change no workload elsewhere. Only
rules marked ``cluster_wide`` are in a ClusterRole: the cluster-scoped reads Kopf needs, and
WatcherInstances themselves, whose finalizer the operator must still be able to remove while a
namespace is being deleted, after that namespace's Role is already gone.
"""

from __future__ import annotations

import dataclasses

from watcher_operator import conventions as c


@dataclasses.dataclass(frozen=True)
class Rule:
    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    why: str
    # In the ClusterRole even when the rest is in per-namespace Roles.
    cluster_wide: bool = False


RULES: tuple[Rule, ...] = (
    Rule(
        (c.GROUP,),
        (f"{c.PLURAL}/status",),
        ("patch",),
        "The operator writes status (phase, conditions, readyReplicas, ...).",
    ),
    Rule(
        ("apps",),
        ("deployments",),
        ("get", "list", "watch", "create", "patch"),
        "Each instance's Deployment; watched for its readiness.",
    ),
    Rule(
        ("",),
        ("services", "persistentvolumeclaims"),
        ("get", "create", "patch"),
        "Each instance's Service and data volume (never deleted by the operator).",
    ),
    Rule(
        ("",),
        ("configmaps",),
        ("get", "create", "patch"),
        "The gateway's routing table (watcher-routes); each instance's Litestream configuration.",
    ),
    Rule(
        (c.MONITORING_GROUP,),
        (c.SERVICE_MONITORS,),
        ("get", "create", "patch", "delete"),
        "Each instance's ServiceMonitor; deleted when spec.serviceMonitor.enabled turns false.",
    ),
    Rule(
        ("",),
        ("events",),
        ("create",),
        "Events on WatcherInstances: created, updated, restarted, repaired, refused.",
    ),
    Rule(
        ("",),
        ("secrets",),
        ("get",),
        "Only the metadata of the Secret spec.backup names: BackupReady, restart on change.",
    ),
    Rule(
        (c.GROUP,),
        (c.PLURAL,),
        ("list", "watch", "patch"),
        "Kopf watches WatcherInstances and patches its finalizer on them, also in a namespace "
        "being deleted.",
        cluster_wide=True,
    ),
    Rule(
        ("",),
        ("namespaces",),
        ("list", "watch"),
        "Kopf follows the namespaces it serves; reconcilers stop in a namespace being deleted.",
        cluster_wide=True,
    ),
    Rule(
        ("apiextensions.k8s.io",),
        ("customresourcedefinitions",),
        ("list", "watch"),
        "Kopf notices the WatcherInstance CRD being installed after the operator started.",
        cluster_wide=True,
    ),
)


def allows(group: str, resource: str, verb: str) -> bool:
    """Whether the rules grant ``verb`` on ``resource`` (e.g. 'watcherinstances/status')."""
    return any(
        group in rule.api_groups and resource in rule.resources and verb in rule.verbs
        for rule in RULES
    )
