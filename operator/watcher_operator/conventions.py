"""Names, labels and constants shared by the CRD, the renderers and the handlers.

This is the operator's half of the contract with the service image (port, probe paths, database
location) and with users (API group, kind, label keys). The service keeps its own copy of the
service-side facts; neither imports the other.
"""

from __future__ import annotations

GROUP = "watcher.jcode.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "WatcherInstance"
PLURAL = "watcherinstances"
SINGULAR = "watcherinstance"
SHORT_NAMES = ("wi",)
CRD_NAME = f"{PLURAL}.{GROUP}"

# Recommended labels (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/).
LABEL_NAME = "app.kubernetes.io/name"
LABEL_INSTANCE = "app.kubernetes.io/instance"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_CLASS_DIV = f"{GROUP}/class-div"
APP_NAME = "jcode-watcher"
COMPONENT = "backend"
MANAGED_BY = "watcher-operator"

# What `kubectl rollout restart` sets on the pod template; reusing it keeps the two compatible.
RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
# Kopf's own bookkeeping on WatcherInstances goes under our group, not kopf.zalando.org.
FINALIZER = f"{GROUP}/finalizer"

# The service image's contract.
CONTAINER_NAME = "watcher"
PORT = 3000
PORT_NAME = "http"
DATA_DIR = "/data"
DB_PATH = f"{DATA_DIR}/watcher.db"
LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"
METRICS_PATH = "/metrics"
# Unprivileged IDs the pods run as; fsGroup makes the data volume writable for them.
RUN_AS_USER = 10001
RUN_AS_GROUP = 10001
# Set by the operator on every instance; a spec may not override them.
MANAGED_ENV = ("WATCHER_DB_PATH", "WATCHER_HOST", "WATCHER_PORT")
# The filemon snapshot volume (spec.snapshots), when given, is mounted read-only here and the
# service is told where with this variable; the name is the service's setting, fixed by it.
SNAPSHOT_DIR = "/snapshots"
SNAPSHOT_DIR_ENV = "WATCHER_SNAPSHOT_DIR"
SNAPSHOT_VOLUME = "snapshots"

CLASS_DIV_PATTERN = r"^[A-Za-z0-9]+-[A-Za-z0-9]+$"
# Children are named watcher-<name>[-data]; a Service name is a DNS-1035 label of <= 63 chars.
INSTANCE_NAME_PATTERN = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
INSTANCE_NAME_MAX = 63 - len("watcher-")
# A PersistentVolumeClaim's name: a DNS-1123 subdomain.
CLAIM_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
CLAIM_NAME_MAX = 253
# A relative path inside a volume: segments separated by single slashes, none of them "..", so
# no leading "/" (absolute), no empty segment, no way out of the volume. Written without
# lookaheads because the API server (Go's RE2) evaluates the CRD's copy of it.
_PATH_SEGMENT = r"(\.?[^/.][^/]*|\.\.[^/]+|\.)"
SUB_PATH_PATTERN = rf"^{_PATH_SEGMENT}(/{_PATH_SEGMENT})*$"

# spec.backup: Litestream replicates the database. Its configuration (a ConfigMap per instance) is
# mounted here; a file:// replica's claim is mounted at BACKUP_DIR, which its URL names.
LITESTREAM_CONFIG_DIR = "/etc/litestream"
LITESTREAM_CONFIG_KEY = "litestream.yml"
LITESTREAM_CONFIG_PATH = f"{LITESTREAM_CONFIG_DIR}/{LITESTREAM_CONFIG_KEY}"
LITESTREAM_CONTAINER = "litestream"
RESTORE_CONTAINER = "litestream-restore"
LITESTREAM_CONFIG_VOLUME = "litestream-config"
BACKUP_VOLUME = "backup"
BACKUP_DIR = "/backup"
# The keys Litestream reads its S3 credentials from, in the Secret spec.backup names.
BACKUP_SECRET_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
# The service's setting Litestream needs at 0 (it checkpoints the WAL itself); set by the
# operator on instances with backup enabled.
WAL_AUTOCHECKPOINT_ENV = "WATCHER_WAL_AUTOCHECKPOINT"
# Pod template annotations that restart the pod when what Litestream read at start changes.
LITESTREAM_CONFIG_ANNOTATION = f"{GROUP}/litestream-config"
BACKUP_SECRET_ANNOTATION = f"{GROUP}/backup-secret-version"

MONITORING_GROUP = "monitoring.coreos.com"
MONITORING_VERSION = "v1"
SERVICE_MONITORS = "servicemonitors"


def child_name(instance: str) -> str:
    """The Deployment, Service and ServiceMonitor of an instance share this name."""
    return f"watcher-{instance}"


def data_claim_name(instance: str) -> str:
    return f"watcher-{instance}-data"


def selector_labels(instance: str) -> dict[str, str]:
    """Only stable labels: a Deployment's selector is immutable."""
    return {LABEL_NAME: APP_NAME, LABEL_INSTANCE: instance}


def labels(instance: str, class_div: str) -> dict[str, str]:
    return {
        **selector_labels(instance),
        LABEL_COMPONENT: COMPONENT,
        LABEL_MANAGED_BY: MANAGED_BY,
        LABEL_CLASS_DIV: class_div,
    }


def service_url(instance: str, namespace: str) -> str:
    return f"http://{child_name(instance)}.{namespace}.svc:{PORT}"


def litestream_config_name(instance: str) -> str:
    return f"watcher-{instance}-litestream"
