"""Reading the repository's Markdown as GitHub shows it: headings and their anchors, links,
tables, and the commands of its shell blocks.

The documentation tests (tests/docs) and the settings-table checks of each package use it to hold
the text to the code.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_INLINE_LINK = re.compile(r"!?\[(?:[^\]`]|`[^`]*`)*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
_HTML_ID = re.compile(r"""<a\s+(?:id|name)=["']([^"']+)["']""")
_SETTING = re.compile(r"^`([A-Z][A-Z0-9_]*)`$")


def documents() -> list[Path]:
    """Every Markdown page of the documentation: the README, docs/ and the operator's README."""
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md")), ROOT / "operator" / "README.md"]


def prose(text: str) -> Iterator[str]:
    """The lines outside fenced code blocks."""
    fence = ""
    for line in text.splitlines():
        match = _FENCE.match(line)
        if match and (not fence or match.group(1) == fence):
            fence = "" if fence else match.group(1)
            continue
        if not fence:
            yield line


def fenced_blocks(text: str, *languages: str) -> list[str]:
    """The contents of the fenced blocks whose info string is one of `languages`."""
    blocks: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if current is None:
            if stripped.startswith("```") and stripped[3:].strip() in languages:
                current = []
        elif stripped.startswith("```"):
            blocks.append("\n".join(current))
            current = None
        else:
            current.append(line)
    return blocks


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text lower-cased, punctuation dropped, spaces to '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link counts by its text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a page offers: its headings' slugs (repeats get -1, -2, ...) and HTML ids."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose(text):
        if match := _HEADING.match(line):
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
        found.update(_HTML_ID.findall(line))
    return found


def links(text: str) -> list[str]:
    """The targets of the inline links of a page, outside code blocks and code spans."""
    targets: list[str] = []
    for line in prose(text):
        targets += _INLINE_LINK.findall(_CODE_SPAN.sub("", line))
    return targets


def headless_tables(text: str) -> list[str]:
    """The first line of each table whose second line is not a separator (`|---|---|`):
    GitHub shows those lines as text, e.g. rows cut off from their table by a paragraph."""
    found = []
    block: list[str] = []
    for line in [*prose(text), ""]:
        stripped = line.strip()
        if stripped.startswith("|") and stripped.endswith("|"):
            block.append(stripped)
            continue
        if block and (len(block) < 2 or not re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", block[1])):
            found.append(block[0])
        block = []
    return found


def tables(text: str) -> list[list[list[str]]]:
    """The tables of a page, each a list of rows of cells, its header row first (separator rows
    left out)."""
    found: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*prose(text), ""]:
        stripped = line.strip()
        if not (stripped.startswith("|") and stripped.endswith("|")):
            if current:
                found.append(current)
            current = []
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", stripped[1:-1])]
        if not all(re.fullmatch(r":?-+:?", cell) for cell in cells):
            current.append(cells)
    return found


def table_rows(text: str) -> list[list[str]]:
    """The cells of every table row of a page (header rows included)."""
    return [row for table in tables(text) for row in table]


def settings_table(text: str, prefix: str) -> dict[str, tuple[str, str]]:
    """variable -> (default, meaning) of the table rows whose first cell is `PREFIX...`."""
    table: dict[str, tuple[str, str]] = {}
    for cells in table_rows(text):
        match = _SETTING.match(cells[0])
        if match and match.group(1).startswith(prefix) and len(cells) >= 3:
            assert match.group(1) not in table, f"{match.group(1)} has two rows"
            table[match.group(1)] = (cells[1], cells[2])
    return table


def same_default(documented: str, actual: str) -> bool:
    """Whether a table's default cell says the code's default: `empty` is the empty string,
    numbers compare as numbers (`30` is 30.0), words without case, paths as paths."""
    text = documented.strip()
    if text.startswith("`") and text.endswith("`"):
        text = text[1:-1]
    elif text == "empty":
        text = ""
    if text.lower() == actual.lower():
        return True
    try:
        return float(text) == float(actual)
    except ValueError:
        return bool(text) and os.path.normpath(text) == os.path.normpath(actual)


@dataclasses.dataclass(frozen=True)
class Command:
    """One command of a shell block as written (continuation lines included) and the comment
    after it, which says what it answers."""

    text: str
    comment: str

    @property
    def words(self) -> list[str]:
        return shlex.split(self.text, comments=True)


def commands(block: str) -> list[Command]:
    """The commands of a shell block: a command goes on over lines that end in a backslash or
    inside an open quote; comment lines and blank lines are skipped."""
    found: list[Command] = []
    pending: list[str] = []
    for line in block.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending.append(line)
        text = "\n".join(pending)
        if text.rstrip().endswith("\\") or not _complete(text):
            continue
        found.append(_with_comment(text))
        pending = []
    assert not pending, f"unfinished command: {pending}"
    return found


def _complete(text: str) -> bool:
    try:
        shlex.split(text, comments=True)
    except ValueError:  # a quote still open
        return False
    return True


def _with_comment(text: str) -> Command:
    """Split the trailing comment off the command's last line (a '#' outside quotes)."""
    words = shlex.split(text, comments=True)
    start = text.rfind("\n") + 1
    for match in re.finditer(r"\s#", text[start:]):
        cut = start + match.start()
        head = text[:cut]
        if _complete(head) and shlex.split(head) == words:
            return Command(head.rstrip(), text[cut:].strip()[1:].strip())
    return Command(text, "")
