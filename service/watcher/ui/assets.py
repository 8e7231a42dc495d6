"""The built assets (service/watcher/ui/static, written by `make ui`): loaded once, served from
memory under their content-hashed names, so a name never changes meaning and may be cached
forever."""

from __future__ import annotations

import functools
import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
MANIFEST = "manifest.json"
PREFIX = "/ui/static/"
_TYPES = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain"}


class AssetsMissing(RuntimeError):
    """The package was built without its UI assets."""


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str


@dataclass(frozen=True)
class Assets:
    files: dict[str, Asset]  # served name -> content
    entries: dict[str, str]  # logical name (app.js, app.css) -> served name

    def url(self, logical: str) -> str:
        return PREFIX + self.entries[logical]

    @classmethod
    def load(cls, directory: Path) -> Assets:
        try:
            entries = json.loads((directory / MANIFEST).read_text())
        except FileNotFoundError:
            raise AssetsMissing(f"{directory / MANIFEST} is missing: run `make ui`") from None
        files = {}
        for path in sorted(directory.iterdir()):
            if path.is_file() and path.name != MANIFEST:
                kind = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
                files[path.name] = Asset(path.read_bytes(), kind or "application/octet-stream")
        missing = [name for name in entries.values() if name not in files]
        if missing:
            raise AssetsMissing(f"the manifest names files that are not there: {missing}")
        return cls(files, entries)


@functools.cache
def bundled() -> Assets:
    """The assets shipped in the package (read once per process)."""
    return Assets.load(STATIC_DIR)
