"""A WatcherInstance's spec: defaults applied, every field validated, as one frozen value.

The CRD's schema applies the same defaults and most of the same checks in the API server; they
are repeated here because the operator must not trust that (an older CRD, a cluster without CEL,
a hand-edited object), and because a refusal has to be explained in status, not as an exception.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kubernetes.utils.quantity import parse_quantity

from watcher_operator import conventions

DEFAULT_STORAGE_SIZE = "5Gi"
DEFAULT_SCRAPE_INTERVAL = "30s"
# Enough for the aiohttp service and SQLite at class scale; limits only memory, so a burst of
# ingest is slowed by CPU throttling rather than by an OOM kill.
DEFAULT_RESOURCES: Mapping[str, Mapping[str, str]] = {
    "requests": {"cpu": "100m", "memory": "128Mi"},
    "limits": {"memory": "512Mi"},
}

# As the API server's resource.Quantity (what `kubectl explain` calls "Quantity").
QUANTITY = re.compile(
    r"^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?(\d+(\.\d*)?|\.\d+)))?$"
)
# Prometheus-operator's Duration.
DURATION = re.compile(r"^(0|(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?)$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
MAX_ENV = 64  # as the CRD's maxItems
# spec.backup. A replica URL is s3://<bucket>[/<path>] or file:///backup[/<path>] (the claim is
# mounted at /backup); path segments may not start with a dot, so none is "..".
_URL_PATH = r"(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*"
S3_URL = re.compile(rf"^s3://[a-z0-9][a-z0-9.-]{{1,61}}[a-z0-9]{_URL_PATH}$")
FILE_URL = re.compile(rf"^file://{conventions.BACKUP_DIR}{_URL_PATH}$")
ENDPOINT = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s]*)?$")
REGION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Go's time.Duration as Litestream and CEL read it, in whole units: 1s, 500ms, 1h30m.
GO_DURATION = re.compile(r"^([0-9]+(ms|s|m|h))+$")
_DURATION_PART = re.compile(r"([0-9]+)(ms|s|m|h)")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
DEFAULT_SYNC_INTERVAL = "1s"
DEFAULT_RETENTION = "168h"
SYNC_INTERVAL_BOUNDS_MS = (1000, 3_600_000)  # 1s .. 1h
MIN_RETENTION_MS = 3_600_000  # 1h
ENV_SOURCES = ("configMapKeyRef", "secretKeyRef", "fieldRef", "resourceFieldRef")


class SpecError(ValueError):
    """The spec cannot be applied; ``problems`` says why, one entry per field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclasses.dataclass(frozen=True, kw_only=True)
class Storage:
    size: str = DEFAULT_STORAGE_SIZE
    storage_class_name: str = ""  # empty: the cluster's default StorageClass
    retain_on_delete: bool = True


@dataclasses.dataclass(frozen=True, kw_only=True)
class ServiceMonitor:
    enabled: bool = True
    interval: str = DEFAULT_SCRAPE_INTERVAL
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Snapshots:
    """The filemon snapshot volume: an existing claim the operator only mounts, read-only."""

    claim_name: str
    sub_path: str = ""  # empty: the volume's root


@dataclasses.dataclass(frozen=True, kw_only=True)
class Backup:
    """Where Litestream replicates the class's database (spec.backup)."""

    url: str  # s3://bucket/path or file:///backup/path: the prefix; see replica_url
    enabled: bool = True
    endpoint: str = ""  # empty: AWS S3
    region: str = ""
    credentials_secret: str = ""  # empty: Litestream's default AWS credential chain
    claim_name: str = ""  # file:// only: the claim mounted at /backup
    sync_interval: str = DEFAULT_SYNC_INTERVAL
    retention: str = DEFAULT_RETENTION

    @property
    def is_s3(self) -> bool:
        return self.url.startswith("s3://")

    def replica_url(self, namespace: str, class_div: str) -> str:
        """The class's own replica under the URL: several classes may share one bucket (and
        one Secret), never one replica (two writers would corrupt it)."""
        return f"{self.url.rstrip('/')}/{namespace}/{class_div}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class InstanceSpec:
    class_div: str
    image: str
    paused: bool = False
    restart_at: str = ""
    storage: Storage = Storage()
    resources: Mapping[str, Any] = dataclasses.field(default_factory=lambda: DEFAULT_RESOURCES)
    service_monitor: ServiceMonitor = ServiceMonitor()
    env: tuple[Mapping[str, Any], ...] = ()
    snapshots: Snapshots | None = None  # None: no snapshot volume, no WATCHER_SNAPSHOT_DIR
    backup: Backup | None = None  # None: no replication


def quantity(value: Any) -> Decimal | None:
    """The value of a Quantity, or None if it is not one."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    if isinstance(value, str) and not QUANTITY.match(value):
        return None
    try:
        amount: Decimal = parse_quantity(value)
    except ValueError:
        return None
    return amount


def check_name(name: str) -> list[str]:
    """Problems with an instance's name, which its children's names are made from."""
    if len(name) > conventions.INSTANCE_NAME_MAX or not re.match(
        conventions.INSTANCE_NAME_PATTERN, name
    ):
        return [
            f"metadata.name {name!r} must be a DNS-1035 label of at most "
            f"{conventions.INSTANCE_NAME_MAX} characters (children are named watcher-<name>)"
        ]
    return []


def check_backup_claim(name: str, spec: InstanceSpec) -> list[str]:
    """A file:// replica on the instance's own data volume would be lost with it."""
    if spec.backup is not None and spec.backup.claim_name == conventions.data_claim_name(name):
        return [
            f"spec.backup.claimName {spec.backup.claim_name} is this instance's data volume; "
            "a replica must live on another volume to survive its loss"
        ]
    return []


def parse(raw: Mapping[str, Any] | None, *, default_image: str) -> InstanceSpec:
    """Validate a spec and fill in its defaults; raise SpecError listing every problem."""
    spec = dict(raw or {})
    problems: list[str] = []

    def field(mapping: Mapping[str, Any], key: str, kind: type, default: Any, path: str) -> Any:
        value = mapping.get(key)
        if value is None:
            return default
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            problems.append(f"{path} must be a {kind.__name__}")
            return default
        return value

    class_div = spec.get("classDiv")
    if not isinstance(class_div, str) or not class_div:
        problems.append("spec.classDiv is required")
        class_div = ""
    elif len(class_div) > 63 or not re.match(conventions.CLASS_DIV_PATTERN, class_div):
        problems.append(
            f"spec.classDiv {class_div!r} must match {conventions.CLASS_DIV_PATTERN} "
            "and be at most 63 characters"
        )

    image = field(spec, "image", str, "", "spec.image").strip() or default_image
    if any(char.isspace() for char in image):
        problems.append(f"spec.image {image!r} is not an image reference")
    paused = field(spec, "paused", bool, False, "spec.paused")
    restart_at = field(spec, "restartAt", str, "", "spec.restartAt")
    if restart_at and not _is_rfc3339(restart_at):
        problems.append(f"spec.restartAt {restart_at!r} is not an RFC 3339 date-time")

    raw_storage = field(spec, "storage", dict, {}, "spec.storage")
    size = raw_storage.get("size", DEFAULT_STORAGE_SIZE)
    amount = quantity(size)
    if amount is None or amount <= 0:
        problems.append(f"spec.storage.size {size!r} is not a positive quantity (e.g. 5Gi)")
    storage = Storage(
        size=str(size),
        storage_class_name=field(
            raw_storage, "storageClassName", str, "", "spec.storage.storageClassName"
        ),
        retain_on_delete=field(
            raw_storage, "retainOnDelete", bool, True, "spec.storage.retainOnDelete"
        ),
    )

    resources = field(spec, "resources", dict, {}, "spec.resources")
    for key, amounts in resources.items():
        if key not in ("limits", "requests"):
            problems.append(f"spec.resources.{key} is not supported (only limits and requests)")
        elif not isinstance(amounts, dict):
            problems.append(f"spec.resources.{key} must be a map of quantities")
        else:
            for resource, value in amounts.items():
                if quantity(value) is None:
                    problems.append(f"spec.resources.{key}.{resource} {value!r} is not a quantity")

    raw_monitor = field(spec, "serviceMonitor", dict, {}, "spec.serviceMonitor")
    interval = field(
        raw_monitor, "interval", str, DEFAULT_SCRAPE_INTERVAL, "spec.serviceMonitor.interval"
    )
    if not DURATION.match(interval):
        problems.append(f"spec.serviceMonitor.interval {interval!r} is not a duration like 30s")
    monitor_labels = field(raw_monitor, "labels", dict, {}, "spec.serviceMonitor.labels")
    for key, value in monitor_labels.items():
        if not isinstance(value, str) or not LABEL_KEY.match(key) or not LABEL_VALUE.match(value):
            problems.append(f"spec.serviceMonitor.labels has an invalid label {key!r}: {value!r}")
    service_monitor = ServiceMonitor(
        enabled=field(raw_monitor, "enabled", bool, True, "spec.serviceMonitor.enabled"),
        interval=interval,
        labels=dict(monitor_labels),
    )

    env = field(spec, "env", list, [], "spec.env")
    problems.extend(_check_env(env))

    raw_snapshots = field(spec, "snapshots", dict, None, "spec.snapshots")
    snapshots = None
    if raw_snapshots is not None:
        snapshots, found = _parse_snapshots(raw_snapshots)
        problems.extend(found)

    raw_backup = field(spec, "backup", dict, None, "spec.backup")
    backup = None
    if raw_backup is not None:
        backup, found = _parse_backup(raw_backup)
        problems.extend(found)
        if backup is not None and backup.enabled:
            problems.extend(
                f"spec.env[{index}]: {var.get('name')} is set by the operator while "
                "spec.backup is enabled (Litestream checkpoints the WAL itself)"
                for index, var in enumerate(env)
                if isinstance(var, dict) and var.get("name") == conventions.WAL_AUTOCHECKPOINT_ENV
            )

    if problems:
        raise SpecError(problems)
    return InstanceSpec(
        class_div=class_div,
        image=image,
        paused=paused,
        restart_at=restart_at,
        storage=storage,
        resources=resources or DEFAULT_RESOURCES,
        service_monitor=service_monitor,
        env=tuple(env),
        snapshots=snapshots,
        backup=backup,
    )


def _is_rfc3339(value: str) -> bool:
    if not RFC3339.match(value):
        return False
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _parse_snapshots(raw: Mapping[str, Any]) -> tuple[Snapshots | None, list[str]]:
    problems: list[str] = []
    unknown = set(raw) - {"claimName", "subPath"}
    if unknown:
        # The API server would prune them; said here so that a misspelt key is not silently
        # a volume without its subPath.
        problems.append(f"spec.snapshots has unknown fields {sorted(unknown)}")
    claim = raw.get("claimName")
    if claim is None or claim == "":
        problems.append("spec.snapshots.claimName is required when spec.snapshots is set")
    elif (
        not isinstance(claim, str)
        or len(claim) > conventions.CLAIM_NAME_MAX
        or not re.fullmatch(conventions.CLAIM_NAME_PATTERN, claim)
    ):
        problems.append(
            f"spec.snapshots.claimName {claim!r} must be a PersistentVolumeClaim name (a "
            f"DNS-1123 subdomain of at most {conventions.CLAIM_NAME_MAX} characters)"
        )
    sub_path = raw.get("subPath")
    if sub_path is None:
        sub_path = ""
    if not isinstance(sub_path, str) or (
        sub_path and not re.fullmatch(conventions.SUB_PATH_PATTERN, sub_path)
    ):
        problems.append(
            f"spec.snapshots.subPath {sub_path!r} must be a relative path inside the volume "
            "(no leading /, no empty or .. segments)"
        )
    if problems or not isinstance(claim, str):  # (a claim that is no str is a problem above)
        return None, problems
    return Snapshots(claim_name=claim, sub_path=sub_path), []


def duration_ms(value: str) -> int | None:
    """Milliseconds of a Go duration in whole units (GO_DURATION), or None if it is not one."""
    if not isinstance(value, str) or not GO_DURATION.match(value):
        return None
    return sum(int(n) * _UNIT_MS[unit] for n, unit in _DURATION_PART.findall(value))


def _parse_backup(raw: Mapping[str, Any]) -> tuple[Backup | None, list[str]]:
    problems: list[str] = []
    known = {
        "enabled",
        "url",
        "endpoint",
        "region",
        "credentialsSecret",
        "claimName",
        "syncInterval",
        "retention",
    }
    unknown = set(raw) - known
    if unknown:
        problems.append(f"spec.backup has unknown fields {sorted(unknown)}")
    values: dict[str, Any] = {}
    for key in known:
        value = raw.get(key)
        wanted = bool if key == "enabled" else str
        if value is not None and (
            not isinstance(value, wanted) or (wanted is not bool and isinstance(value, bool))
        ):
            problems.append(f"spec.backup.{key} must be a {wanted.__name__}")
        elif value is not None:
            values[key] = value
    url = values.get("url", "")
    s3 = isinstance(url, str) and url.startswith("s3://")
    if not url:
        problems.append("spec.backup.url is required when spec.backup is set")
    elif not (S3_URL.match(url) if s3 else FILE_URL.match(url)):
        problems.append(
            f"spec.backup.url {url!r} must be s3://<bucket>[/<path>] or "
            f"file://{conventions.BACKUP_DIR}[/<path>] (path segments of letters, digits, "
            "., _ and -, none starting with a dot)"
        )
    if s3:
        if values.get("claimName"):
            problems.append("spec.backup.claimName is for file:// URLs only")
        endpoint = values.get("endpoint", "")
        if endpoint and not ENDPOINT.match(endpoint):
            problems.append(f"spec.backup.endpoint {endpoint!r} must be an http(s):// URL")
        region = values.get("region", "")
        if region and not REGION.match(region):
            problems.append(f"spec.backup.region {region!r} must be a region name like us-east-1")
        secret = values.get("credentialsSecret", "")
        if secret and (
            len(secret) > conventions.CLAIM_NAME_MAX
            or not re.fullmatch(conventions.CLAIM_NAME_PATTERN, secret)
        ):
            problems.append(f"spec.backup.credentialsSecret {secret!r} is not a Secret name")
    elif url:
        for key in ("endpoint", "region", "credentialsSecret"):
            if values.get(key):
                problems.append(f"spec.backup.{key} is for s3:// URLs only")
        claim = values.get("claimName", "")
        if not claim:
            problems.append("spec.backup.claimName is required for a file:// URL")
        elif len(claim) > conventions.CLAIM_NAME_MAX or not re.fullmatch(
            conventions.CLAIM_NAME_PATTERN, claim
        ):
            problems.append(f"spec.backup.claimName {claim!r} must be a PersistentVolumeClaim name")
    sync = values.get("syncInterval", DEFAULT_SYNC_INTERVAL)
    sync_ms = duration_ms(sync)
    low, high = SYNC_INTERVAL_BOUNDS_MS
    if sync_ms is None or not low <= sync_ms <= high:
        problems.append(
            f"spec.backup.syncInterval {sync!r} must be a duration from 1s to 1h (e.g. 1s, 30s)"
        )
    retention = values.get("retention", DEFAULT_RETENTION)
    retention_ms = duration_ms(retention)
    if retention_ms is None or retention_ms < MIN_RETENTION_MS:
        problems.append(
            f"spec.backup.retention {retention!r} must be a duration of at least 1h (e.g. 168h)"
        )
    if problems:
        return None, problems
    return Backup(
        url=url,
        enabled=values.get("enabled", True),
        endpoint=values.get("endpoint", "") if s3 else "",
        region=values.get("region", "") if s3 else "",
        credentials_secret=values.get("credentialsSecret", "") if s3 else "",
        claim_name=values.get("claimName", ""),
        sync_interval=sync,
        retention=retention,
    ), []


def _check_env(env: list[Any]) -> list[str]:
    problems: list[str] = []
    if len(env) > MAX_ENV:
        problems.append(f"spec.env has {len(env)} entries; at most {MAX_ENV} are allowed")
    seen: set[str] = set()
    for index, var in enumerate(env):
        path = f"spec.env[{index}]"
        name = var.get("name") if isinstance(var, dict) else None
        if not isinstance(name, str) or not ENV_NAME.match(name) or len(name) > 256:
            problems.append(f"{path}.name must be a valid environment variable name")
            continue
        if name in conventions.MANAGED_ENV:
            problems.append(f"{path}: {name} is set by the operator and cannot be overridden")
        if name == conventions.SNAPSHOT_DIR_ENV:
            # The directory exists in the pod only when the operator mounts it.
            problems.append(
                f"{path}: {name} is set by the operator from spec.snapshots; set that instead"
            )
        if name in seen:
            problems.append(f"{path}: {name} is listed twice")
        seen.add(name)
        unknown = set(var) - {"name", "value", "valueFrom"}
        if unknown:
            problems.append(f"{path} has unknown fields {sorted(unknown)}")
        if "value" in var and not isinstance(var["value"], str):
            problems.append(f"{path}.value must be a string")
        if "valueFrom" in var:
            source = var["valueFrom"]
            if "value" in var:
                problems.append(f"{path} may have value or valueFrom, not both")
            if (
                not isinstance(source, dict)
                or len(source) != 1
                or next(iter(source)) not in ENV_SOURCES
            ):
                problems.append(f"{path}.valueFrom must have exactly one of {list(ENV_SOURCES)}")
    return problems
