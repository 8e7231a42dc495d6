"""v2 instructor insights: the class dashboard of an assignment, a student's timeline, and the
class's assignments. The rules are in analytics/insights.py; this module only reads parameters,
calls the store, and renders JSON or CSV."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import aiosqlite
from aiohttp import web

from watcher.analytics import insights
from watcher.analytics.insights import MarkedEvent, Thresholds
from watcher.api import params, query
from watcher.api.query import Param, window_seconds
from watcher.api.state import DATABASE
from watcher.docs import docs, response_schema
from watcher.export.csvcells import Writer
from watcher.http.responses import json_response
from watcher.records import ChangeFacts, Scope, StudentActivity
from watcher.schemas import (
    AssignmentsV2Out,
    DashboardOut,
    TimelineOut,
    ValidationErrorOut,
)
from watcher.store import insights as store
from watcher.store.schema import JUMP_MIN_BYTES
from watcher.timefmt import (
    compact_to_kst_iso,
    stored_log_time_to_kst_iso,
    wall_seconds_to_iso,
)

MAX_PAGE = 10_000
DEFAULT_PAGE = 500
_DEFAULT = Thresholds()

WINDOW = (
    Param("from", "date-time", "Window start, ISO 8601 (an offset is honoured; none = KST),"
          " inclusive"),
    Param("to", "date-time", "Window end, ISO 8601 (an offset is honoured; none = KST), inclusive"),
)  # fmt: skip
THRESHOLDS = (
    Param("idle_minutes", "number", "A gap between events this long or longer is a break",
          _DEFAULT.idle_minutes, 0.1, 1440),
    Param("fast_bytes", "integer", "fast_writing: net bytes at least this ...",
          _DEFAULT.fast_bytes, 0, 10**9),
    Param("fast_minutes", "number", "... in fewer active minutes than this",
          _DEFAULT.fast_minutes, 0, 10**6),
    Param("large_share", "number", "large_single_change: one change >= this share of churn ...",
          _DEFAULT.large_share, 0.01, 1),
    Param("large_min_bytes", "integer", "... when churn is at least this",
          _DEFAULT.large_min_bytes, 0, 10**9),
    # The store keeps only jumps of JUMP_MIN_BYTES or more: a smaller threshold would miss some.
    Param("paste_bytes", "integer", "paste_like_jump: growth of at least this (no less than the"
          f" smallest jump the store keeps, {JUMP_MIN_BYTES}) ...", _DEFAULT.paste_bytes,
          JUMP_MIN_BYTES, 10**9),
    Param("paste_seconds", "integer", "... within this many seconds of the file's previous save",
          _DEFAULT.paste_seconds, 0, 86_400),
    Param("failure_streak", "integer", "repeated_build_failures: this many failed builds in a row",
          _DEFAULT.failure_streak, 1, 10_000),
)  # fmt: skip
PAGE = (
    Param("limit", "integer", "Rows per page", DEFAULT_PAGE, 1, MAX_PAGE),
    Param("offset", "integer", "Rows to skip", 0, 0, 2**31),
)
DASHBOARD_QUERY = (
    *WINDOW,
    *THRESHOLDS,
    Param("sort", "string", "Column to sort by, or flag_count", "student_id",
          choices=insights.SORT_KEYS),
    Param("order", "string", "Sort order", "asc", choices=("asc", "desc")),
    *PAGE,
    Param("format", "string", "csv for a spreadsheet (also chosen by Accept: text/csv)", "",
          choices=("json", "csv")),
)  # fmt: skip
TIMELINE_QUERY = (*WINDOW, *THRESHOLDS, *PAGE)
_BAD_QUERY = {422: {"schema": ValidationErrorOut, "description": "a query parameter is invalid"}}


def _wants_csv(request: web.Request, chosen: str) -> bool:
    return chosen == "csv" if chosen else "text/csv" in request.headers.get("Accept", "")


@dataclass(frozen=True)
class _Asked:
    """What both insight routes take from a request: whose data, which rules, which window."""

    scope: Scope
    student_id: int | None
    thresholds: Thresholds
    start: int | None  # KST wall-clock seconds; None: open
    end: int | None

    @property
    def bounds(self) -> tuple[int, int]:
        """The window with open ends as times before and after anything stored."""
        return (
            store.EARLIEST if self.start is None else self.start,
            store.LATEST if self.end is None else self.end,
        )

    def head(self, total: int, page: tuple[int, int]) -> dict[str, Any]:
        """The fields every insight page starts with."""
        limit, offset = page
        student = {} if self.student_id is None else {"student_id": self.student_id}
        return {
            "class_div": self.scope.class_div,
            "hw_name": self.scope.hw_name,
            **student,
            "from": None if self.start is None else wall_seconds_to_iso(self.start),
            "to": None if self.end is None else wall_seconds_to_iso(self.end),
            "thresholds": insights.thresholds_dict(self.thresholds),
            "total": total,
            "offset": offset,
            "limit": limit,
        }


def _asked(
    request: web.Request, table: tuple[Param, ...], errors: params.Errors
) -> tuple[_Asked, dict[str, Any]]:
    """The routes' shared parameters, and every parameter of `table` by name."""
    values = query.read(request, table, errors)
    scope = params.scope(request, errors)
    student_id = params.student_id(request, errors) if "student_id" in request.match_info else None
    thresholds = Thresholds(**{p.name: values[p.name] for p in THRESHOLDS})
    start, end = window_seconds(request, values, errors)
    return _Asked(scope, student_id, thresholds, start, end), values


async def _activities(request: web.Request, asked: _Asked) -> list[StudentActivity]:
    """Every student known in the class, measured over the window (or the whole history)."""
    scope, thresholds = asked.scope, asked.thresholds
    idle, paste = thresholds.idle_seconds, (thresholds.paste_bytes, thresholds.paste_seconds)
    async with request.app[DATABASE].read() as conn:
        known = await store.class_students(conn, scope.class_div)
        if asked.start is None and asked.end is None:
            found = await store.assignment_activity(conn, scope, idle, paste)
        else:
            found = await store.window_activity(conn, scope, idle, paste, asked.bounds)
    return [found.get(s) or StudentActivity(s) for s in known]


@docs(
    tags=["insights"],
    summary="Class dashboard of an assignment: one row per student, with activity flags",
    parameters=query.docs(DASHBOARD_QUERY),
    produces=["application/json", "text/csv"],
    responses=_BAD_QUERY,
)
@response_schema(DashboardOut, 200)
async def dashboard(request: web.Request) -> web.StreamResponse:
    errors = params.Errors()
    asked, values = _asked(request, DASHBOARD_QUERY, errors)
    errors.raise_if_any()
    sort, order, limit, offset = (values[n] for n in ("sort", "order", "limit", "offset"))
    as_csv = _wants_csv(request, values["format"])

    activities = await _activities(request, asked)
    rows = [insights.dashboard_row(a, asked.thresholds, wall_seconds_to_iso) for a in activities]
    page = insights.sort_rows(rows, sort, order == "desc")[offset : offset + limit]
    if as_csv:
        return _csv(page, f"{asked.scope.class_div}_{asked.scope.hw_name}_dashboard.csv")
    return json_response({**asked.head(len(rows), (limit, offset)), "students": page})


CSV_COLUMNS = (*insights.SORT_KEYS[:-1], "flags")


def _csv(rows: list[dict[str, Any]], filename: str) -> web.Response:
    """The dashboard as a spreadsheet: the JSON's numbers, flags joined by `;` (written as every
    CSV of the service is: RFC 4180, no cell a spreadsheet would run; export/csvcells.py)."""
    out = io.StringIO()
    writer = Writer(out)
    writer.row(CSV_COLUMNS)
    for row in rows:
        cells = {**row, "flags": ";".join(row["flags"])}
        writer.row(cells[c] for c in CSV_COLUMNS)
    return web.Response(
        body=out.getvalue().encode(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _timeline_entry(marked: MarkedEvent) -> dict[str, Any]:
    e = marked.event
    assert e.detail is not None, "a timeline's events carry their detail (store.timeline_page)"
    entry: dict[str, Any] = {"kind": e.kind, "id": e.detail["id"]}
    if e.kind == "snapshot":
        entry["time"] = compact_to_kst_iso(e.order[0])
        entry |= {"filename": e.filename, "size": e.size, "delta": marked.delta}
    else:
        entry["time"] = stored_log_time_to_kst_iso(e.detail["time"])
        entry |= {"exit_code": e.exit_code, "failed": e.exit_code != 0}
        entry |= {k: v for k, v in e.detail.items() if k not in ("id", "time")}
    entry["flags"] = marked.flags
    return entry


async def _marked_page(
    conn: aiosqlite.Connection, asked: _Asked, page: tuple[int, int]
) -> tuple[int, list[MarkedEvent]]:
    """A timeline page with its flags as over the whole history: a change or a streak that began
    before the window or the page still counts; the window and the page only choose what is
    shown. The store gives the facts, analytics decides."""
    scope, student, thresholds = asked.scope, asked.student_id, asked.thresholds
    assert student is not None
    total, rows = await store.timeline_page(conn, scope, student, asked.bounds, page)
    kinds = {row.event.kind for row in rows}
    positions = await store.failure_positions(conn, scope, student) if "build" in kinds else {}
    changes = None
    if "snapshot" in kinds:
        churn, largest = await store.change_totals(conn, scope, student)
        first = None
        if insights.is_large_single_change(churn, largest, thresholds):
            first = await store.first_change_of(conn, scope, student, largest)
        changes = ChangeFacts(churn, largest, first)
    return total, insights.mark_page(rows, positions, changes, thresholds)


@docs(
    tags=["insights"],
    summary="One student's merged, time-ordered snapshots, builds and runs, with flags",
    parameters=query.docs(TIMELINE_QUERY),
    responses=_BAD_QUERY,
)
@response_schema(TimelineOut, 200)
async def timeline(request: web.Request) -> web.Response:
    errors = params.Errors()
    asked, values = _asked(request, TIMELINE_QUERY, errors)
    limit, offset = values["limit"], values["offset"]
    errors.raise_if_any()
    assert asked.student_id is not None

    async with request.app[DATABASE].read() as conn:
        total, marked = await _marked_page(conn, asked, (limit, offset))
    events = [_timeline_entry(m) for m in marked]
    return json_response({**asked.head(total, (limit, offset)), "events": events})


@docs(tags=["insights"], summary="The class's assignments with student counts and activity span")
@response_schema(AssignmentsV2Out, 200)
async def assignments(request: web.Request) -> web.Response:
    errors = params.Errors()
    params.refuse_unknown_query(request, (), errors)
    class_div = params.class_div(request, errors)
    errors.raise_if_any()
    async with request.app[DATABASE].read() as conn:
        rows = await store.assignments(conn, class_div)
    return json_response(
        {
            "class_div": class_div,
            "assignments": [
                {
                    "hw_name": a.hw_name,
                    "students": a.students,
                    "events": a.events,
                    "snapshots": a.snapshots,
                    "builds": a.builds,
                    "runs": a.runs,
                    "first_activity": wall_seconds_to_iso(a.first_at),
                    "last_activity": wall_seconds_to_iso(a.last_at),
                }
                for a in rows
            ],
        }
    )
