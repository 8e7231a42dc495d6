"""KMock, plus the parts of kube-apiserver behaviour that the operator, Kopf and kubectl rely on.

KMock serves discovery, lists, watches and object storage, but leaves out what a real API server
does around them. This subclass adds, as faithfully as a few lines allow:

- ``metadata.uid``, ``creationTimestamp``, ``generation`` (bumped on changes outside metadata and
  status) and a cluster-wide ``resourceVersion`` counter on every write; a write that changes
  nothing keeps the old resourceVersion and emits no watch event;
- ``generateName`` (Kopf posts its Events that way), 409 on duplicate names;
- JSON merge patch (RFC 7386) and JSON patch, with ``test`` failures as 422 (Kopf relies on that
  for its finalizers); strategic merge patch is approximated as a merge patch without ``$``
  directives; ``metadata.resourceVersion`` in a patch is a precondition (409 on mismatch);
- the ``status`` subresource split: a main-resource write never changes ``status``, a ``/status``
  write changes nothing else; ``status`` is dropped on create;
- watches that start from a resourceVersion (replaying the retained event log, 410 Gone when it is
  older than the log) and end after ``timeoutSeconds``, so clients really resume;
- ``labelSelector`` (equality and existence) and ``fieldSelector`` (on metadata.name and
  metadata.namespace) on lists and watches;
- deletion with finalizers (``deletionTimestamp`` first, removal when the last finalizer goes);
- the garbage collector: when an object is removed, its dependents (by ``ownerReferences.uid``)
  are removed too, or just lose the reference when another owner still exists, or when the delete
  asked for ``propagationPolicy: Orphan``. Foreground deletion is treated as background, and the
  collection happens synchronously within the DELETE request rather than moments later;
- namespaces: "default" and "kube-system" exist; creating in a missing namespace is a 404;
- CustomResourceDefinitions: creating one serves its resource (with the status subresource if
  declared) and marks it Established; deleting one removes its objects.

Bodies are JSON only (protobuf is refused with 415: ``kubectl create namespace`` sends it, so
tests apply manifests instead). Everything runs on the event loop of the server, and no mutation
awaits anything, so each request is atomic without a lock.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import datetime
import secrets
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import aiohttp.web
import kmock
from kmock import resource
from kmock._internal import parsing


def _parse_path(path: str) -> parsing.ParsedPath:
    """KMock 0.8's URL parser, except that /api/v1/namespaces[/<name>[/status]] is the
    cluster-scoped Namespace resource (KMock takes "namespaces" as a namespace prefix and fails
    on the bare collection)."""
    parts = path.strip("/").split("/")
    if parts[:3] == ["api", "v1", "namespaces"] and (
        len(parts) <= 4 or (len(parts) == 5 and parts[4] in ("status", "finalize"))
    ):
        name = parts[3] if len(parts) > 3 else None
        subresource = parts[4] if len(parts) > 4 else None
        return parsing.ParsedPath("", "v1", "namespaces", None, name, subresource)
    return _kmock_parse_path(path)


_kmock_parse_path = parsing.parse_path
parsing.parse_path = _parse_path  # used by kmock's request parsing (rendering.Request._parse)

NAMESPACES = resource("", "v1", "namespaces")
CRDS = resource("apiextensions.k8s.io", "v1", "customresourcedefinitions")
ALL_VERBS = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
EVENT_LOG_SIZE = 10_000

Key = tuple[resource, str | None, str]


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: dicts merge recursively, ``null`` deletes, everything else replaces."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if key.startswith("$"):  # strategic-merge-patch directives: not emulated
            continue
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def parse_label_selector(selector: str) -> list[tuple[str, str, str | None]]:
    """``a=b,c!=d,e,!f`` into (op, key, value) terms; set-based syntax is not supported."""
    terms: list[tuple[str, str, str | None]] = []
    for raw in filter(None, (part.strip() for part in selector.split(","))):
        if "(" in raw or " in " in raw or " notin " in raw:
            raise kmock.KubernetesError(400, "BadRequest", f"unsupported selector: {raw}")
        if "!=" in raw:
            key, value = raw.split("!=", 1)
            terms.append(("!=", key.strip(), value.strip()))
        elif "=" in raw:
            key, value = raw.replace("==", "=").split("=", 1)
            terms.append(("=", key.strip(), value.strip()))
        elif raw.startswith("!"):
            terms.append(("!", raw[1:].strip(), None))
        else:
            terms.append(("exists", raw, None))
    return terms


def labels_match(labels: Mapping[str, str], terms: list[tuple[str, str, str | None]]) -> bool:
    for op, key, value in terms:
        if op == "=" and labels.get(key) != value:
            return False
        if op == "!=" and labels.get(key) == value:
            return False
        if op == "exists" and key not in labels:
            return False
        if op == "!" and key in labels:
            return False
    return True


class ApiServer(kmock.KubernetesEmulator):
    """An in-memory Kubernetes API server over HTTP, good enough for Kopf, the client, kubectl."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.revision = 0
        self.event_log: collections.deque[tuple[int, resource, dict[str, Any]]] = collections.deque(
            maxlen=EVENT_LOG_SIZE
        )
        self.watchers: set[tuple[resource, str | None, asyncio.Queue[dict[str, Any]]]] = set()
        with warnings.catch_warnings():  # KMock 0.8 reads its bundle with a deprecated API
            warnings.simplefilter("ignore", DeprecationWarning)
            self.resources.load_bundled()
        # The official client asks for discovery at /apis/ (the real server answers both).
        self.fallback["get /apis/"] << self._serve_apis
        for namespace in ("default", "kube-system"):
            self.create_object(NAMESPACES, None, {"metadata": {"name": namespace}})

    # -- reading helpers for tests (the state as the API would return it) --------------------

    def read_object(
        self, res: str | resource, namespace: str | None, name: str
    ) -> dict[str, Any] | None:
        key = (resource(res), namespace, name)
        if key not in self.objects or self.objects[key].deleted:
            return None
        return copy.deepcopy(self.objects[key].raw)

    def object_versions(
        self, res: str | resource, namespace: str | None, name: str
    ) -> list[dict | None]:
        """Every stored version of an object, oldest first (None marks a deletion)."""
        key = (resource(res), namespace, name)
        if key not in self.objects:
            return []
        return [None if v is None else copy.deepcopy(v.raw) for v in self.objects[key].history]

    def list_objects(
        self, res: str | resource, namespace: str | None = None
    ) -> list[dict[str, Any]]:
        return [copy.deepcopy(obj.raw) for obj in self._live(resource(res), namespace)]

    # -- request dispatch ------------------------------------------------------------------

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        # Skip KubernetesEmulator's own bookkeeping of writes: the _serve_* methods below do it,
        # and only when a request reaches them (so a test's injected error prevents the write).
        return await super(kmock.KubernetesEmulator, self)._handle(request)

    def _info(self, request: kmock.Request) -> kmock.ResourceInfo:
        res = request.resource
        if res is None or res not in set(self.resources):
            raise kmock.KubernetesError(404, "NotFound", f"the server could not find {res}")
        return self.resources[res]

    def _live(self, res: resource, namespace: str | None) -> Iterator[kmock.Object]:
        for (r, ns, _), obj in list(self.objects.items()):
            if r == res and (namespace is None or ns == namespace) and not obj.deleted:
                yield obj

    def _find_uid(self, uid: str) -> dict[str, Any] | None:
        for obj in self.objects.values():
            if not obj.deleted and obj.raw.get("metadata", {}).get("uid") == uid:
                return obj.raw
        return None

    # -- writes ----------------------------------------------------------------------------

    def _record(self, res: resource, event_type: str, body: dict[str, Any]) -> None:
        event = {"type": event_type, "object": copy.deepcopy(body)}
        self.event_log.append((self.revision, res, event))
        namespace = body.get("metadata", {}).get("namespace")
        for wres, wns, queue in list(self.watchers):
            if wres == res and (wns is None or wns == namespace):
                queue.put_nowait(event)

    def _bump(self, body: dict[str, Any]) -> None:
        self.revision += 1
        body.setdefault("metadata", {})["resourceVersion"] = str(self.revision)

    def create_object(
        self, res: resource, namespace: str | None, body: dict[str, Any]
    ) -> dict[str, Any]:
        info = self.resources[res]
        body = copy.deepcopy(body)
        meta = body.setdefault("metadata", {})
        if namespace is not None and meta.get("namespace", namespace) != namespace:
            raise kmock.KubernetesError(400, "BadRequest", "the namespace does not match the URL")
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise kmock.KubernetesError(422, "Invalid", "name or generateName is required")
            meta["name"] = meta["generateName"] + secrets.token_hex(3)[:5]
        if info.namespaced and self.read_object(NAMESPACES, None, namespace or "") is None:
            raise kmock.KubernetesError(404, "NotFound", f'namespaces "{namespace}" not found')
        key: Key = (res, namespace if info.namespaced else None, meta["name"])
        if key in self.objects and not self.objects[key].deleted:
            raise kmock.KubernetesError(
                409, "AlreadyExists", f'{res.plural} "{meta["name"]}" exists'
            )
        if info.namespaced:
            meta["namespace"] = namespace
        for field in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion"):
            meta.pop(field, None)
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=now_rfc3339(), generation=1)
        body.setdefault("apiVersion", f"{res.group}/{res.version}".lstrip("/"))
        body.setdefault("kind", info.kind)
        if "status" in info.subresources:
            body.pop("status", None)
        self._bump(body)
        if key in self.objects:
            self.objects[key].create(body)
        else:
            self.objects[key] = body
        self._record(res, "ADDED", body)
        if res == CRDS:
            self._register_crd(body)
        return copy.deepcopy(body)

    def patch_object(
        self,
        res: resource,
        namespace: str | None,
        name: str,
        patch: Any,
        *,
        subresource: str | None = None,
    ) -> dict[str, Any]:
        info = self.resources[res]
        key: Key = (res, namespace if info.namespaced else None, name)
        if key not in self.objects or self.objects[key].deleted:
            raise kmock.KubernetesError(404, "NotFound", f'{res.plural} "{name}" not found')
        if subresource not in (None, "status") or (
            subresource and subresource not in info.subresources
        ):
            raise kmock.KubernetesError(404, "NotFound", f"no subresource {subresource}")
        old = copy.deepcopy(self.objects[key].raw)
        if isinstance(patch, list):
            try:
                new = kmock.Object(copy.deepcopy(old))
                new.patch(patch)
                new = copy.deepcopy(new.raw)
            except Exception as exc:  # a failed "test" op, a missing path: the patch is invalid
                raise kmock.KubernetesError(422, "Invalid", f"the patch failed: {exc!r}") from exc
        else:
            precondition = (patch.get("metadata") or {}).get("resourceVersion")
            if precondition is not None and precondition != old["metadata"]["resourceVersion"]:
                raise kmock.KubernetesError(409, "Conflict", "the object has been modified")
            new = merge_patch(old, patch)
        if subresource == "status":
            new = dict(old, status=new["status"]) if "status" in new else dict(old)
            if "status" not in new:
                new.pop("status", None)
        elif "status" in info.subresources:
            new.pop("status", None)
            if "status" in old:
                new["status"] = old["status"]
        # Identity is immutable: a patch cannot rename or re-own an object by accident.
        new["metadata"] = dict(new.get("metadata") or {})
        for field in ("name", "namespace", "uid", "creationTimestamp", "resourceVersion"):
            if field in old["metadata"]:
                new["metadata"][field] = old["metadata"][field]
        if _content(new) != _content(old):
            new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        if new == old:
            return old
        meta = new["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            self._remove(key, new)
            return new
        self._bump(new)
        self.objects[key].history.append(copy.deepcopy(new))
        self._record(res, "MODIFIED", new)
        return copy.deepcopy(new)

    def delete_object(
        self, res: resource, namespace: str | None, name: str, *, propagation: str = "Background"
    ) -> dict[str, Any]:
        info = self.resources[res]
        key: Key = (res, namespace if info.namespaced else None, name)
        if key not in self.objects or self.objects[key].deleted:
            raise kmock.KubernetesError(404, "NotFound", f'{res.plural} "{name}" not found')
        body = copy.deepcopy(self.objects[key].raw)
        meta = body["metadata"]
        if meta.get("finalizers"):
            if not meta.get("deletionTimestamp"):
                meta.update(deletionTimestamp=now_rfc3339(), deletionGracePeriodSeconds=0)
                self._bump(body)
                self.objects[key].history.append(copy.deepcopy(body))
                self._record(res, "MODIFIED", body)
            return body
        self._remove(key, body, propagation=propagation)
        return body

    def _remove(self, key: Key, body: dict[str, Any], *, propagation: str = "Background") -> None:
        res = key[0]
        self._bump(body)
        self.objects[key].delete()
        self._record(res, "DELETED", body)
        if res == CRDS:
            self._unregister_crd(body)
        self._collect_garbage(body["metadata"]["uid"], orphan=propagation == "Orphan")

    def _collect_garbage(self, owner_uid: str, *, orphan: bool) -> None:
        for (res, ns, name), obj in list(self.objects.items()):
            if obj.deleted:
                continue
            refs = obj.raw.get("metadata", {}).get("ownerReferences") or []
            if not any(ref.get("uid") == owner_uid for ref in refs):
                continue
            others = [ref for ref in refs if ref.get("uid") != owner_uid]
            if orphan or any(self._find_uid(ref.get("uid", "")) for ref in others):
                self.patch_object(res, ns, name, {"metadata": {"ownerReferences": others or None}})
            else:
                self.delete_object(res, ns, name)

    # -- CustomResourceDefinitions ---------------------------------------------------------

    def _register_crd(self, crd: dict[str, Any]) -> None:
        spec, names = crd["spec"], crd["spec"]["names"]
        for version in spec["versions"]:
            if version.get("served", True):
                self.resources[resource(spec["group"], version["name"], names["plural"])] = (
                    kmock.ResourceInfo(
                        kind=names["kind"],
                        singular=names.get("singular", names["kind"].lower()),
                        namespaced=spec["scope"] == "Namespaced",
                        verbs=ALL_VERBS,
                        shortnames=names.get("shortNames", []),
                        categories=names.get("categories", []),
                        subresources=set(version.get("subresources") or {}),
                    )
                )
        conditions = [
            {"type": kind, "status": "True", "reason": reason, "lastTransitionTime": now_rfc3339()}
            for kind, reason in [
                ("NamesAccepted", "NoConflicts"),
                ("Established", "InitialNamesAccepted"),
            ]
        ]
        status = {"acceptedNames": names, "conditions": conditions, "storedVersions": []}
        self.patch_object(
            CRDS, None, crd["metadata"]["name"], {"status": status}, subresource="status"
        )

    def _unregister_crd(self, crd: dict[str, Any]) -> None:
        spec = crd["spec"]
        for version in spec["versions"]:
            res = resource(spec["group"], version["name"], spec["names"]["plural"])
            for obj in list(self._live(res, None)):
                meta = obj.raw["metadata"]
                self._remove((res, meta.get("namespace"), meta["name"]), copy.deepcopy(obj.raw))
            self.resources.pop(res, None)

    # -- the HTTP endpoints (KMock's fallbacks for each Kubernetes action) ------------------

    async def _serve_version(self, request: kmock.Request) -> kmock.Payload:
        # KMock's own answer says groupVersion "/v1" for the core group and gives subresources
        # their parent's short names, which kubectl rejects; this is the real server's shape.
        group, version = request.resource.group, request.resource.version
        entries = []
        for res in self.resources:
            if res.group != group or res.version != version:
                continue
            info = self.resources[res]
            entries.append(
                {
                    "name": res.plural,
                    "singularName": info.singular or "",
                    "namespaced": bool(info.namespaced),
                    "kind": info.kind,
                    "verbs": sorted(info.verbs),
                    **({"shortNames": sorted(info.shortnames)} if info.shortnames else {}),
                    **({"categories": sorted(info.categories)} if info.categories else {}),
                }
            )
            for sub in sorted(info.subresources):
                entries.append(
                    {
                        "name": f"{res.plural}/{sub}",
                        "singularName": "",
                        "namespaced": bool(info.namespaced),
                        "kind": "Scale" if sub == "scale" else info.kind,
                        "verbs": ["get", "patch", "update"],
                    }
                )
        if not entries:
            raise kmock.KubernetesError(404, "NotFound", f"no API {group}/{version}")
        return {
            "apiVersion": "v1",
            "kind": "APIResourceList",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": entries,
        }

    def _json_only(self, request: kmock.Request) -> None:
        if "protobuf" in request.headers.get("Content-Type", ""):
            raise kmock.KubernetesError(415, "UnsupportedMediaType", "only JSON is served")

    async def _serve_create(self, request: kmock.Request) -> kmock.Payload:
        info = self._info(request)
        self._json_only(request)
        namespace = request.namespace if info.namespaced else None
        body = self.create_object(request.resource, namespace, request.data or {})
        return kmock.Response(status=201, payload=body)

    async def _serve_update(self, request: kmock.Request) -> kmock.Payload:
        self._info(request)
        self._json_only(request)
        return self.patch_object(
            request.resource,
            request.namespace,
            request.name,
            request.data,
            subresource=request.subresource,
        )

    async def _serve_delete(self, request: kmock.Request) -> kmock.Payload:
        self._info(request)
        options = request.data if isinstance(request.data, Mapping) else {}
        policy = request.params.get("propagationPolicy") or options.get("propagationPolicy")
        return self.delete_object(
            request.resource, request.namespace, request.name, propagation=policy or "Background"
        )

    async def _serve_fetch(self, request: kmock.Request) -> kmock.Payload:
        info = self._info(request)
        found = self.read_object(
            request.resource, request.namespace if info.namespaced else None, request.name
        )
        if found is None:
            raise kmock.KubernetesError(
                404, "NotFound", f'{request.resource.plural} "{request.name}" not found'
            )
        return found

    def _selected(self, request: kmock.Request, body: Mapping[str, Any]) -> bool:
        meta = body.get("metadata", {})
        terms = parse_label_selector(request.params.get("labelSelector", ""))
        fields = parse_label_selector(request.params.get("fieldSelector", ""))
        known = {"metadata.name": meta.get("name"), "metadata.namespace": meta.get("namespace")}
        if any(key not in known for _, key, _ in fields):
            raise kmock.KubernetesError(400, "BadRequest", "unsupported field selector")
        return labels_match(meta.get("labels") or {}, terms) and labels_match(known, fields)

    async def _serve_list(self, request: kmock.Request) -> kmock.Payload:
        info = self._info(request)
        res = request.resource
        items = [copy.deepcopy(obj.raw) for obj in self._live(res, request.namespace)]
        return {
            "apiVersion": f"{res.group}/{res.version}".lstrip("/"),
            "kind": f"{info.kind}List",
            "metadata": {"resourceVersion": str(self.revision)},
            "items": [item for item in items if self._selected(request, item)],
        }

    async def _serve_watch(self, request: kmock.Request) -> AsyncIterator[kmock.Payload]:
        self._info(request)
        self._selected(request, {})  # a bad selector fails the request, not the stream
        res, namespace = request.resource, request.namespace
        since = request.params.get("resourceVersion", "")
        timeout = float(request.params.get("timeoutSeconds", 0)) or None
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        if since in ("", "0"):  # "start at most recent": the current state first, as ADDED
            backlog = [
                {"type": "ADDED", "object": copy.deepcopy(o.raw)}
                for o in self._live(res, namespace)
            ]
        elif self.event_log and int(since) < self.event_log[0][0] - 1:
            backlog = [_gone(since)]
        else:
            backlog = [
                event
                for revision, eres, event in self.event_log
                if revision > int(since)
                and eres == res
                and (namespace is None or event["object"]["metadata"].get("namespace") == namespace)
            ]
        watcher = (res, namespace, queue)
        self.watchers.add(watcher)  # in the same step as the backlog: no event falls in between
        try:
            yield b""  # send the headers now, even if nothing happens for a while
            for event in backlog:
                if event["type"] == "ERROR" or self._selected(request, event["object"]):
                    yield event
            if backlog and backlog[0]["type"] == "ERROR":
                return
            deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
            while True:
                remaining = (
                    None if deadline is None else deadline - asyncio.get_running_loop().time()
                )
                try:
                    async with asyncio.timeout(remaining):
                        event = await queue.get()
                except TimeoutError:
                    return  # the server-side timeout: a normal end of the stream
                if self._selected(request, event["object"]):
                    yield event
        finally:
            self.watchers.discard(watcher)


def _content(body: Mapping[str, Any]) -> dict[str, Any]:
    """What a change of bumps metadata.generation: everything but metadata and status."""
    return {key: value for key, value in body.items() if key not in ("metadata", "status")}


def _gone(since: str) -> dict[str, Any]:
    return {
        "type": "ERROR",
        "object": {
            "apiVersion": "v1",
            "kind": "Status",
            "status": "Failure",
            "reason": "Expired",
            "code": 410,
            "message": f"too old resource version: {since}",
        },
    }
