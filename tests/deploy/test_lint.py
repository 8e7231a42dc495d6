"""Linters of the deploy files: hadolint on the Dockerfile, yamllint on every YAML file and on the
chart's rendered output (its templates are not YAML until rendered). Each has a control that
shows it does fail on a bad file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.helpers import FULL_VALUES, MONITORING, ROOT, render_text

BIN = Path(sys.executable).parent
HADOLINT = BIN / "hadolint"
YAMLLINT = BIN / "yamllint"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*args], capture_output=True, text=True, timeout=120, check=False, cwd=cwd
    )


def test_hadolint_passes_on_the_dockerfile() -> None:
    result = run(str(HADOLINT), "--no-color", "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_on_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install aiohttp\nCMD python -m watcher serve\n")
    result = run(str(HADOLINT), "--no-color", str(bad))
    assert result.returncode != 0
    for rule in ("DL3007", "DL3013", "DL3025"):  # latest tag, unpinned pip, shell-form CMD
        assert rule in result.stdout, result.stdout


def test_yamllint_passes_on_the_repository() -> None:
    result = run(str(YAMLLINT), "--strict", "--format", "parsable", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"values": [FULL_VALUES], "api_versions": [MONITORING]},
        {"sets": ["rbac.clusterWide=false", "operator.namespaces={a,b}"]},
    ],
    ids=["default", "full+monitoring", "namespaced-rbac"],
)
def test_yamllint_passes_on_the_rendered_chart(options: dict, tmp_path: Path) -> None:
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(render_text(**options, include_crds=True))
    result = run(str(YAMLLINT), "--strict", "--format", "parsable", str(rendered))
    assert result.returncode == 0, result.stdout


def test_yamllint_fails_on_bad_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: 1\na: 2\nb:   [x,y]   \n")
    result = run(str(YAMLLINT), "--strict", "--format", "parsable", str(bad), cwd=ROOT)
    assert result.returncode != 0
    assert "key-duplicates" in result.stdout and "trailing-spaces" in result.stdout
