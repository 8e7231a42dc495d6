"""The routing table: `{"<classDiv>": "<serviceURL>"}` in a file the operator keeps current.

In Kubernetes the file is the key `routes.json` of the ConfigMap `watcher-routes`, mounted as a
directory. kubelet updates such a mount by writing a new hidden directory and swapping a symlink
(`..data`) atomically, so watching the path with inotify misses updates; the file is polled
instead: every interval it is read again (it is small) and reloaded when its bytes changed.

A table is immutable. A reload builds a new one and swaps one reference, so a request that looked
up its upstream before the swap finishes on the old table while later ones use the new one. A file
that cannot be used (missing, unreadable, not JSON, wrong shape) never replaces a good table: it is
logged once per distinct content and counted, and the last good table stays in force.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from yarl import URL

from watcher.gateway.config import upstream_url

log = logging.getLogger("watcher.gateway.table")


class TableError(ValueError):
    """The file's content is not a usable routing table; the message says where."""


def parse_table(raw: bytes) -> Mapping[str, URL]:
    """Parse and validate a routing table file's bytes (UTF-8 JSON object of URLs)."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TableError(f"not UTF-8 JSON: {exc}") from None
    if not isinstance(data, dict):
        raise TableError(f"expected a JSON object of classDiv -> URL, got {type(data).__name__}")
    table: dict[str, URL] = {}
    for class_div, url in data.items():
        if not class_div or "/" in class_div:
            raise TableError(f"class {class_div!r}: must be non-empty and contain no '/'")
        if not isinstance(url, str):
            raise TableError(f"class {class_div!r}: URL must be a string, got {url!r}")
        try:
            table[class_div] = upstream_url(url)
        except ValueError as exc:
            raise TableError(f"class {class_div!r}: {url!r} {exc}") from None
    return MappingProxyType(table)


class RoutingTable:
    """Holds the table in force and reloads it from `path` whenever the file's bytes change.

    `on_reload(ok, size)` is called after each attempt that changed something (metrics).
    """

    def __init__(
        self, path: Path, on_reload: Callable[[bool, int], None] = lambda ok, size: None
    ) -> None:
        self.path = path
        self.routes: Mapping[str, URL] | None = None  # None until a good file has been read
        self.loaded_at: float | None = None  # wall clock of the last successful load
        self._on_reload = on_reload
        self._seen: bytes | None = None  # content of the last attempt, good or bad
        self._missing_logged = False

    @property
    def loaded(self) -> bool:
        return self.routes is not None

    def lookup(self, class_div: str) -> URL | None:
        routes = self.routes
        return None if routes is None else routes.get(class_div)

    def poll(self) -> bool:
        """Read the file once; install its table if its content changed and is valid.

        Returns True when a new table was installed.
        """
        try:
            # Follows the ..data symlink to the current file. A few KiB on a local volume (tmpfs
            # for a ConfigMap): reading it on the event loop costs microseconds.
            raw = self.path.read_bytes()
        except OSError as exc:
            if not self._missing_logged:
                self._missing_logged = True
                self._seen = None
                kept = "keeping the last good table" if self.loaded else "no table yet"
                log.warning("routing table %s unreadable (%s); %s", self.path, exc, kept)
                self._on_reload(False, self._size())
            return False
        self._missing_logged = False
        if raw == self._seen:
            return False
        self._seen = raw
        try:
            routes = parse_table(raw)
        except TableError as exc:
            kept = "keeping the last good table" if self.loaded else "no table yet"
            log.error("routing table %s rejected: %s; %s", self.path, exc, kept)
            self._on_reload(False, self._size())
            return False
        previous = self.routes or {}
        self.routes = routes
        self.loaded_at = time.time()
        log.info(
            "routing table %s loaded: %d classes%s",
            self.path,
            len(routes),
            _describe_changes(previous, routes),
            extra={"classes": sorted(routes)},
        )
        self._on_reload(True, len(routes))
        return True

    async def watch(self, interval_s: float) -> None:
        """Poll forever (run as a task; cancelled at shutdown)."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                self.poll()
            except Exception:  # never let the watcher die: the table in force stays
                log.exception("routing table poll failed")

    def _size(self) -> int:
        return len(self.routes or {})


def _describe_changes(old: Mapping[str, URL], new: Mapping[str, URL]) -> str:
    added = sorted(new.keys() - old.keys())
    removed = sorted(old.keys() - new.keys())
    changed = sorted(c for c in new.keys() & old.keys() if new[c] != old[c])
    parts = [
        f"{label} {', '.join(names)}"
        for label, names in (("added", added), ("removed", removed), ("changed", changed))
        if names
    ]
    return f" ({'; '.join(parts)})" if parts else ""
