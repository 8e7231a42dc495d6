"""The image: Dockerfile, .dockerignore and compose.yaml. No Docker engine runs here, so:

- the Dockerfile's settings are checked against the programs' own (port, data path, command, user);
- its builder stage's RUN steps are run as written, outside Docker, on a copy of what its COPY
  steps copy: the project's wheel built and installed with -c constraints.txt into a clean venv;
- the service's smoke test runs against that install (POST a snapshot, GET it back), and the
  gateway's and the operator's entry points start from it;
- compose.yaml is parsed and held to the Dockerfile's settings.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from tests.deploy.dockerfile import Dockerfile, Stage, parse
from tests.deploy.helpers import CHART, ROOT
from watcher.config import Settings as ServiceSettings
from watcher.gateway.config import GatewaySettings
from watcher_operator import conventions as c
from watcher_operator.config import Settings as OperatorSettings

DOCKERFILE = ROOT / "Dockerfile"
# Variables of the builder stage that hold its paths; the run below points them elsewhere.
PATH_VARIABLES = ("VENV", "WHEELS")
SERVE = ["python", "-m", "watcher", "serve"]


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return parse(DOCKERFILE)


@pytest.fixture(scope="module")
def runtime(dockerfile: Dockerfile) -> Stage:
    return dockerfile.stage("runtime")


def project_version() -> str:
    text = (ROOT / "pyproject.toml").read_text()
    [version] = re.findall(r'^version = "([^"]+)"', text, re.MULTILINE)
    return version


def test_two_stages_from_one_pinned_slim_python(dockerfile: Dockerfile) -> None:
    assert [stage.name for stage in dockerfile.stages] == ["builder", "runtime"]
    assert {stage.base for stage in dockerfile.stages} == {"${PYTHON_IMAGE}"}
    image = dockerfile.args["PYTHON_IMAGE"]
    # A patch release of 3.11+, slim, on a named Debian release: never a moving tag.
    assert re.fullmatch(r"python:3\.(1[1-9])\.\d+-slim-[a-z]+", image), image


def test_runtime_stage_contract(runtime: Stage, dockerfile: Dockerfile) -> None:
    env = runtime.env()
    [user] = runtime.all("USER")
    assert user.args == f"{c.RUN_AS_USER}:{c.RUN_AS_GROUP}"  # numeric: runAsNonRoot can check
    [volume] = runtime.all("VOLUME")
    assert volume.args == c.DATA_DIR
    assert env["WATCHER_DB_PATH"] == c.DB_PATH  # the operator's instances rely on both
    assert Path(env["WATCHER_DB_PATH"]).parent == Path(volume.args)
    [expose] = runtime.all("EXPOSE")
    assert int(expose.args) == ServiceSettings().port == GatewaySettings().port == c.PORT
    [cmd] = runtime.all("CMD")
    assert cmd.exec_form() == SERVE
    assert not runtime.all("ENTRYPOINT")  # `command:` in Kubernetes replaces CMD alone
    [workdir] = runtime.all("WORKDIR")
    assert workdir.args.startswith("/")
    # Only the builder's venv reaches the runtime stage: no wheels, sources or compilers.
    copies = runtime.all("COPY")
    builder_venv = dockerfile.stage("builder").env()["VENV"]
    assert [i.flags_and_rest() for i in copies] == [
        ({"from": "builder"}, f"{builder_venv} {builder_venv}")
    ]
    assert env["PATH"].startswith(f"{builder_venv}/bin:")
    for run in runtime.all("RUN"):
        assert not re.search(r"\b(apt-get|apk|gcc|pip)\b", run.args), run.args


def test_oci_labels(runtime: Stage, dockerfile: Dockerfile) -> None:
    labels = {}
    for instruction in runtime.all("LABEL"):
        for token in re.findall(r'(\S+?)="([^"]*)"', instruction.args):
            labels[token[0]] = token[1]
    for key in ("title", "description", "version", "licenses", "source", "revision", "created"):
        assert labels.get(f"org.opencontainers.image.{key}"), key
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    version = labels["org.opencontainers.image.version"]
    assert version == project_version() == chart["appVersion"]
    assert OperatorSettings().default_image == f"ghcr.io/jcode-watcher/jcode-watcher:{version}"
    base = labels["org.opencontainers.image.base.name"]
    assert base == f"docker.io/library/{dockerfile.args['PYTHON_IMAGE']}"


def test_dockerignore_admits_exactly_what_the_builder_copies(dockerfile: Dockerfile) -> None:
    lines = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"  # an allowlist: nothing else is sent to the daemon
    admitted = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = set()
    for instruction in dockerfile.stage("builder").all("COPY"):
        flags, rest = instruction.flags_and_rest()
        assert not flags
        *sources, _ = rest.split()
        copied |= {source.rstrip("/") for source in sources}
    assert admitted == copied
    assert "**/__pycache__" in lines


def builder_steps(dockerfile: Dockerfile) -> tuple[dict[str, str], list[tuple[str, str]], str]:
    """The builder stage as data: its ENV, its COPY (source, destination) pairs, and its RUN
    steps as one shell script."""
    builder = dockerfile.stage("builder")
    env = builder.env()
    assert set(PATH_VARIABLES) <= set(env)
    copies = []
    for instruction in builder.all("COPY"):
        *sources, dest = instruction.flags_and_rest()[1].split()
        copies += [(source, dest) for source in sources]
    runs = []
    for instruction in builder.all("RUN"):
        flags, script = instruction.flags_and_rest()
        assert set(flags) <= {"mount"}, flags  # a cache mount is Docker's business
        # Every path the script uses comes from a variable the test can point elsewhere.
        assert not re.search(r"(?<![\w$}\"])/\w", script), script
        runs.append(script)
    return env, copies, " && ".join(f"({script})" for script in runs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def clean_install(dockerfile: Dockerfile, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The builder stage's steps, run as written: returns the venv they installed into."""
    env_vars, copies, script = builder_steps(dockerfile)
    workdir_instruction = dockerfile.stage("builder").all("WORKDIR")
    assert len(workdir_instruction) == 1
    base = tmp_path_factory.mktemp("image")
    src = base / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
    for source, dest in copies:
        # Docker's COPY: a directory's contents into the destination, a file into it.
        target = src / dest
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, target, ignore=ignore, dirs_exist_ok=True)
        else:
            assert dest.endswith("/"), dest
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / source, target / Path(source).name)
    bin_dir = base / "bin"
    bin_dir.mkdir()
    # The base image's `python`; here, the interpreter behind this test's venv.
    (bin_dir / "python").symlink_to(getattr(sys, "_base_executable", sys.executable))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    env.update(env_vars)
    env.update({"VENV": str(base / "venv"), "WHEELS": str(base / "wheels")})
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    result = subprocess.run(
        ["/bin/sh", "-c", script],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return base / "venv"


def venv_run(venv: Path, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "python"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=clean_env(),
        **kwargs,
    )


def clean_env(**extra: str) -> dict[str, str]:
    """An environment with none of this machine's WATCHER_* settings or Python paths."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE")
    return {**{k: v for k, v in os.environ.items() if k in keep}, **extra}


def test_clean_install_holds_only_the_pinned_tree(clean_install: Path) -> None:
    pinned = {
        line.split("==")[0].lower().replace("_", "-"): line.split("==")[1]
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    result = venv_run(clean_install, "-m", "pip", "freeze", "--exclude", "jcode-watcher")
    assert result.returncode == 0, result.stderr
    installed = dict(
        line.lower().replace("_", "-").split("==") for line in result.stdout.splitlines()
    )
    assert installed, "nothing installed"
    unpinned = {name: version for name, version in installed.items() if pinned.get(name) != version}
    assert unpinned == {}, "installed outside constraints.txt"
    # The code runs from the wheel, not from this checkout.
    result = venv_run(
        clean_install,
        "-c",
        "import watcher, watcher_operator as o; print(watcher.__file__); print(o.__file__)",
        cwd=clean_install.parent,
    )
    assert result.returncode == 0, result.stderr
    for line in result.stdout.splitlines():
        assert Path(line).is_relative_to(clean_install), line


@pytest.fixture
def served(clean_install: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`python -m watcher serve` from the clean install, as the image's CMD runs it, on loopback."""
    port = free_port()
    workdir = tmp_path / "app"  # the image's WORKDIR: empty
    workdir.mkdir()
    db = tmp_path / "data" / "watcher.db"
    env = clean_env(WATCHER_DB_PATH=str(db), WATCHER_HOST="127.0.0.1", WATCHER_PORT=str(port))
    log = (tmp_path / "serve.log").open("w")
    python = str(clean_install / "bin" / "python")
    process = subprocess.Popen(
        [python, *SERVE[1:]], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        yield f"http://127.0.0.1:{port}", db
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        log.close()
        assert code == 0, (tmp_path / "serve.log").read_text()[-3000:]


async def test_service_smoke_test_against_the_clean_install(served: tuple[str, Path]) -> None:
    url, db = served
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(f"{url}/readyz") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the service never became ready")
        snapshot = f"{url}/api/os-1/hw1/202012345/main.c/20250310_060130"
        async with session.post(snapshot, json={"bytes": 150}) as response:
            assert response.status == 200, await response.text()
        async with session.get(f"{url}/api/os-1/hw1/202012345") as response:
            assert await response.json() == ["main.c"]
        async with session.get(f"{url}/api/os-1/hw1/202012345/main.c") as response:
            assert await response.json() == ["20250310_150130"]  # stored in KST
        async with session.get(f"{url}/api/docs/swagger.json") as response:
            assert response.status == 200
            assert "paths" in json.loads(await response.text())
        async with session.get(f"{url}/api/docs") as response:
            assert response.status == 200 and "swagger" in (await response.text()).lower()
        async with session.get(f"{url}/metrics") as response:
            assert 'watcher_ingested_total{kind="snapshot"} 1.0' in await response.text()
    assert db.is_file()


def test_gateway_and_operator_entry_points_start_from_the_clean_install(
    clean_install: Path, tmp_path: Path
) -> None:
    result = venv_run(clean_install, "-m", "watcher", "gateway", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "WATCHER_GATEWAY_ROUTES_FILE" in result.stdout
    # The operator takes no arguments (its settings are WATCHER_OPERATOR_*): --help is refused
    # with its usage line and status 2, after which Kopf and the client must import.
    result = venv_run(clean_install, "-m", "watcher_operator", "--help", cwd=tmp_path)
    assert result.returncode == 2
    assert "settings come from WATCHER_OPERATOR_*" in result.stderr
    result = venv_run(
        clean_install, "-c", "import kopf, kubernetes, watcher_operator.handlers", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr


COMPOSE = ROOT / "compose.yaml"


def test_compose_runs_the_image_as_the_dockerfile_says(runtime: Stage) -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    [(name, service)] = compose["services"].items()
    assert service["build"] == "." and (ROOT / "Dockerfile").is_file()
    assert service["command"] == runtime.all("CMD")[0].exec_form()
    [expose] = runtime.all("EXPOSE")
    assert service["ports"] == [f"{expose.args}:{expose.args}"]
    [volume] = runtime.all("VOLUME")
    [mount] = service["volumes"]
    source, target = mount.split(":")
    assert target == volume.args
    assert source in compose["volumes"], "a named volume, declared"
    # The image's layout wins over whatever a .env file says.
    env = service["environment"]
    assert env["WATCHER_DB_PATH"] == runtime.env()["WATCHER_DB_PATH"]
    assert env["WATCHER_PORT"] == expose.args
    assert service["env_file"] == [{"path": ".env", "required": False}]
    assert service["restart"] == "unless-stopped"
    check = service["healthcheck"]["test"]
    assert check[0] == "CMD" and f"127.0.0.1:{expose.args}/readyz" in " ".join(check)
    # The probe is Python (the image has no curl), and it fails on a non-2xx answer.
    assert check[1:3] == ["python", "-c"] and "urlopen" in check[3]
    # Longer than the service's own grace period for in-flight requests.
    grace = int(service["stop_grace_period"].rstrip("s"))
    assert grace > ServiceSettings().shutdown_timeout_s
    assert name == "watcher"


def test_compose_healthcheck_command_works(served: tuple[str, Path], clean_install: Path) -> None:
    """The healthcheck's Python one-liner, pointed at the smoke test's service: 0 when ready."""
    url, _ = served
    check = yaml.safe_load(COMPOSE.read_text())["services"]["watcher"]["healthcheck"]["test"]
    port = url.rsplit(":", 1)[1]
    code = check[3].replace("127.0.0.1:3000", f"127.0.0.1:{port}")
    for _ in range(100):
        if venv_run(clean_install, "-c", code).returncode == 0:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the healthcheck never passed")
    broken = code.replace("/readyz", "/no-such-page")
    assert venv_run(clean_install, "-c", broken).returncode != 0
