"""Snapshot content (issue 9): every version of a file, its content, diffs and replay data.

Versions are the file's snapshot rows in time order. A `{version}` in a path, and `from`/`to` in a
query, name one by its time (see content/stamps.py); when several rows share one second, the last
inserted is meant: it is what the file held at the end of that second.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from watcher.analytics.diffs import diff_hunks, diff_totals, line_changes, split_lines, unified_diff
from watcher.api import params, query
from watcher.api.errors import NotFound, ValidationFailed, error_entry
from watcher.api.query import Param
from watcher.api.state import CONTENT, DATABASE
from watcher.content import ContentReader, Version
from watcher.content.blobs import is_text
from watcher.content.stamps import stamp_of_ref
from watcher.docs import docs, response_schema
from watcher.http.responses import json_response
from watcher.records import Scope
from watcher.schemas import (
    ContentVersionsOut,
    DetailOut,
    DiffOut,
    ReplayOut,
    ValidationErrorOut,
)
from watcher.timefmt import compact_to_kst_iso

_TAGS = ["content"]
_VERSION_REF = "a version: its KST stamp YYYYMMDD_HHMMSS or an ISO 8601 time"
DIFF_QUERY = (
    Param("from", "string", f"The older side, {_VERSION_REF} (default: the version before `to`)"),
    Param("to", "string", f"The newer side, {_VERSION_REF} (default: the latest version)"),
)
REPLAY_QUERY = (
    Param("content", "boolean", "Add each version's text (null for binary or missing content)",
          False),
)  # fmt: skip
_NOT_FOUND = {"schema": DetailOut, "description": "no such file or version, or no content"}
_INVALID = {"schema": ValidationErrorOut, "description": "invalid path or query"}
# Replay reads contents a slice at a time: without ?content=true a long history is never all in
# memory at once.
_REPLAY_SLICE = 64


@dataclass(frozen=True)
class _File:
    """The file a request names, and its versions."""

    scope: Scope
    student_id: int
    filename: str
    versions: list[Version]

    def find(self, raw: str, loc: list[str | int]) -> Version:
        """The version a reference names (the last of equal stamps), else 422 or 404."""
        errors = params.Errors()
        try:
            stamp = stamp_of_ref(raw)
        except ValueError as exc:
            errors.add("version_format", loc, str(exc), raw)
        errors.raise_if_any()
        for version in reversed(self.versions):
            if version.stamp == stamp:
                return version
        raise NotFound(f"no version of {self.filename} at {compact_to_kst_iso(stamp)}")

    def previous(self, version: Version) -> Version | None:
        index = self.versions.index(version)
        return self.versions[index - 1] if index else None


async def _file(request: web.Request) -> _File:
    scope, student_id, filename = params.student_file_path(request)
    async with request.app[DATABASE].read() as conn:
        versions = await request.app[CONTENT].versions(
            conn, scope.class_div, scope.hw_name, student_id, filename
        )
    if not versions:
        raise NotFound(
            f"no snapshots of {filename} for student {student_id}"
            f" in {scope.class_div}/{scope.hw_name}"
        )
    return _File(scope, student_id, filename, versions)


def _unavailable(reader: ContentReader, version: Version, which: str = "version") -> str:
    """Why a version's content cannot be served: the 404's detail."""
    when = compact_to_kst_iso(version.stamp)
    if reader.too_large(version):
        return (
            f"content of {which} {when} is {version.content_size} bytes, over"
            f" WATCHER_CONTENT_MAX_BYTES ({reader.max_bytes})"
        )
    if not reader.volume_configured:
        return (
            f"snapshot content is not configured (WATCHER_SNAPSHOT_DIR is unset) and none was"
            f" posted for {which} {when}"
        )
    return (
        f"no content available for {which} {when}: nothing posted, and no snapshot file within"
        f" {reader.tolerance_s} s on the snapshot volume"
    )


async def _content(request: web.Request, version: Version, which: str = "version") -> bytes:
    reader = request.app[CONTENT]
    if version.available and not reader.too_large(version):
        async with request.app[DATABASE].read() as conn:
            data = (await reader.read(conn, [version]))[version.id]
        if data is not None:
            return data
    raise NotFound(_unavailable(reader, version, which))


def _version_json(
    reader: ContentReader, version: Version, previous: Version | None
) -> dict[str, Any]:
    return {
        "id": version.id,
        "timestamp": compact_to_kst_iso(version.stamp),
        "stamp": version.stamp,
        "bytes": version.size,
        "delta": version.size - (previous.size if previous else 0),
        "deleted": version.size == 0,
        "available": version.available and not reader.too_large(version),
        "source": version.source,
        "content_bytes": version.content_size,
        "binary": None if version.text is None else not version.text,
        "too_large": reader.too_large(version),
    }


def _file_json(request: web.Request, file: _File, versions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "class_div": file.scope.class_div,
        "hw_name": file.scope.hw_name,
        "student_id": file.student_id,
        "filename": file.filename,
        "content_configured": request.app[CONTENT].volume_configured,
        "versions": versions,
    }


@docs(
    tags=_TAGS,
    summary="Every version (snapshot) of a file, oldest first, with its content's availability",
    responses={404: _NOT_FOUND, 422: _INVALID},
)
@response_schema(ContentVersionsOut, 200)
async def versions(request: web.Request) -> web.Response:
    file = await _file(request)
    reader = request.app[CONTENT]
    previous: Version | None = None
    items = []
    for version in file.versions:
        items.append(_version_json(reader, version, previous))
        previous = version
    return json_response(_file_json(request, file, items))


@docs(
    tags=_TAGS,
    summary="A file as it was at one version: text/plain (UTF-8), application/json (.ipynb) or"
    " application/octet-stream",
    description="`{version}` is the KST stamp YYYYMMDD_HHMMSS the legacy timeline lists, or ISO"
    " 8601 (e.g. 2025-03-10T15:01:30+09:00). Several versions in one second: the last one.",
    produces=["text/plain", "application/json", "application/octet-stream"],
    responses={200: {"description": "the content"}, 404: _NOT_FOUND, 422: _INVALID},
)
async def version_content(request: web.Request) -> web.Response:
    file = await _file(request)
    version = file.find(request.match_info["version"], ["path", "version"])
    data = await _content(request, version)
    if not is_text(data):
        return web.Response(body=data, content_type="application/octet-stream")
    if file.filename.lower().endswith(".ipynb"):
        return web.Response(body=data, content_type="application/json")
    return web.Response(body=data, content_type="text/plain", charset="utf-8")


def _text(data: bytes, version: Version, which: str) -> str:
    if not is_text(data):
        raise ValidationFailed(
            [
                error_entry(
                    "binary_content",
                    ["query", which],
                    f"version {compact_to_kst_iso(version.stamp)} is not UTF-8 text;"
                    " it has no line diff",
                    version.stamp,
                )
            ]
        )
    return data.decode("utf-8")


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@docs(
    tags=_TAGS,
    summary="Unified diff between two versions (text/x-diff; JSON hunks with Accept:"
    " application/json)",
    description="`to` defaults to the latest version, `from` to the version just before `to`"
    " (the first version is compared with an empty file). Both take a KST stamp or ISO 8601.",
    parameters=query.docs(DIFF_QUERY),
    produces=["text/x-diff", "application/json"],
    responses={404: _NOT_FOUND, 422: _INVALID},
)
@response_schema(DiffOut, 200)
async def diff(request: web.Request) -> web.Response:
    file = await _file(request)
    reader = request.app[CONTENT]
    new = file.find(request.query["to"], ["query", "to"]) if "to" in request.query else None
    old = file.find(request.query["from"], ["query", "from"]) if "from" in request.query else None
    new = new or file.versions[-1]
    if "from" not in request.query:
        old = file.previous(new)
    new_text = _text(await _content(request, new, "to"), new, "to")
    old_text = _text(await _content(request, old, "from"), old, "from") if old else ""
    hunks = await asyncio.to_thread(diff_hunks, old_text, new_text)
    if _wants_json(request):
        added, removed = diff_totals(hunks)
        return json_response(
            {
                "from": _version_json(reader, old, file.previous(old)) if old else None,
                "to": _version_json(reader, new, file.previous(new)),
                "added": added,
                "removed": removed,
                "hunks": [h.as_dict() for h in hunks],
            }
        )
    from_label = f"{file.filename}\t{compact_to_kst_iso(old.stamp)}" if old else "/dev/null"
    to_label = f"{file.filename}\t{compact_to_kst_iso(new.stamp)}"
    text = unified_diff(hunks, from_label, to_label)
    return web.Response(text=text, content_type="text/x-diff", charset="utf-8")


def _replay_stats(
    before: str | None, texts: list[str | None]
) -> list[tuple[int | None, int | None, int | None]]:
    """(lines, added, removed) of each text against the one before it (None: unknown)."""
    stats: list[tuple[int | None, int | None, int | None]] = []
    for text in texts:
        if text is None:
            stats.append((None, None, None))
        elif before is None:
            stats.append((len(split_lines(text)), None, None))
        else:
            stats.append((len(split_lines(text)), *line_changes(before, text)))
        before = text
    return stats


@docs(
    tags=_TAGS,
    summary="Replay data: every version with line-level changes against the previous one",
    description="`?content=true` adds each version's text (null for binary or missing content)."
    " The first version is compared with an empty file; added/removed are null where either"
    " side has no text content.",
    parameters=query.docs(REPLAY_QUERY),
    responses={404: _NOT_FOUND, 422: _INVALID},
)
@response_schema(ReplayOut, 200)
async def replay(request: web.Request) -> web.Response:
    file = await _file(request)
    errors = params.Errors()
    with_text = query.read(request, REPLAY_QUERY, errors, strict=False)["content"]
    errors.raise_if_any()
    reader = request.app[CONTENT]
    if not reader.volume_configured and not any(v.available for v in file.versions):
        raise NotFound(_unavailable(reader, file.versions[-1]))
    items: list[dict[str, Any]] = []
    before: Version | None = None
    before_text: str | None = ""  # the first version is compared with an empty file
    for start in range(0, len(file.versions), _REPLAY_SLICE):
        chunk = file.versions[start : start + _REPLAY_SLICE]
        async with request.app[DATABASE].read() as conn:
            contents = await reader.read(conn, chunk)
        datas = [contents[v.id] for v in chunk]
        texts = [d.decode("utf-8") if d is not None and is_text(d) else None for d in datas]
        stats = await asyncio.to_thread(_replay_stats, before_text, texts)
        for version, data, text, (lines, added, removed) in zip(
            chunk, datas, texts, stats, strict=True
        ):
            item = _version_json(reader, version, before)
            if data is not None:
                item["binary"] = text is None
            item.update(lines=lines, added=added, removed=removed)
            if with_text:
                item["text"] = text
            items.append(item)
            before = version
        before_text = texts[-1]
    return json_response(_file_json(request, file, items))
