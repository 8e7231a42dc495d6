"""`python -m watcher export progsnap2`: the same archive as the route, from the command line."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.service.test_export import CONTACT, KEY, checked, export, ingest_activity
from watcher.config import Settings
from watcher.progress import ProgressBar


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return Settings(db_path=db_path, **CONTACT)


@pytest.fixture
async def activity(client, post_snapshot) -> None:
    await ingest_activity(client, post_snapshot)


def run_cli(tmp_path: Path, db_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "watcher", "export", "progsnap2", "--db-path", str(db_path), *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,  # no .env of the repository
        timeout=60,
    )


async def test_cli_writes_the_routes_main_table(client, activity, db_path, tmp_path):
    output = tmp_path / "os-1.zip"
    result = run_cli(
        tmp_path, db_path, "--class", "os-1", "--output", str(output),
        "--contact-name", "Kim TA", "--contact-email", "ta@example.edu",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr  # stderr is not a terminal: no progress bar
    assert "wrote" in result.stderr
    from_cli = checked(output.read_bytes())
    from_route, _ = await export(client)
    for name in ("MainTable.csv", "DatasetMetadata.csv", "LinkTables/CodeState.csv"):
        assert from_cli.read(name) == from_route.read(name), name
    assert not list(tmp_path.glob("*.part"))


async def test_cli_takes_the_readme_from_settings_or_flags(client, activity, db_path, tmp_path):
    output = tmp_path / "a.zip"
    env = {"WATCHER_EXPORT_CONTACT_NAME": "Lee", "WATCHER_EXPORT_CONTACT_EMAIL": "lee@example.org",
           "WATCHER_EXPORT_DESCRIPTION": "OS class, spring term"}  # fmt: skip
    result = run_cli(tmp_path, db_path, "--class", "os-1", "-q", "-o", str(output), **env)
    assert result.returncode == 0, result.stderr
    readme = checked(output.read_bytes()).read("README.txt").decode()
    assert readme.startswith("OS class, spring term\r\n")
    assert "Contact: Lee <lee@example.org>" in readme
    result = run_cli(tmp_path, db_path, "--class", "os-1", "-q", "-o", str(output),
                     "--contact-name", "Park", "--description", "Another text", **env)  # fmt: skip
    readme = checked(output.read_bytes()).read("README.txt").decode()
    assert readme.startswith("Another text") and "Contact: Park <lee@example.org>" in readme


async def test_cli_filters_and_pseudonymises_like_the_route(
    aiohttp_client,
    activity,
    db_path,
    tmp_path,
):
    from watcher.app import create_app

    keyed = await aiohttp_client(create_app(Settings(db_path=db_path, export_key=KEY, **CONTACT)))
    query = "?assignment=hw1&from=2025-03-10T15:02:00%2B09:00&pseudonymize=true"
    from_route, _ = await export(keyed, query)
    output = tmp_path / "hw1.zip"
    result = run_cli(
        tmp_path, db_path, "--class", "os-1", "--assignment", "hw1",
        "--from", "2025-03-10T15:02:00+09:00", "--pseudonymize", "--quiet",
        "--output", str(output), WATCHER_EXPORT_KEY=KEY,
        WATCHER_EXPORT_CONTACT_NAME="Kim TA", WATCHER_EXPORT_CONTACT_EMAIL="ta@example.edu",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # --quiet
    table = checked(output.read_bytes()).read("MainTable.csv")
    assert table == from_route.read("MainTable.csv")
    assert b"202012345" not in table
    rows = list(csv.DictReader(io.StringIO(table.decode())))
    assert rows and {r["AssignmentID"] for r in rows} == {"hw1"}


def test_cli_refuses_bad_parameters_naming_them(tmp_path, db_path):
    db_path.touch()
    cases = [
        (("--class", "os_1"), "--class"),
        (("--class", "os-1", "--from", "soon"), "--from"),
        (("--class", "os-1", "--from", "2025-03-11", "--to", "2025-03-10"), "--to"),
        (("--class", "os-1", "--pseudonymize"), "WATCHER_EXPORT_KEY"),
        (("--class", "os-1", "--contact-email", "not-an-address"), "--contact-email"),
    ]
    for args, named in cases:
        result = run_cli(tmp_path, db_path, *args, "--output", str(tmp_path / "x.zip"))
        assert result.returncode == 2, result.stderr
        assert named in result.stderr
    missing = run_cli(tmp_path, tmp_path / "nope.db", "--class", "os-1", "-o", "x.zip")
    assert missing.returncode == 2 and "nope.db" in missing.stderr
    assert not (tmp_path / "nope.db").exists()  # never creates an empty database
    assert not (tmp_path / "x.zip").exists()


def test_progress_bar_counts_rows_of_the_total():
    stream = io.StringIO()
    bar = ProgressBar(stream, total=200, unit="")  # as the export's CLI shows it: a pass each
    bar(200, "code states")
    bar(50, "rows")
    bar(200, "rows")
    bar.finish()
    text = stream.getvalue()
    assert "code states 200 / 200" in text and "rows 50 / 200" in text and "25%" in text
    assert text.rstrip("\n").endswith("rows 200 / 200 [" + "#" * 30 + "] 100%")
