"""Every relative link of the documentation leads somewhere: the file or directory exists and
the anchor is a heading (or an id) of that page. And every page of docs/ is reachable."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.markdown import DOCS, ROOT, anchors, documents, links, slug


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in links(page.read_text()):
        parts = urlsplit(target)
        if parts.scheme or parts.netloc:  # https:, mailto:: not ours to check offline
            continue
        path = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if not path.exists():
            broken.append(f"{target}: no such file or directory")
        elif parts.path and page.is_relative_to(ROOT) and not path.is_relative_to(ROOT):
            broken.append(f"{target}: outside the repository")
        elif parts.fragment:
            if path.suffix != ".md":
                broken.append(f"{target}: an anchor into a file that is not Markdown")
            elif unquote(parts.fragment) not in anchors(path.read_text()):
                broken.append(f"{target}: no heading #{parts.fragment} in {path.name}")
    return broken


@pytest.mark.parametrize("page", documents(), ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_every_page_of_docs_is_linked_from_the_readme() -> None:
    readme = ROOT / "README.md"
    linked = {(readme.parent / urlsplit(t).path).resolve() for t in links(readme.read_text())}
    assert [p.name for p in DOCS.glob("*.md") if p.resolve() not in linked] == []


def test_the_anchor_rules_are_githubs() -> None:
    # Examples of what GitHub renders: code spans lose their backticks, punctuation goes, a
    # space becomes '-', and "-m" keeps its hyphen next to the space's.
    assert slug("One-off backups: `python -m watcher backup` and `restore`") == (
        "one-off-backups-python--m-watcher-backup-and-restore"
    )
    assert slug("Who may create WatcherInstances (trust model)") == (
        "who-may-create-watcherinstances-trust-model"
    )
    assert anchors("# A\n## A\n```\n# not a heading\n```\n") == {"a", "a-1"}


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Top\n[ok](#top) [gone](#nowhere) [file](missing.md) `[code](x.md)`\n")
    assert broken_links(page) == [
        "#nowhere: no heading #nowhere in page.md",
        "missing.md: no such file or directory",
    ]
