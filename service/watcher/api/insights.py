"""v2 instructor insights: the class dashboard of an assignment, a student's timeline, and the
class's assignments. The rules are in analytics/insights.py; this module only reads parameters,
calls the store, and renders JSON or CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from watcher.analytics import insights
from watcher.analytics.insights import MarkedEvent, Thresholds
from watcher.api import params
from watcher.api.state import DATABASE
from watcher.docs import docs, response_schema
from watcher.http.responses import json_response
from watcher.names import CLASS_DIV
from watcher.records import ChangeFacts, Scope, StudentActivity
from watcher.schemas import (
    AssignmentsV2Out,
    DashboardOut,
    TimelineOut,
    ValidationErrorOut,
    insights_parameters,
)
from watcher.store import insights as store
from watcher.store.schema import JUMP_MIN_BYTES
from watcher.timefmt import (
    compact_to_kst_iso,
    stored_log_time_to_kst_iso,
    wall_seconds,
    wall_seconds_to_iso,
)

MAX_PAGE = 10_000
DEFAULT_PAGE = 500
_WINDOW = ("from", "to")
_PAGE = ("limit", "offset")
# name -> (low, high, integer) for every threshold; defaults come from Thresholds.
_THRESHOLD_RANGES: dict[str, tuple[float, float, bool]] = {
    "idle_minutes": (0.1, 1440, False),
    "fast_bytes": (0, 10**9, True),
    "fast_minutes": (0, 10**6, False),
    "large_share": (0.01, 1, False),
    "large_min_bytes": (0, 10**9, True),
    # The store keeps only jumps of JUMP_MIN_BYTES or more: a smaller threshold would miss some.
    "paste_bytes": (JUMP_MIN_BYTES, 10**9, True),
    "paste_seconds": (0, 86_400, True),
    "failure_streak": (1, 10_000, True),
}
DASHBOARD_QUERY = (*_WINDOW, *_THRESHOLD_RANGES, "sort", "order", *_PAGE, "format")
TIMELINE_QUERY = (*_WINDOW, *_THRESHOLD_RANGES, *_PAGE)
_BAD_QUERY = {422: {"schema": ValidationErrorOut, "description": "a query parameter is invalid"}}


def _thresholds(request: web.Request, errors: params.Errors) -> Thresholds:
    defaults = Thresholds()
    values = {
        name: params.query_number(
            request, name, getattr(defaults, name), errors, low=low, high=high, integer=integer
        )
        for name, (low, high, integer) in _THRESHOLD_RANGES.items()
    }
    return Thresholds(**values)


def _window(request: web.Request, errors: params.Errors) -> tuple[int | None, int | None]:
    """`from`/`to` as KST wall-clock seconds; an offset is honoured, a naive time is KST."""
    bounds = [params.query_datetime(request, name, errors) for name in _WINDOW]
    start, end = (wall_seconds(b) if isinstance(b, datetime) else None for b in bounds)
    if start is not None and end is not None and start > end:
        errors.add(
            "window", ["query", "from"], "`from` must not be after `to`", request.query["from"]
        )
    return start, end


def _page(request: web.Request, errors: params.Errors) -> tuple[int, int]:
    limit = params.query_number(
        request, "limit", DEFAULT_PAGE, errors, low=1, high=MAX_PAGE, integer=True
    )
    offset = params.query_number(request, "offset", 0, errors, low=0, high=2**31, integer=True)
    return int(limit), int(offset)


def _wants_csv(request: web.Request, errors: params.Errors) -> bool:
    chosen = params.query_choice(request, "format", ("json", "csv"), "", errors)
    if chosen:
        return chosen == "csv"
    return "text/csv" in request.headers.get("Accept", "")


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

    def head(self, total: int, page: tuple[int, int]) -> dict:
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


def _asked(request: web.Request, known: tuple[str, ...], errors: params.Errors) -> _Asked:
    params.refuse_unknown_query(request, known, errors)
    scope = params.scope(request, errors)
    student_id = params.student_id(request, errors) if "student_id" in request.match_info else None
    thresholds = _thresholds(request, errors)
    start, end = _window(request, errors)
    return _Asked(scope, student_id, thresholds, start, end)


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
    parameters=insights_parameters(DASHBOARD_QUERY),
    responses=_BAD_QUERY,
)
@response_schema(DashboardOut, 200)
async def dashboard(request: web.Request) -> web.StreamResponse:
    errors = params.Errors()
    asked = _asked(request, DASHBOARD_QUERY, errors)
    sort = params.query_choice(request, "sort", insights.SORT_KEYS, "student_id", errors)
    order = params.query_choice(request, "order", ("asc", "desc"), "asc", errors)
    limit, offset = _page(request, errors)
    as_csv = _wants_csv(request, errors)
    errors.raise_if_any()

    activities = await _activities(request, asked)
    rows = [insights.dashboard_row(a, asked.thresholds, wall_seconds_to_iso) for a in activities]
    page = insights.sort_rows(rows, sort, order == "desc")[offset : offset + limit]
    if as_csv:
        return _csv(page, f"{asked.scope.class_div}_{asked.scope.hw_name}_dashboard.csv")
    return json_response({**asked.head(len(rows), (limit, offset)), "students": page})


CSV_COLUMNS = (*insights.SORT_KEYS[:-1], "flags")


def _csv(rows: list[dict], filename: str) -> web.Response:
    """The dashboard as a spreadsheet: the JSON's numbers, flags joined by `;`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        cells = {**row, "flags": ";".join(row["flags"])}
        writer.writerow("" if cells[c] is None else cells[c] for c in CSV_COLUMNS)
    return web.Response(
        body=out.getvalue().encode(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _timeline_entry(marked: MarkedEvent) -> dict:
    e = marked.event
    entry: dict = {"kind": e.kind, "id": e.detail["id"]}
    if e.kind == "snapshot":
        entry["time"] = compact_to_kst_iso(e.order[0])
        entry |= {"filename": e.filename, "size": e.size, "delta": marked.delta}
    else:
        entry["time"] = stored_log_time_to_kst_iso(e.detail["time"])
        entry |= {"exit_code": e.exit_code, "failed": e.exit_code != 0}
        entry |= {k: v for k, v in e.detail.items() if k not in ("id", "time")}
    entry["flags"] = marked.flags
    return entry


async def _marked_page(conn, asked: _Asked, page: tuple[int, int]) -> tuple[int, list[MarkedEvent]]:
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
    parameters=insights_parameters(TIMELINE_QUERY),
    responses=_BAD_QUERY,
)
@response_schema(TimelineOut, 200)
async def timeline(request: web.Request) -> web.Response:
    errors = params.Errors()
    asked = _asked(request, TIMELINE_QUERY, errors)
    limit, offset = _page(request, errors)
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
    class_div = request.match_info["class_div"]
    if not CLASS_DIV.fullmatch(class_div):
        msg = f"String should match pattern '{CLASS_DIV.pattern}'"
        errors.add("string_pattern_mismatch", ["path", "class_div"], msg, class_div)
    errors.raise_if_any()
    async with request.app[DATABASE].read() as conn:
        rows = await store.assignments(conn, class_div)
    return json_response(
        {
            "class_div": class_div,
            "assignments": [
                {
                    "hw_name": hw,
                    "students": students,
                    "events": events,
                    "snapshots": snapshots,
                    "builds": builds,
                    "runs": runs,
                    "first_activity": wall_seconds_to_iso(first),
                    "last_activity": wall_seconds_to_iso(last),
                }
                for hw, students, events, snapshots, builds, runs, first, last in rows
            ],
        }
    )
