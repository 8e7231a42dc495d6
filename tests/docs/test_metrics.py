"""The metric tables of the documentation name exactly the metric families each program exposes:
the service's and the gateway's as scraped from their /metrics, the operator's from the registry
its /metrics serves."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
from prometheus_client import generate_latest

from tests.gateway.helpers import gateway_process
from tests.markdown import DOCS, ROOT, tables
from tests.service.helpers import service_process
from watcher_operator.metrics import Metrics


def exposed(text: str) -> set[str]:
    """The families of a scrape; `<counter>_created` timestamps belong to their counter."""
    families = set(re.findall(r"^# TYPE (\S+) ", text, re.MULTILINE))
    return {name for name in families if not name.endswith("_created")}


def documented(page: Path) -> set[str]:
    """The names in the first column of the tables of `page` headed "metric": `name`,
    `name{label}`, several separated by commas, `process_*`."""
    names = set()
    for header, *rows in tables(page.read_text()):
        if header[0].lower() == "metric":
            for cells in rows:
                names.update(re.findall(r"`([a-z_*]+)(?:\{[^}]*\})?`", cells[0]))
    return names


def compare(table: set[str], families: set[str]) -> tuple[set[str], set[str]]:
    """(families the table lacks, table rows no family has)."""
    wildcards = tuple(name[:-1] for name in table if name.endswith("*"))
    missing = {name for name in families if name not in table and not name.startswith(wildcards)}
    stale = {name for name in table if not name.endswith("*") and name not in families}
    return missing, stale


async def scrape(base: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(base + "/metrics") as response:
        assert response.status == 200
        return await response.text()


async def test_the_service_metrics_table_is_what_metrics_serves(tmp_path: Path) -> None:
    async with service_process(tmp_path / "watcher.db") as (_process, base):
        families = exposed(await scrape(base))
    table = documented(DOCS / "api.md")
    assert compare(table, families) == (set(), set())


async def test_the_gateway_metrics_table_is_what_metrics_serves(tmp_path: Path) -> None:
    async with gateway_process(tmp_path, {}) as (_process, base):
        families = exposed(await scrape(base))
    table = documented(DOCS / "gateway.md")
    assert compare(table, families) == (set(), set())


def test_the_operator_metrics_table_is_what_metrics_serves() -> None:
    families = exposed(generate_latest(Metrics().registry).decode())
    table = documented(ROOT / "operator" / "README.md")
    assert compare(table, families) == (set(), set())


def test_a_missing_or_stale_row_is_found() -> None:
    families = {"a_total", "process_cpu_seconds_total", "b"}
    assert compare({"a_total", "process_*", "c"}, families) == ({"b"}, {"c"})
