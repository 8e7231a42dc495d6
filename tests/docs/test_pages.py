"""The pages render as meant: every table has its header and separator, every shell block reads
as whole commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.markdown import ROOT, commands, documents, fenced_blocks, headless_tables

PAGES = documents()


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_table_has_a_header(page: Path) -> None:
    assert headless_tables(page.read_text()) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_shell_block_is_whole_commands(page: Path) -> None:
    for block in fenced_blocks(page.read_text(), "sh"):
        assert commands(block)  # an unclosed quote or a trailing backslash fails here


def test_rows_cut_off_from_their_table_are_found() -> None:
    text = "| a | b |\n|---|---|\n| 1 | 2 |\n\nA paragraph.\n| 3 | 4 |\n"
    assert headless_tables(text) == ["| 3 | 4 |"]
