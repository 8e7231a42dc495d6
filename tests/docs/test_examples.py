"""The documentation's examples, run as written: every `curl localhost:3000/...` and
`python -m watcher export ...` command of a page's shell blocks, in page order, through bash and
the real curl, against a real `python -m watcher serve` (or the gateway, for its page) on a
database of its own. Each must succeed (curl --fail-with-body: a 4xx or 5xx fails it), and a
comment that is JSON (`# ["main.c"]`) must be exactly what the command printed.

Each page states the data its answers assume; SEEDS posts exactly that before the page runs.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import os
import re
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests import progsnap2_check
from tests.gateway.helpers import gateway_process
from tests.markdown import ROOT, Command, commands, documents, fenced_blocks
from tests.service.helpers import BUILD, FAILED_BUILD, RUN, service_process, snapshot_url

pytestmark = pytest.mark.skipif(
    shutil.which("curl") is None, reason="the examples are run with curl, which is not installed"
)

ADDRESS = "localhost:3000"
ASSIGNMENT = re.compile(r"[A-Za-z_]\w*=\S+")
# The real curl, told to fail on an error status and to print nothing but the body.
PRELUDE = """set -euo pipefail
curl() { command curl --silent --show-error --fail-with-body --max-time 60 "$@"; }
python() { "$DOCS_PYTHON" "$@"; }
"""


@dataclasses.dataclass(frozen=True)
class Snapshot:
    filename: str
    utc_stamp: str
    size: int
    student: int = 202012345
    content: bytes | None = None

    def body(self) -> dict[str, object]:
        if self.content is None:
            return {"bytes": self.size}
        return {"bytes": self.size, "content_b64": base64.b64encode(self.content).decode()}


# docs/api.md's data: with its own three POSTs (a save of main.c at 06:01:30, a build, a run),
# the class holds the data set of the original backend's verified examples.
CLASS_BEFORE_API = (
    Snapshot("main.c", "20250310_060000", 100),
    Snapshot("src@util.c", "20250310_060500", 40),
    Snapshot("main.c", "20250310_061200", 120),
    Snapshot("a.c", "20250310_070000", 10, student=202099999),
    Snapshot("a.c", "20250310_070100", 30, student=202099999),
    Snapshot("b.c", "20250310_070200", 5, student=202099999),
    ("build", FAILED_BUILD),
)
CLASS = (
    *CLASS_BEFORE_API,
    Snapshot("main.c", "20250310_060130", 150),
    ("build", BUILD),
    ("run", RUN),
)
# docs/content.md's data: two saves of main.c with their content.
CONTENT = (
    Snapshot("main.c", "20250310_060000", 15, content=b"int main()\n{\n}\n"),
    Snapshot("main.c", "20250310_060130", 26, content=b"int main()\n{\n\treturn 0;\n}\n"),
)
SEEDS: dict[str, tuple] = {
    "README.md": (),
    "docs/api.md": CLASS_BEFORE_API,
    "docs/insights.md": CLASS,
    "docs/content.md": CONTENT,
    "docs/export.md": CLASS,
    "docs/gateway.md": (),
}


def replayed(command: Command) -> bool:
    words = command.words
    return (words[0] == "curl" and ADDRESS in command.text) or words[:4] == [
        "python",
        "-m",
        "watcher",
        "export",
    ]


def pages_with_examples() -> set[str]:
    return {
        str(page.relative_to(ROOT))
        for page in documents()
        for block in fenced_blocks(page.read_text(), "sh")
        if any(replayed(command) for command in commands(block))
    }


def expected_answer(comment: str) -> object | None:
    """The JSON a comment starts with (`["main.c"], from the ds-2 instance`), if any."""
    if not comment.startswith(("[", "{")):
        return None
    try:
        return json.JSONDecoder().raw_decode(comment)[0]
    except json.JSONDecodeError:  # an abridged answer, e.g. ["20250310_150130", ...]
        return None


async def seed(base: str, data: tuple) -> None:
    async with aiohttp.ClientSession() as session:
        for item in data:
            if isinstance(item, Snapshot):
                url = base + snapshot_url(
                    "os-1", "hw1", item.student, item.filename, item.utc_stamp
                )
                body = item.body()
            else:
                kind, body = item
                url = f"{base}/api/os-1/hw1/202012345/logs/{kind}"
            async with session.post(url, json=body) as response:
                assert response.status == 200, await response.text()


# What a page's text says the service is set to.
SETTINGS = {
    "docs/export.md": {
        "WATCHER_EXPORT_CONTACT_NAME": "Kim TA",
        "WATCHER_EXPORT_CONTACT_EMAIL": "ta@example.edu",
    },
}


@contextlib.asynccontextmanager
async def server_for(page: str, tmp_path: Path) -> AsyncIterator[str]:
    """The server a page's examples talk to: its base URL."""
    if page != "docs/gateway.md":
        settings = SETTINGS.get(page, {})
        async with service_process(tmp_path / "watcher.db", **settings) as (_process, base):
            yield base
        return
    # As the page's example: two classes, each on its own service, behind the gateway.
    async with (
        service_process(tmp_path / "os-1.db") as (_one, os_1),
        service_process(tmp_path / "ds-2.db") as (_two, ds_2),
        gateway_process(tmp_path, {"os-1": os_1, "ds-2": ds_2}) as (_gateway, base),
    ):
        yield base


async def run(command: str, variables: list[str], base: str, cwd: Path) -> str:
    script = PRELUDE + "\n".join([*variables, command]).replace(ADDRESS, base.split("//")[1])
    environment = {
        **os.environ,
        "DOCS_PYTHON": sys.executable,
        "WATCHER_DB_PATH": str(cwd.parent / "watcher.db"),
    }
    process = await asyncio.create_subprocess_exec(
        "bash", "-c", script, cwd=cwd, env=environment, stdout=-1, stderr=-1
    )
    out, err = await process.communicate()
    assert process.returncode == 0, f"{command}\nexit {process.returncode}: {err.decode()}{out!r}"
    return out.decode()


async def replay(page: str, tmp_path: Path) -> int:
    """Run a page's examples in order; returns how many ran."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    ran = 0
    async with server_for(page, tmp_path) as base:
        await seed(base, SEEDS[page])
        for block in fenced_blocks((ROOT / page).read_text(), "sh"):
            variables: list[str] = []
            for command in commands(block):
                if ASSIGNMENT.fullmatch(command.text):
                    variables.append(command.text)
                    continue
                if not replayed(command):
                    continue
                printed = await run(command.text, variables, base, workdir)
                ran += 1
                expected = expected_answer(command.comment)
                if expected is not None:
                    assert json.loads(printed) == expected, command.text
    return ran


def test_every_page_with_examples_is_replayed() -> None:
    assert pages_with_examples() == set(SEEDS)


@pytest.mark.parametrize("page", sorted(set(SEEDS) - {"docs/export.md"}))
async def test_the_examples_answer_as_shown(page: str, tmp_path: Path) -> None:
    assert await replay(page, tmp_path) > 0


async def test_the_export_examples_write_valid_progsnap2_archives(tmp_path: Path) -> None:
    assert await replay("docs/export.md", tmp_path) == 2
    archives = sorted((tmp_path / "work").glob("*.zip"))
    assert len(archives) == 2, archives  # the route's (named by the server) and the command's
    for archive in archives:
        report = progsnap2_check.validate(archive.read_bytes())
        assert report.ok, report.render()
        assert sum(report.events.values()) == 10  # CLASS: seven saves, two builds, a run


def test_a_comment_that_is_json_is_an_answer() -> None:
    assert expected_answer('["main.c"], from the ds-2 instance') == ["main.c"]
    assert expected_answer('["20250310_150130", ...]  (oldest first)') is None
    assert expected_answer("builds, newest first") is None
