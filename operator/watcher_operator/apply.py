"""Create-if-missing, patch-if-different: the only code that writes children, via the client.

Objects travel as plain dicts (``_preload_content=False``): the operator renders dicts and compares
dicts, and raw JSON keeps every field the server returns, typed models or not.

A live object "matches" a desired one when every field the desired one sets has the same value
(see ``matches``): fields defaulted by the API server or added by other controllers never cause a
patch. A patch is a JSON merge patch of the whole desired object, so lists the operator owns
(containers, env, ports) are replaced as a whole rather than merged item by item.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import kubernetes.client
import kubernetes.config
from kubernetes.client.exceptions import ApiException

from watcher_operator import conventions as c
from watcher_operator.spec import quantity

MERGE_PATCH = "application/merge-patch+json"
PARTIAL_METADATA = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
# Fields the operator wants absent although the desired object cannot say so (a merge patch
# removes a field only when told to, with null). Strategy Recreate forbids rollingUpdate.
MUST_BE_ABSENT: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "Deployment": (("spec", "strategy", "rollingUpdate"),),
}


# Built-in kinds the operator writes: (Api attribute, noun of the client's *_namespaced_* methods).
_TYPED_KINDS: Mapping[str, tuple[str, str]] = {
    "Deployment": ("apps", "deployment"),
    "Service": ("core", "service"),
    "PersistentVolumeClaim": ("core", "persistent_volume_claim"),
    "ConfigMap": ("core", "config_map"),
}


class Conflict(Exception):
    """The object exists but is not the operator's to change (see ownership.py)."""


class Outcome(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class Ops(NamedTuple):
    """The client's calls on one kind, on dicts, each taking the namespace first."""

    read: Callable[[str, str], dict[str, Any]]  # (namespace, name)
    create: Callable[[str, Mapping[str, Any]], dict[str, Any]]  # (namespace, body)
    patch: Callable[[str, str, Mapping[str, Any]], dict[str, Any]]  # (namespace, name, patch)
    delete: Callable[[str, str], dict[str, Any]]  # (namespace, name)


@dataclasses.dataclass(frozen=True)
class Applied:
    outcome: Outcome
    live: dict[str, Any]  # the object as the server returned it after the write (or the read)
    before: dict[str, Any] | None  # the object before the write; None if it was created


def _under_quantities(path: tuple[str, ...]) -> bool:
    return any(part in ("requests", "limits") for part in path)


def matches(desired: Any, live: Any, path: tuple[str, ...] = ()) -> bool:
    """Whether ``live`` has every value ``desired`` sets (dicts by key, lists item by item).

    An empty list or map matches an absent field: the API server drops empty optional fields.
    """
    if isinstance(desired, Mapping):
        return isinstance(live, Mapping) and all(
            matches(value, live[key], (*path, key)) if key in live else value in ([], {})
            for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(live, list)
            and len(desired) == len(live)
            and all(matches(d, v, path) for d, v in zip(desired, live, strict=True))
        )
    if desired == live:
        return True
    # The server normalises quantities ("0.5" comes back as "500m").
    if _under_quantities(path):
        wanted, actual = quantity(desired), quantity(live)
        return wanted is not None and wanted == actual
    return False


def _dig(obj: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(obj, Mapping) or key not in obj:
            return False
        obj = obj[key]
    return True


def _with_removals(desired: Mapping[str, Any], live: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch: the desired object, plus a null for each field that must go."""
    patch: dict[str, Any] = json.loads(json.dumps(desired))
    for path in MUST_BE_ABSENT.get(desired["kind"], ()):
        if _dig(live, path):
            node = patch
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = None
    return patch


class Api:
    """The handful of API calls the operator makes, on dicts, with one timeout for all."""

    def __init__(self, client: kubernetes.client.ApiClient, *, timeout: float) -> None:
        self.client = client
        self.timeout = timeout
        self.core = kubernetes.client.CoreV1Api(client)
        self.apps = kubernetes.client.AppsV1Api(client)
        self.custom = kubernetes.client.CustomObjectsApi(client)
        self.apis = kubernetes.client.ApisApi(client)

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        response = fn(*args, _preload_content=False, _request_timeout=self.timeout, **kwargs)
        found: dict[str, Any] = json.loads(response.data)
        return found

    def _ops(self, kind: str) -> Ops:
        """The calls on a kind the operator manages."""
        if kind in _TYPED_KINDS:
            api = getattr(self, _TYPED_KINDS[kind][0])
            noun = _TYPED_KINDS[kind][1]
            read, create, patch, delete = (
                getattr(api, f"{verb}_namespaced_{noun}")
                for verb in ("read", "create", "patch", "delete")
            )
            return Ops(
                lambda ns, name: self._call(read, name, ns),
                lambda ns, body: self._call(create, ns, body),
                lambda ns, name, body: self._call(patch, name, ns, body, _content_type=MERGE_PATCH),
                lambda ns, name: self._call(delete, name, ns),
            )
        if kind == "ServiceMonitor":
            cu = self.custom
            where = (c.MONITORING_GROUP, c.MONITORING_VERSION)
            return Ops(
                lambda ns, name: self._call(
                    cu.get_namespaced_custom_object, *where, ns, c.SERVICE_MONITORS, name
                ),
                lambda ns, body: self._call(
                    cu.create_namespaced_custom_object, *where, ns, c.SERVICE_MONITORS, body
                ),
                lambda ns, name, body: self._call(
                    cu.patch_namespaced_custom_object,
                    *where,
                    ns,
                    c.SERVICE_MONITORS,
                    name,
                    body,
                    _content_type=MERGE_PATCH,
                ),
                lambda ns, name: self._call(
                    cu.delete_namespaced_custom_object, *where, ns, c.SERVICE_MONITORS, name
                ),
            )
        raise ValueError(f"the operator does not manage {kind} objects")

    def read(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self._ops(kind).read(namespace, name)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def delete(self, kind: str, namespace: str, name: str) -> bool:
        """Delete an object; False if it was already gone."""
        try:
            self._ops(kind).delete(namespace, name)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def ensure(
        self,
        desired: Mapping[str, Any],
        live: Any = ...,
        *,
        conflict: Callable[[Mapping[str, Any]], str | None],
    ) -> Applied:
        """Create the object if missing, patch it if any field it sets differs, else leave it.

        ``live`` is the object as just read (None: absent), if the caller has it already.
        ``conflict`` says why an existing object is not ours to change (then Conflict is raised
        and nothing is written), or None.
        """
        kind, meta = desired["kind"], desired["metadata"]
        ops = self._ops(kind)
        namespace, name = meta["namespace"], meta["name"]
        if live is ...:
            live = self.read(kind, namespace, name)
        if live is None:
            try:
                return Applied(Outcome.CREATED, ops.create(namespace, dict(desired)), None)
            except ApiException as exc:
                if exc.status != 409:  # 409: created meanwhile (e.g. by a concurrent handler)
                    raise
            live = ops.read(namespace, name)
        if (problem := conflict(live)) is not None:
            raise Conflict(problem)
        absent = all(not _dig(live, path) for path in MUST_BE_ABSENT.get(kind, ()))
        if matches(desired, live) and absent:
            return Applied(Outcome.UNCHANGED, live, live)
        patched = ops.patch(namespace, name, _with_removals(desired, live))
        return Applied(Outcome.UPDATED, patched, live)

    def has_api(self, group: str, version: str) -> bool:
        """Whether the cluster serves an API group version (discovery; needs no RBAC rule)."""
        groups = self._call(self.apis.get_api_versions).get("groups") or []
        return any(
            entry.get("name") == group
            and any(v.get("version") == version for v in entry.get("versions") or [])
            for entry in groups
        )

    def secret_metadata(self, namespace: str, name: str) -> dict[str, Any] | None:
        """A Secret's metadata (None if it does not exist), asked for as PartialObjectMetadata:
        the API server sends no data, so no credential ever reaches the operator."""
        try:
            return self._call(
                self.core.read_namespaced_secret,
                name,
                namespace,
                _headers={"Accept": PARTIAL_METADATA},
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def patch_instance_status(
        self, namespace: str, name: str, status: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._call(
            self.custom.patch_namespaced_custom_object_status,
            c.GROUP,
            c.VERSION,
            namespace,
            c.PLURAL,
            name,
            {"status": dict(status)},
            _content_type=MERGE_PATCH,
        )

    def list_instances(self, namespace: str) -> list[dict[str, Any]]:
        found = self._call(
            self.custom.list_namespaced_custom_object, c.GROUP, c.VERSION, namespace, c.PLURAL
        )
        return list(found.get("items") or [])

    def release_finalizers(self, namespace: str) -> int:
        """Remove the operator's finalizer from the namespace's instances being deleted; the
        number of instances still there. (For a namespace being deleted: see handlers.py.)"""
        found = self.list_instances(namespace)
        for item in found:
            meta = item["metadata"]
            finalizers = meta.get("finalizers") or []
            if meta.get("deletionTimestamp") and c.FINALIZER in finalizers:
                rest = [name for name in finalizers if name != c.FINALIZER]
                try:
                    self._call(
                        self.custom.patch_namespaced_custom_object,
                        c.GROUP,
                        c.VERSION,
                        namespace,
                        c.PLURAL,
                        meta["name"],
                        # The resourceVersion makes it a compare-and-swap of the list.
                        {
                            "metadata": {
                                "resourceVersion": meta["resourceVersion"],
                                "finalizers": rest,
                            }
                        },
                        _content_type=MERGE_PATCH,
                    )
                except ApiException as exc:
                    if exc.status not in (404, 409):  # gone, or changed: looked at again later
                        raise
        return len(found)


def client_from_environment() -> kubernetes.client.ApiClient:
    """A client configured as Kopf's own login is: in-cluster first, else the kubeconfig."""
    configuration = kubernetes.client.Configuration()
    try:
        kubernetes.config.load_incluster_config(client_configuration=configuration)
    except kubernetes.config.ConfigException:
        # $KUBECONFIG is read now, not when the kubernetes package was imported.
        kubernetes.config.load_kube_config(
            config_file=os.environ.get("KUBECONFIG"), client_configuration=configuration
        )
    return kubernetes.client.ApiClient(configuration)
