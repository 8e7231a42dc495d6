"""The committed assets are exactly what `make ui` builds from ui/ with the locked esbuild and
uPlot: nobody can edit a bundle by hand, or forget to rebuild after editing the sources."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from watcher.ui.assets import STATIC_DIR

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    not (shutil.which("npm") and shutil.which("node")), reason="Node.js and npm not installed"
)
def test_make_ui_rebuilds_the_committed_assets_byte_for_byte(tmp_path):
    out = tmp_path / "static"
    build = subprocess.run(
        ["make", "--no-print-directory", "ui"],
        cwd=ROOT,
        env={**os.environ, "UI_OUT": str(out)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    built = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    committed = {p.name: p.read_bytes() for p in sorted(STATIC_DIR.iterdir())}
    assert sorted(built) == sorted(committed), "run `make ui` and commit the result"
    for name, content in built.items():
        assert content == committed[name], f"{name} differs: run `make ui` and commit the result"
