"""spec.backup: its checks (the operator's and the CRD's), what it renders (Litestream's
configuration, the restore init container, the sidecar), BackupReady, and a reconcile pass that
follows the Secret, against the emulator through the real client.

Litestream itself runs on these renderings in tests/backup (the real binary, a real S3 server)."""

from __future__ import annotations

import asyncio
from typing import Any

import kmock
import kubernetes.client
import kubernetes_validate
import pytest
import yaml

from tests.operator.apiserver import ApiServer
from tests.operator.helpers import DEPLOYMENTS, INSTANCES, condition, create_instance
from tests.operator.test_manifests import SPEC_SCHEMA, check
from watcher_operator import conventions as c
from watcher_operator import resources, spec, status
from watcher_operator.apply import Api
from watcher_operator.reconcile import Event, reconcile

IMAGE = "example/watcher:1"
K8S_VERSION = "1.37"
S3 = {
    "url": "s3://jcode-backups/watcher",
    "endpoint": "https://minio.example:9000",
    "region": "us-east-1",
    "credentialsSecret": "watcher-backup-s3",
}
FILE = {"url": "file:///backup/watcher", "claimName": "backups"}
OWNER = {"apiVersion": c.API_VERSION, "kind": c.KIND, "name": "os-1", "uid": "u-1"}
CONFIG_MAPS = kmock.resource("", "v1", "configmaps")
SECRETS = kmock.resource("", "v1", "secrets")
CLAIMS = kmock.resource("", "v1", "persistentvolumeclaims")


def parse(backup: dict[str, Any] | None, **extra: Any) -> spec.InstanceSpec:
    raw: dict[str, Any] = {"classDiv": "os-1", **extra}
    if backup is not None:
        raw["backup"] = backup
    return spec.parse(raw, default_image=IMAGE)


def problems(backup: dict[str, Any], **extra: Any) -> list[str]:
    try:
        parse(backup, **extra)
    except spec.SpecError as exc:
        return exc.problems
    return []


def pod(parsed: spec.InstanceSpec, **kwargs: Any) -> dict[str, Any]:
    deployment = resources.deployment("os-1", "ns1", parsed, OWNER, **kwargs)
    return deployment["spec"]["template"]


# -- the spec


def test_defaults_and_the_replica_of_each_class() -> None:
    backup = parse({"url": "s3://jcode-backups/watcher"}).backup
    assert backup == spec.Backup(url="s3://jcode-backups/watcher")
    assert (backup.enabled, backup.sync_interval, backup.retention) == (True, "1s", "168h")
    assert backup.replica_url("ns1", "os-1") == "s3://jcode-backups/watcher/ns1/os-1"
    assert parse(FILE).backup.replica_url("ns1", "db-2") == "file:///backup/watcher/ns1/db-2"
    assert parse(None).backup is None


@pytest.mark.parametrize(
    ("backup", "expected"),
    [
        ({}, "spec.backup.url is required"),
        ({"url": "s3://b/x"}, "must be s3://<bucket>"),  # bucket names have 3-63 characters
        ({"url": "s3://jcode-backups/../x"}, "none starting with a dot"),
        ({"url": "gs://jcode-backups/x"}, "must be s3://<bucket>"),
        ({"url": "file:///data/watcher", "claimName": "b"}, "file:///backup"),
        ({"url": "file:///backup/x"}, "claimName is required for a file:// URL"),
        ({**S3, "claimName": "b"}, "claimName is for file:// URLs only"),
        ({**FILE, "region": "us-east-1"}, "region is for s3:// URLs only"),
        ({**FILE, "credentialsSecret": "s"}, "credentialsSecret is for s3:// URLs only"),
        ({**S3, "endpoint": "minio:9000"}, "must be an http(s):// URL"),
        ({**S3, "credentialsSecret": "Watcher_S3"}, "is not a Secret name"),
        ({**S3, "syncInterval": "500ms"}, "from 1s to 1h"),
        ({**S3, "syncInterval": "2h"}, "from 1s to 1h"),
        ({**S3, "syncInterval": "1.5s"}, "from 1s to 1h"),
        ({**S3, "retention": "30m"}, "at least 1h"),
        ({**S3, "retention": "7d"}, "at least 1h"),
        ({**S3, "enabled": "yes"}, "spec.backup.enabled must be a bool"),
        ({**S3, "schedule": "daily"}, "unknown fields ['schedule']"),
    ],
)
def test_the_operator_refuses_a_bad_backup_saying_why(backup: dict, expected: str) -> None:
    found = problems(backup)
    assert any(expected in problem for problem in found), found


def test_the_wal_setting_is_the_operators_while_backup_is_enabled() -> None:
    env = [{"name": c.WAL_AUTOCHECKPOINT_ENV, "value": "1000"}]
    assert problems(S3, env=env) == [
        f"spec.env[0]: {c.WAL_AUTOCHECKPOINT_ENV} is set by the operator while spec.backup is "
        "enabled (Litestream checkpoints the WAL itself)"
    ]
    assert problems({**S3, "enabled": False}, env=env) == []
    assert spec.check_backup_claim("os-1", parse({**FILE, "claimName": "watcher-os-1-data"}))
    assert spec.check_backup_claim("os-2", parse({**FILE, "claimName": "watcher-os-1-data"})) == []


def test_the_crd_patterns_agree_with_the_operator() -> None:
    """What the schema's types and patterns decide (CEL rules are the API server's: the e2e
    tests quote their refusals); see the next test for those."""
    backup = SPEC_SCHEMA["properties"]["backup"]
    samples = [
        dict(S3),
        {"url": "s3://jcode-backups"},
        {"url": "s3://a.b-c.d/x/y_z/1.2"},
        {"url": "s3://b/x"},
        {"url": "s3://Jcode/x"},
        {"url": "s3://jcode-backups/x/"},
        {"url": "s3://jcode-backups//x"},
        {"url": "s3://jcode-backups/.x"},
        dict(FILE),
        {"url": "file:///backup", "claimName": "b"},
        {"url": "file:///backupx", "claimName": "b"},
        {"url": "file:///tmp/x", "claimName": "b"},
        {**S3, "endpoint": "http://10.0.0.1:9000/s3"},
        {**S3, "endpoint": "ftp://x"},
        {**S3, "endpoint": "https://a b"},
        {**S3, "region": "eu-west-3"},
        {**S3, "region": "eu west"},
        {**S3, "credentialsSecret": "a" * 254},
        {**FILE, "claimName": "Backups"},
        {**S3, "syncInterval": "10s"},
        {**S3, "syncInterval": "1m30s"},
        {**S3, "syncInterval": "1.5s"},
        {**S3, "syncInterval": "1 s"},
        {**S3, "retention": "720h"},
        {**S3, "retention": "7d"},
        {**S3, "enabled": False},
    ]
    for value in samples:
        api_accepts = not check(backup, value)
        assert api_accepts == (problems(value) == []), value


def test_the_crd_rules_exist_for_what_only_cel_can_check() -> None:
    rules = [r["message"] for r in SPEC_SCHEMA["properties"]["backup"]["x-kubernetes-validations"]]
    assert rules == [
        "claimName is required for a file:// url",
        "claimName is for file:// urls only",
        "endpoint, region and credentialsSecret are for s3:// urls only",
    ]
    durations = SPEC_SCHEMA["properties"]["backup"]["properties"]
    assert "duration('1s')" in durations["syncInterval"]["x-kubernetes-validations"][0]["rule"]
    assert "duration('1h')" in durations["retention"]["x-kubernetes-validations"][0]["rule"]
    [env_rule] = SPEC_SCHEMA["x-kubernetes-validations"]
    assert f"'{c.WAL_AUTOCHECKPOINT_ENV}'" in env_rule["rule"]


def test_crd_defaults_are_the_operators() -> None:
    node = SPEC_SCHEMA["properties"]["backup"]["properties"]
    defaults = {key: value["default"] for key, value in node.items() if "default" in value}
    assert defaults == {"enabled": True, "syncInterval": "1s", "retention": "168h"}
    assert parse({"url": S3["url"], **defaults}) == parse({"url": S3["url"]})


# -- what it renders


def test_litestream_config_splits_the_sync_interval_and_names_the_class_replica() -> None:
    config_map = resources.backup_config_map("os-1", "ns1", parse(S3), OWNER)
    assert config_map["metadata"]["name"] == "watcher-os-1-litestream"
    assert config_map["metadata"]["ownerReferences"] == [OWNER]
    text = config_map["data"]["litestream.yml"]
    assert text.startswith("# Written by the watcher operator")
    assert yaml.safe_load(text) == {
        "dbs": [
            {
                "path": "/data/watcher.db",
                "monitor-interval": "100ms",
                "replica": {
                    "url": "s3://jcode-backups/watcher/ns1/os-1",
                    "sync-interval": "700ms",
                    "endpoint": "https://minio.example:9000",
                    "region": "us-east-1",
                },
            }
        ],
        "snapshot": {"interval": "24h", "retention": "168h"},
        "logging": {"level": "info", "type": "json", "stderr": True},
    }
    assert "access-key" not in text and "AWS_" not in text  # credentials only from the Secret


@pytest.mark.parametrize(
    ("interval", "monitor", "sync", "headroom"),
    [("1s", "100ms", "700ms", "200ms"), ("5s", "500ms", "3500ms", "1s"),
     ("30s", "1s", "24s", "5s"), ("1h", "1s", "3594s", "5s"), ("1m30s", "1s", "84s", "5s")],
)  # fmt: skip
def test_monitor_plus_upload_interval_plus_headroom_is_the_sync_interval(
    interval: str, monitor: str, sync: str, headroom: str
) -> None:
    backup = spec.Backup(url=S3["url"], sync_interval=interval)
    assert resources.litestream_timing(backup) == (monitor, sync, headroom)
    parts = [spec.duration_ms(part) for part in (monitor, sync, headroom)]
    assert sum(parts) == spec.duration_ms(interval)  # type: ignore[arg-type]


def test_a_short_retention_is_also_the_snapshot_interval() -> None:
    text = resources.litestream_config(spec.Backup(url=S3["url"], retention="6h"),
                                       replica_url="s3://x/y")  # fmt: skip
    assert yaml.safe_load(text)["snapshot"] == {"interval": "6h", "retention": "6h"}


def test_the_pod_gets_a_restore_init_container_then_a_native_sidecar() -> None:
    template = pod(parse(S3), litestream_image="litestream/litestream:9", backup_secret_version="7")
    restore_container, sidecar = template["spec"]["initContainers"]
    assert (restore_container["name"], sidecar["name"]) == ("litestream-restore", "litestream")
    assert restore_container["args"] == [
        "restore", "-config", "/etc/litestream/litestream.yml", "-no-expand-env",
        "-if-db-not-exists", "-if-replica-exists", "-integrity-check", "quick", "/data/watcher.db",
    ]  # fmt: skip
    assert sidecar["args"] == [
        "replicate",
        "-config",
        "/etc/litestream/litestream.yml",
        "-no-expand-env",
    ]
    assert sidecar["restartPolicy"] == "Always" and "restartPolicy" not in restore_container
    for container in (restore_container, sidecar):
        assert container["image"] == "litestream/litestream:9"
        assert container["env"] == [
            {"name": key, "valueFrom": {"secretKeyRef": {
                "name": "watcher-backup-s3", "key": key, "optional": True}}}
            for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        ]  # fmt: skip
        assert {m["mountPath"]: m.get("readOnly", False) for m in container["volumeMounts"]} == {
            "/data": False, "/tmp": False, "/etc/litestream": True
        }  # fmt: skip
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
    [service] = template["spec"]["containers"]
    assert {"name": "WATCHER_WAL_AUTOCHECKPOINT", "value": "0"} in service["env"]
    volumes = {v["name"]: v for v in template["spec"]["volumes"]}
    assert volumes["litestream-config"] == {
        "name": "litestream-config", "configMap": {"name": "watcher-os-1-litestream"}
    }  # fmt: skip
    annotations = template["metadata"]["annotations"]
    assert annotations["watcher.jcode.io/backup-secret-version"] == "7"
    assert len(annotations["watcher.jcode.io/litestream-config"]) == 16


def test_a_file_replica_mounts_its_claim_and_takes_no_credentials() -> None:
    template = pod(parse(FILE))
    for container in template["spec"]["initContainers"]:
        assert container["env"] == []
        assert {"name": "backup", "mountPath": "/backup"} in container["volumeMounts"]
    [service] = template["spec"]["containers"]
    assert all(m["name"] != "backup" for m in service["volumeMounts"])  # the service never sees it
    assert {"name": "backup", "persistentVolumeClaim": {"claimName": "backups"}} in (
        template["spec"]["volumes"]
    )


def test_without_backup_or_disabled_nothing_is_added_and_removal_is_a_patch() -> None:
    for parsed in (parse(None), parse({**S3, "enabled": False})):
        template = pod(parsed)
        # [] rather than absent: the merge patch then removes a sidecar that was there.
        assert template["spec"]["initContainers"] == []
        assert "annotations" not in template["metadata"]
        [service] = template["spec"]["containers"]
        assert all(var["name"] != "WATCHER_WAL_AUTOCHECKPOINT" for var in service["env"])


def test_a_config_change_changes_the_pod_and_nothing_else_does() -> None:
    def hashed(parsed: spec.InstanceSpec, **kwargs: Any) -> str:
        return pod(parsed, **kwargs)["metadata"]["annotations"][
            "watcher.jcode.io/litestream-config"
        ]

    assert hashed(parse(S3)) == hashed(parse(S3))
    assert hashed(parse(S3)) != hashed(parse({**S3, "syncInterval": "5s"}))
    assert hashed(parse(S3)) != hashed(parse(S3, classDiv="os-2"))
    assert hashed(parse(S3)) == hashed(parse(S3), backup_secret_version="9")


@pytest.mark.parametrize("backup", [S3, FILE])
def test_rendered_objects_are_valid_kubernetes(backup: dict[str, Any]) -> None:
    parsed = parse(backup)
    kubernetes_validate.validate(
        resources.deployment("os-1", "ns1", parsed, OWNER, backup_secret_version="3"),
        K8S_VERSION,
        strict=True,
    )
    kubernetes_validate.validate(
        resources.backup_config_map("os-1", "ns1", parsed, OWNER), K8S_VERSION, strict=True
    )


# -- BackupReady


def state(**changes: Any) -> status.BackupState:
    base = status.BackupState(replica_url="s3://b/ns1/os-1", sync_interval="1s",
                              secret="watcher-backup-s3", secret_found=True)  # fmt: skip
    return status.BackupState(**{**base.__dict__, **changes})


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (state(), ("True", "ReplicaConfigured")),
        (state(secret_found=False), ("False", "SecretMissing")),
        (state(secret_found=None), ("Unknown", "SecretNotChecked")),
        (state(secret="", secret_found=None), ("True", "ReplicaConfigured")),
        (state(secret="", claim="backups", claim_found=False), ("False", "ClaimMissing")),
        (state(enabled=False, secret_found=False), ("False", "BackupDisabled")),
    ],
)
def test_backup_ready_says_what_is_missing(found: status.BackupState, expected: tuple) -> None:
    value, reason, message = status.backup_condition(found)
    assert (value, reason) == expected
    assert message


def test_backup_ready_is_a_condition_only_with_backup_and_survives_an_api_failure() -> None:
    common = {"generation": 1, "previous": {}, "refusal": None, "paused": False,
              "deployment": None, "service_url": "http://x"}  # fmt: skip
    without = status.compute(**common)
    assert [cond["type"] for cond in without["conditions"]] == ["Ready", "Progressing", "Degraded"]
    with_backup = status.compute(**common, backup=state(secret_found=False))
    assert condition(with_backup, "BackupReady")["reason"] == "SecretMissing"
    failed = status.failed(with_backup, generation=1, message="API request failed: 500")
    assert condition(failed, "BackupReady") == condition(with_backup, "BackupReady")
    from tests.operator.test_manifests import STATUS_SCHEMA

    assert check(STATUS_SCHEMA, with_backup) == [] and check(STATUS_SCHEMA, failed) == []


# -- a reconcile pass follows the Secret


@pytest.fixture
def api(apiserver: ApiServer) -> Api:
    configuration = kubernetes.client.Configuration(host=str(apiserver.url).rstrip("/"))
    return Api(kubernetes.client.ApiClient(configuration), timeout=10)


async def run_pass(api: Api, apiserver: ApiServer) -> tuple[dict[str, Any], list[Event]]:
    body = apiserver.read_object(INSTANCES, "ns1", "os-1")
    result = await asyncio.to_thread(reconcile, api, body, default_image=IMAGE, class_owner="os-1")
    apiserver.patch_object(INSTANCES, "ns1", "os-1", {"status": result.status},
                           subresource="status")  # fmt: skip
    return result.status, result.events


async def test_backup_ready_follows_the_secret_and_its_arrival_restarts_the_pod(
    apiserver: ApiServer, api: Api
) -> None:
    create_instance(apiserver, "os-1", {"classDiv": "os-1", "backup": S3})
    found, events = await run_pass(api, apiserver)
    assert condition(found, "BackupReady")["reason"] == "SecretMissing"
    assert Event("Normal", "Created", "Created ConfigMap watcher-os-1-litestream") in events
    config_map = apiserver.read_object(CONFIG_MAPS, "ns1", "watcher-os-1-litestream")
    assert "s3://jcode-backups/watcher/ns1/os-1" in config_map["data"]["litestream.yml"]
    template = apiserver.read_object(DEPLOYMENTS, "ns1", "watcher-os-1")["spec"]["template"]
    assert [ic["name"] for ic in template["spec"]["initContainers"]] == [
        "litestream-restore", "litestream"
    ]  # fmt: skip
    assert "watcher.jcode.io/backup-secret-version" not in template["metadata"]["annotations"]

    secret = apiserver.create_object(SECRETS, "ns1", {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "watcher-backup-s3"},
        "data": {"AWS_ACCESS_KEY_ID": "eA==", "AWS_SECRET_ACCESS_KEY": "eQ=="},
    })  # fmt: skip
    found, events = await run_pass(api, apiserver)
    ready = condition(found, "BackupReady")
    assert (ready["status"], ready["reason"]) == ("True", "ReplicaConfigured")
    assert "s3://jcode-backups/watcher/ns1/os-1 every 1s" in ready["message"]
    assert events == [
        Event("Normal", "Repaired", "Reverted drift in Deployment watcher-os-1"),
        Event("Normal", "Restarted", "Restarted Deployment watcher-os-1: Secret "
              "watcher-backup-s3 appeared or changed (Litestream reads its credentials at start)"),
    ]  # fmt: skip
    template = apiserver.read_object(DEPLOYMENTS, "ns1", "watcher-os-1")["spec"]["template"]
    version = secret["metadata"]["resourceVersion"]
    assert template["metadata"]["annotations"]["watcher.jcode.io/backup-secret-version"] == version
    assert (await run_pass(api, apiserver))[1] == []  # settled

    apiserver.delete_object(SECRETS, "ns1", "watcher-backup-s3")
    found, events = await run_pass(api, apiserver)
    assert condition(found, "BackupReady")["reason"] == "SecretMissing"
    assert events == []  # the running sidecar keeps the credentials it has: no restart


async def test_a_missing_claim_and_disabling_backup(apiserver: ApiServer, api: Api) -> None:
    create_instance(apiserver, "os-1", {"classDiv": "os-1", "backup": FILE})
    found, _ = await run_pass(api, apiserver)
    assert condition(found, "BackupReady")["reason"] == "ClaimMissing"
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "backups"}}
    apiserver.create_object(CLAIMS, "ns1", {**claim, "spec": {}})
    found, _ = await run_pass(api, apiserver)
    assert condition(found, "BackupReady")["status"] == "True"
    apiserver.patch_object(INSTANCES, "ns1", "os-1", {"spec": {"backup": {"enabled": False}}})
    found, events = await run_pass(api, apiserver)
    assert condition(found, "BackupReady")["reason"] == "BackupDisabled"
    assert events == [Event("Normal", "Updated", "Updated Deployment watcher-os-1")]
    template = apiserver.read_object(DEPLOYMENTS, "ns1", "watcher-os-1")["spec"]["template"]
    assert not template["spec"].get("initContainers")
