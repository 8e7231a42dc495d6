"""The operator's RBAC, listed once: every API call it (and Kopf for it) makes, and why.

manifests/rbac.yaml is rendered from this list (``python -m watcher_operator.rbac``), a test keeps
the two identical, and the end-to-end tests check every request the operator makes against
``allows``. Discovery (/api, /apis) needs no rule: every authenticated user may read it.

The install is namespace-scoped: the rules on the resources it creates are a Role in each
namespace the operator serves, so its token can create or change no workload elsewhere. Only
rules marked ``cluster_wide`` are in a ClusterRole: the cluster-scoped reads Kopf needs, and
WatcherInstances themselves, whose finalizer the operator must still be able to remove while a
namespace is being deleted, after that namespace's Role is already gone.
"""

from __future__ import annotations

import dataclasses

from watcher_operator import conventions as c

NAME = "watcher-operator"
NAMESPACE = "watcher"


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


def _flow(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(f'"{item}"' if item == "" else item for item in items) + "]"


def _rules(rules: list[Rule]) -> str:
    return "".join(
        f"  # {rule.why}\n"
        f"  - apiGroups: {_flow(rule.api_groups)}\n"
        f"    resources: {_flow(rule.resources)}\n"
        f"    verbs: {_flow(rule.verbs)}\n"
        for rule in rules
    )


def render() -> str:
    """manifests/rbac.yaml: ServiceAccount, ClusterRole and binding for the cluster-scoped reads,
    Role and binding for the rest in the operator's namespace (with a comment per rule)."""
    labels = (
        "  labels:\n"
        f"    {c.LABEL_NAME}: {c.APP_NAME}\n"
        f"    {c.LABEL_COMPONENT}: operator\n"
        f"    app.kubernetes.io/part-of: {c.APP_NAME}\n"
    )
    subjects = (
        f"subjects:\n  - kind: ServiceAccount\n    name: {NAME}\n    namespace: {NAMESPACE}\n"
    )

    def binding(kind: str, namespaced: bool) -> str:
        where = f"  namespace: {NAMESPACE}\n" if namespaced else ""
        return (
            "apiVersion: rbac.authorization.k8s.io/v1\n"
            f"kind: {kind}Binding\n"
            "metadata:\n"
            f"  name: {NAME}\n"
            f"{where}"
            f"{labels}"
            "roleRef:\n"
            "  apiGroup: rbac.authorization.k8s.io\n"
            f"  kind: {kind}\n"
            f"  name: {NAME}\n"
            f"{subjects}"
        )

    return (
        "# Generated by `python -m watcher_operator.rbac` from watcher_operator/rbac.py.\n"
        "# Least privilege: exactly the calls the operator (and Kopf on its behalf) makes, in a\n"
        f"# Role in namespace {NAMESPACE} (the one it serves) but for the cluster-wide rules.\n"
        "apiVersion: v1\n"
        "kind: ServiceAccount\n"
        "metadata:\n"
        f"  name: {NAME}\n"
        f"  namespace: {NAMESPACE}\n"
        f"{labels}"
        "---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\n"
        "kind: ClusterRole\n"
        "metadata:\n"
        f"  name: {NAME}\n"
        f"{labels}"
        "rules:\n"
        f"{_rules([rule for rule in RULES if rule.cluster_wide])}"
        "---\n"
        f"{binding('ClusterRole', namespaced=False)}"
        "---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\n"
        "kind: Role\n"
        "metadata:\n"
        f"  name: {NAME}\n"
        f"  namespace: {NAMESPACE}\n"
        f"{labels}"
        "rules:\n"
        f"{_rules([rule for rule in RULES if not rule.cluster_wide])}"
        "---\n"
        f"{binding('Role', namespaced=True)}"
    )


if __name__ == "__main__":
    print(render(), end="")
