"""Helpers of the e2e tests: polling, helm, and the operator as a process of this checkout."""

from __future__ import annotations

import base64
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.e2e.cluster import ROOT, Cluster, _die_with_parent, kubeconfig

HELM = ROOT / ".tools" / "bin" / "helm"
CHART = ROOT / "charts" / "jcode-watcher"
EXAMPLES = ROOT / "manifests" / "examples"
# What a refused request looks like in Kopf's, the client's and our own log lines.
FORBIDDEN = re.compile(r"forbidden", re.IGNORECASE)
# Namespaces the tests deleted, and since when (UTC, ISO 8601). Deleting a namespace deletes the
# operator's Role there before Kopf lets go of the namespace: a watch it happens to reconnect
# there in that window is refused (and retried until Kopf drops the namespace). That is not a
# rule missing from the chart, so those requests are not held against it.
DELETING: dict[str, str] = {}


def deleting(namespace: str) -> None:
    """Record that the test is about to delete a namespace."""
    DELETING[namespace] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _in_deleted_namespace(namespace: str | None, when: str) -> bool:
    since = DELETING.get(namespace or "")
    return since is not None and when[:26] >= since[:26]


def _log_line_excused(line: str) -> bool:
    try:
        entry = json.loads(line)
    except ValueError:
        return False
    found = re.search(r'namespaces/([a-z0-9-]+)/|namespace \\?"([a-z0-9-]+)\\?"', line)
    namespace = next((group for group in found.groups() if group), None) if found else None
    return _in_deleted_namespace(namespace, str(entry.get("timestamp", "")))


T = TypeVar("T")


def eventually(probe: Callable[[], T], *, within: float, what: str, interval: float = 0.5) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}: last {value!r}")
        time.sleep(interval)


def helm(cluster: Cluster, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(HELM), f"--kubeconfig={cluster.admin_kubeconfig}", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stderr}")
    return result


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return next((cond for cond in conditions if cond.get("type") == kind), {})


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


class Operator:
    """``python -m watcher_operator`` from this checkout, run as the chart's Deployment runs it:
    its command and exactly its environment, authenticated as its ServiceAccount with a token
    from the TokenRequest API."""

    def __init__(self, cluster: Cluster, namespace: str, deployment: str, label: str) -> None:
        self.cluster = cluster
        self.label = label
        self.log = cluster.logs / f"operator-{label}.log"
        spec = cluster.get("deployment", deployment, "-n", namespace)["spec"]["template"]["spec"]
        [container] = spec["containers"]
        assert container["command"][:2] == ["python", "-m"], container["command"]
        self.command = [sys.executable, *container["command"][1:]]
        assert not any("valueFrom" in var for var in container.get("env", [])), "not resolved here"
        # The API server drops an empty value; the kubelet sets such a variable to "".
        self.env = {var["name"]: var.get("value", "") for var in container.get("env", [])}
        self.ports = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
        account = spec["serviceAccountName"]
        self.username = f"system:serviceaccount:{namespace}:{account}"
        token = cluster.kubectl(
            "create", "token", account, "-n", namespace, "--duration=4h"
        ).stdout.strip()
        # Each token has its own id, which the audit log records with every request it made:
        # this tells this process's requests from those of another with the same account.
        claims = token.split(".")[1]
        self.credential = (
            "JTI=" + json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["jti"]
        )
        self.kubeconfig = cluster.workdir / f"operator-{label}.kubeconfig"
        self.kubeconfig.write_text(
            kubeconfig(cluster.server, cluster.pki / "ca.crt", None, None, token=token)
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, **overrides: str) -> None:
        """Start it; ``overrides`` replace variables of the Deployment's (e.g. the peering)."""
        assert self.process is None or self.process.poll() is not None, "already running"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            **self.env,
            **overrides,
            "KUBECONFIG": str(self.kubeconfig),
        }
        log = self.log.open("ab")
        self.process = subprocess.Popen(
            self.command,
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log.close()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> int:
        """SIGTERM, as the kubelet does; the exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=60)
            except subprocess.TimeoutExpired as exc:
                self.process.kill()
                self.process.wait()
                raise AssertionError(
                    f"the operator ignored SIGTERM for 60s; log: {self.log}"
                ) from exc
        return self.process.returncode

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def peak_rss_kib(self) -> int:
        """The process's peak resident set size (VmHWM), while it runs."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]

    def forbidden_lines(self) -> list[str]:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [
            line
            for line in text.splitlines()
            if FORBIDDEN.search(line) and not _log_line_excused(line)
        ]

    def requests(self) -> list[dict[str, Any]]:
        """The audit log's record of every request this process made (with its token)."""
        return [
            event
            for event in self.cluster.audit_events()
            if self.credential
            in ((event.get("user") or {}).get("extra") or {}).get(
                "authentication.kubernetes.io/credential-id", []
            )
        ]


def denied(requests: list[dict[str, Any]]) -> list[str]:
    """The requests the API server answered 403, in order (but those into a namespace the test
    was deleting: see DELETING)."""
    return [
        f"{event.get('verb')} {event.get('requestURI')}"
        for event in requests
        if (event.get("responseStatus") or {}).get("code") == 403
        and not _in_deleted_namespace(
            (event.get("objectRef") or {}).get("namespace"),
            event.get("requestReceivedTimestamp", ""),
        )
    ]
