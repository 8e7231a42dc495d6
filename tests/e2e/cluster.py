"""A real Kubernetes control plane on 127.0.0.1, from the binaries `make e2e-tools` builds.

etcd; kube-apiserver (RBAC and Node authorization, the default admission plugins, service-account
tokens, an audit log of the operator's requests); kube-controller-manager (every default
controller: garbage collector, deployments, replica sets, namespaces, service accounts, volume
binding, ...); kube-scheduler; and kwok, which plays the kubelet of two fake nodes so that
scheduled pods become Running and Ready. Everything lives in one directory: certificates,
kubeconfigs, etcd's data and a log per component (``logs/<component>.log``).

Every process is started in its own process group with a parent-death signal, so that a killed
test run does not leave them behind; ``stop`` ends them (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.e2e import pki

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".tools" / "bin"
KUBECTL = Path(sys.executable).parent / "kubectl"
STAGES = Path(__file__).with_name("kwok-stages.yaml")
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
SERVICE_CIDR = "10.96.0.0/16"
NODES = ("kwok-node-0", "kwok-node-1")
# The node label kwok selects the nodes it plays by.
KWOK_LABEL = ("type", "kwok")
# Requests of every ServiceAccount of these namespaces are written to the audit log (the
# operator's identity is one of them); the rest of the cluster's traffic is not.
AUDITED_NAMESPACES = ("watcher",)

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the test process dies, however it dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def missing_tools() -> list[str]:
    return [name for name in COMPONENTS if not (BIN / name).is_file()]


def kubeconfig(server: str, ca: Path, cert: Path | None, key: Path | None, token: str = "") -> str:
    """A kubeconfig for one user: a client certificate, or a bearer token."""
    user: dict[str, str] = {"token": token} if token else {}
    if cert and key:
        user = {"client-certificate": str(cert), "client-key": str(key)}
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "e2e", "cluster": {"server": server, "certificate-authority": str(ca)}}
            ],
            "users": [{"name": "user", "user": user}],
            "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": "user"}}],
            "current-context": "e2e",
        },
        indent=2,
    )


class Cluster:
    """The control plane in ``workdir``; ``start`` brings it up, ``stop`` ends every process."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.pki = workdir / "pki"
        self.logs = workdir / "logs"
        self.audit_log = self.logs / "audit.log"
        self.ports = {
            name: free_port() for name in ("etcd", "etcd-peer", "apiserver", "kcm", "sched")
        }
        self.server = f"https://127.0.0.1:{self.ports['apiserver']}"
        self.admin_kubeconfig = workdir / "admin.kubeconfig"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        missing = missing_tools()
        if missing:
            raise RuntimeError(f"missing in {BIN}: {missing}; run `make e2e-tools`")
        self.logs.mkdir(parents=True, exist_ok=True)
        pki.make(
            self.pki,
            {
                "admin": "/O=system:masters/CN=e2e-admin",
                "kcm": "/CN=system:kube-controller-manager",
                "scheduler": "/CN=system:kube-scheduler",
            },
        )
        for user in ("admin", "kcm", "scheduler"):
            (self.workdir / f"{user}.kubeconfig").write_text(
                kubeconfig(
                    self.server,
                    self.pki / "ca.crt",
                    self.pki / f"{user}.crt",
                    self.pki / f"{user}.key",
                )
            )
        self._start_etcd()
        self._start_apiserver()
        self._start_controllers()
        self._add_nodes()

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            process = self.processes[name]
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            if process.poll() is None:
                process.kill()
                process.wait()

    def dead_components(self) -> list[str]:
        return [name for name, process in self.processes.items() if process.poll() is not None]

    # -- components --------------------------------------------------------------------------

    def _spawn(self, name: str, args: list[str]) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log.close()

    def _wait(self, what: str, probe: Callable[[], bool], within: float = 60) -> None:
        deadline = time.monotonic() + within
        while not probe():
            dead = self.dead_components()
            if dead:
                raise RuntimeError(f"{dead} exited while waiting for {what}; logs in {self.logs}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"timed out after {within}s waiting for {what}; logs: {self.logs}"
                )
            time.sleep(0.2)

    def _start_etcd(self) -> None:
        client = f"http://127.0.0.1:{self.ports['etcd']}"
        peer = f"http://127.0.0.1:{self.ports['etcd-peer']}"
        self._spawn(
            "etcd",
            [
                str(BIN / "etcd"),
                "--name=e2e",
                f"--data-dir={self.workdir / 'etcd'}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=e2e={peer}",
                # A throwaway cluster on a shared disk: durability is not what is tested.
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )
        self._wait("etcd", lambda: _http_ok(f"{client}/health"))

    def _start_apiserver(self) -> None:
        policy = self.workdir / "audit-policy.yaml"
        policy.write_text(
            json.dumps(
                {
                    "apiVersion": "audit.k8s.io/v1",
                    "kind": "Policy",
                    "omitStages": ["RequestReceived"],
                    "rules": [
                        {
                            "level": "Metadata",
                            "userGroups": [
                                f"system:serviceaccounts:{ns}" for ns in AUDITED_NAMESPACES
                            ],
                        },
                        {"level": "None"},
                    ],
                }
            )
        )
        p = self.pki
        self._spawn(
            "kube-apiserver",
            [
                str(BIN / "kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{self.ports['etcd']}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.ports['apiserver']}",
                f"--tls-cert-file={p / 'apiserver.crt'}",
                f"--tls-private-key-file={p / 'apiserver.key'}",
                f"--client-ca-file={p / 'ca.crt'}",
                "--authorization-mode=Node,RBAC",
                # Service-account tokens: issued (TokenRequest) and verified with this pair.
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={p / 'sa.pub'}",
                f"--service-account-signing-key-file={p / 'sa.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--audit-policy-file={policy}",
                f"--audit-log-path={self.audit_log}",
                "--audit-log-maxsize=0",
                "--profiling=false",
                "--v=1",
            ],
        )
        self._wait("kube-apiserver /readyz", self._apiserver_ready, within=120)

    def _admin_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        context.load_cert_chain(self.pki / "admin.crt", self.pki / "admin.key")
        return context

    def _apiserver_ready(self) -> bool:
        return _http_ok(f"{self.server}/readyz", self._admin_context())

    def api_get(self, path: str) -> Any:
        """GET an API path as the admin, without kubectl's start-up time (for tight polls)."""
        with urllib.request.urlopen(
            f"{self.server}{path}", timeout=10, context=self._admin_context()
        ) as response:
            return json.loads(response.read())

    def _start_controllers(self) -> None:
        p, w = self.pki, self.workdir
        delegated = [
            f"--authentication-kubeconfig={w / 'admin.kubeconfig'}",
            f"--authorization-kubeconfig={w / 'admin.kubeconfig'}",
            "--bind-address=127.0.0.1",
            "--leader-elect=false",
        ]
        self._spawn(
            "kube-controller-manager",
            [
                str(BIN / "kube-controller-manager"),
                f"--kubeconfig={w / 'kcm.kubeconfig'}",
                *delegated,
                f"--secure-port={self.ports['kcm']}",
                # Each controller acts as its own service account, as in a real cluster.
                "--use-service-account-credentials=true",
                f"--service-account-private-key-file={p / 'sa.key'}",
                f"--root-ca-file={p / 'ca.crt'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--v=1",
            ],
        )
        self._spawn(
            "kube-scheduler",
            [
                str(BIN / "kube-scheduler"),
                f"--kubeconfig={w / 'scheduler.kubeconfig'}",
                *delegated,
                f"--secure-port={self.ports['sched']}",
                "--v=1",
            ],
        )
        self._spawn(
            "kwok",
            [
                str(BIN / "kwok"),
                f"--kubeconfig={w / 'admin.kubeconfig'}",
                f"--config={STAGES}",
                "--manage-all-nodes=false",
                f"--manage-nodes-with-label-selector={KWOK_LABEL[0]}={KWOK_LABEL[1]}",
                "--node-lease-duration-seconds=40",
                "--cidr=10.244.0.0/16",
                "--node-ip=10.0.0.1",
            ],
        )
        # The service-account controller creates every namespace's "default" account.
        self._wait(
            "the default ServiceAccount (kube-controller-manager running)",
            lambda: (
                self.kubectl(
                    "get", "serviceaccount", "default", "-n", "default", check=False
                ).returncode
                == 0
            ),
        )

    def _add_nodes(self) -> None:
        nodes = {
            "apiVersion": "v1",
            "kind": "List",
            "items": [
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {
                        "name": name,
                        "labels": {
                            KWOK_LABEL[0]: KWOK_LABEL[1],
                            "kubernetes.io/hostname": name,
                            "kubernetes.io/os": "linux",
                            "kubernetes.io/arch": "amd64",
                        },
                        "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
                    },
                    "spec": {},
                }
                for name in NODES
            ],
        }
        self.kubectl("apply", "-f", "-", input=json.dumps(nodes))
        self._wait(
            "the kwok nodes Ready",
            lambda: (
                self.kubectl(
                    "wait", "--for=condition=Ready", "node", *NODES, "--timeout=1s", check=False
                ).returncode
                == 0
            ),
        )

    # -- clients ------------------------------------------------------------------------------

    def kubectl(
        self,
        *args: str,
        input: str | None = None,
        check: bool = True,
        kubeconfig: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(KUBECTL), f"--kubeconfig={kubeconfig or self.admin_kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
            )
        return result

    def get(self, *args: str) -> Any:
        """kubectl get ... -o json, parsed."""
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def audit_events(self) -> Iterator[dict[str, Any]]:
        if not self.audit_log.exists():
            return
        with self.audit_log.open() as lines:
            for line in lines:
                with contextlib.suppress(ValueError):
                    yield json.loads(line)


def _http_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:
            return response.status == 200
    except OSError:
        return False
