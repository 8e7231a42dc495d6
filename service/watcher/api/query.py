"""Query parameters described once: each route's table drives both its parsing and its entry in
the API document, so the two cannot disagree.

A route lists its parameters as `Param`s; `read(request, table, errors)` parses every one (each
problem becomes a 422 entry naming it, together with all the others) and `docs(table)` gives the
Swagger parameters. Path parameters are described by names.py and docs.py the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aiohttp import web

from watcher.api import params
from watcher.timefmt import wall_seconds

Kind = Literal["integer", "number", "string", "boolean", "date-time"]
_SWAGGER_TYPE = {
    "integer": "integer",
    "number": "number",
    "string": "string",
    "boolean": "boolean",
    "date-time": "string",
}


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    description: str
    default: Any = None
    low: float | None = None  # numbers: the accepted range, both ends included
    high: float | None = None
    choices: tuple[str, ...] = ()  # strings: the accepted values
    pattern: re.Pattern[str] | None = None  # strings: the accepted shape

    def doc(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "in": "query",
            "name": self.name,
            "type": _SWAGGER_TYPE[self.kind],
            "required": False,
            "description": self.description,
        }
        if self.kind == "date-time":
            entry["format"] = "date-time"
        if self.default not in (None, ""):
            entry["default"] = self.default
        if self.low is not None:
            entry["minimum"] = self.low
        if self.high is not None:
            entry["maximum"] = self.high
        if self.choices:
            entry["enum"] = list(self.choices)
        if self.pattern is not None:
            entry["pattern"] = f"^{self.pattern.pattern}$"
        return entry

    def parse(self, request: web.Request, errors: params.Errors) -> Any:
        if self.kind in ("integer", "number"):
            assert self.low is not None and self.high is not None
            value = params.query_number(
                request, self.name, self.default, errors,
                low=self.low, high=self.high, integer=self.kind == "integer",
            )  # fmt: skip
            return int(value) if self.kind == "integer" and value is not None else value
        if self.kind == "boolean":
            return params.query_bool(request, self.name, bool(self.default), errors)
        if self.kind == "date-time":
            return params.query_datetime(request, self.name, errors)
        if self.choices:
            return params.query_choice(request, self.name, self.choices, self.default, errors)
        raw = request.query.get(self.name)
        if raw is None:
            return self.default
        if self.pattern is not None and not self.pattern.fullmatch(raw):
            msg = f"String should match pattern '{self.pattern.pattern}'"
            errors.add("string_pattern_mismatch", ["query", self.name], msg, raw)
            return self.default
        return raw


def read(
    request: web.Request, table: Sequence[Param], errors: params.Errors, strict: bool = True
) -> dict[str, Any]:
    """Every parameter of `table` by name (its default when absent). `strict` refuses names the
    table does not have (a typo is never silently ignored); the legacy routes are not strict,
    as the original ignored every query string."""
    if strict:
        params.refuse_unknown_query(request, tuple(p.name for p in table), errors)
    return {p.name: p.parse(request, errors) for p in table}


def docs(table: Sequence[Param]) -> list[dict[str, Any]]:
    return [p.doc() for p in table]


def window_seconds(
    request: web.Request, asked: dict[str, Any], errors: params.Errors
) -> tuple[int | None, int | None]:
    """`from`/`to` as KST wall-clock seconds (inclusive); `from` after `to` is an error."""
    start, end = (
        wall_seconds(asked[n]) if isinstance(asked[n], datetime) else None for n in ("from", "to")
    )
    if start is not None and end is not None and start > end:
        msg = "`from` must not be after `to`"
        errors.add("window", ["query", "from"], msg, request.query["from"])
    return start, end
