"""Marshmallow schemas of every request and response; they feed the OpenAPI document.

Handlers build plain dicts (cheaper than dumping through marshmallow on every request); the test
suite validates real responses against these schemas so the two cannot drift apart.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from watcher.names import MAX_FILE_BYTES

LIMIT_PARAMETER = {
    "in": "query",
    "name": "limit",
    "type": "integer",
    "minimum": 1,
    "required": False,
    "description": "Most items to return (capped by WATCHER_LIST_LIMIT); newest first.",
}
BEFORE_PARAMETER = {
    "in": "query",
    "name": "before",
    "type": "string",
    "required": False,
    "description": "Continue after this position: the cursor of a previous response's"
    ' `Link: <...>; rel="next"` header, sent when rows remain beyond its limit or its'
    " WATCHER_LIST_MAX_BYTES budget.",
}


class SnapshotIn(Schema):
    bytes = fields.Integer(
        required=True,
        validate=validate.Range(min=0, max=MAX_FILE_BYTES),
        metadata={
            "description": f"File size in bytes; 0 = deleted. At most {MAX_FILE_BYTES} (64 MiB):"
            " larger sizes are refused with 422. A JSON integer, or a string of ASCII digits."
        },
    )
    content_b64 = fields.String(
        allow_none=True,
        metadata={
            "description": "Optional: the file's bytes in base64, exactly `bytes` long; stored"
            " compressed with the snapshot (not sent by the original collectors)."
        },
    )


class _LogIn(Schema):
    timestamp = fields.DateTime(
        required=True,
        metadata={"description": "ISO 8601 or Unix time; naive values are UTC. Stored as KST."},
    )
    exit_code = fields.Integer(required=True)
    cmdline = fields.String(required=True, metadata={"description": "argv joined by spaces"})
    cwd = fields.String(required=True)
    target_path = fields.String(required=True)


class BuildLogIn(_LogIn):
    binary_path = fields.String(required=True, metadata={"description": "compiler executable"})


class RunLogIn(_LogIn):
    process_type = fields.String(required=True, metadata={"description": "binary or python"})


class MessageOut(Schema):
    message = fields.String(required=True)


class DetailOut(Schema):
    detail = fields.String(required=True)


class ValidationErrorItem(Schema):
    type = fields.String(required=True)
    loc = fields.List(fields.Raw(), required=True)
    msg = fields.String(required=True)
    input = fields.Raw(allow_none=True)
    ctx = fields.Dict()


class ValidationErrorOut(Schema):
    detail = fields.List(fields.Nested(ValidationErrorItem), required=True)


class SnapshotAvgOut(Schema):
    snapshot_avg = fields.Integer(allow_none=True, metadata={"description": "snapshot COUNT"})
    snapshot_size_avg = fields.Float(allow_none=True)


class MonitoringOut(Schema):
    snapshot_avg = fields.Integer(allow_none=True)
    snapshot_size_avg = fields.Float(allow_none=True)
    first = fields.String(allow_none=True, metadata={"description": "naive KST ISO time"})
    last = fields.String(allow_none=True)
    total = fields.Integer(allow_none=True, metadata={"description": "seconds first->last"})
    interval = fields.Integer(allow_none=True, metadata={"description": "seconds, last two"})


class TrendPoint(Schema):
    timestamp = fields.String(required=True, metadata={"description": "KST YYYYMMDD_HHMM"})
    total_size = fields.Float(required=True)
    size_change = fields.Float(required=True)


class GraphOut(Schema):
    trends = fields.List(fields.Nested(TrendPoint), required=True)


class _LogOut(Schema):
    cmdline = fields.String(required=True)
    exit_code = fields.Integer(required=True)
    cwd = fields.String(required=True)
    target_path = fields.String(required=True)
    timestamp = fields.String(required=True, metadata={"description": "naive KST ISO time"})
    file_size = fields.Integer(required=True, metadata={"description": "always 0"})


class BuildLogOut(_LogOut):
    binary_path = fields.String(required=True)


class RunLogOut(_LogOut):
    process_type = fields.String(required=True)


class TopStudent(Schema):
    student_num = fields.Integer(required=True)
    timestamp = fields.String(required=True)
    code_size = fields.Integer(required=True)


class AssignmentOut(Schema):
    percentile_90 = fields.Float(allow_none=True)
    percentile_50 = fields.Float(allow_none=True)
    avg_bytes = fields.Float(allow_none=True)
    avg_num = fields.Float(allow_none=True)
    top_7 = fields.List(fields.Nested(TopStudent), required=True)


class ChurnItem(Schema):
    student_num = fields.Integer(required=True)
    size_change = fields.Float(required=True)


class ChurnOut(Schema):
    results = fields.List(fields.Nested(ChurnItem), required=True)


class AvgCountOut(Schema):
    avg_count = fields.Float(required=True)


class HealthOut(Schema):
    status = fields.String(required=True)
    checks = fields.Dict(keys=fields.String(), values=fields.Raw())


# --- snapshot content (issue 9) -------------------------------------------------------------


class ContentVersionOut(Schema):
    id = fields.Integer(required=True, metadata={"description": "snapshot row id"})
    timestamp = fields.String(required=True, metadata={"description": "ISO 8601, +09:00"})
    stamp = fields.String(required=True, metadata={"description": "KST YYYYMMDD_HHMMSS (legacy)"})
    bytes = fields.Integer(required=True, metadata={"description": "size the collector reported"})
    delta = fields.Integer(required=True, metadata={"description": "bytes - previous version's"})
    deleted = fields.Boolean(required=True, metadata={"description": "bytes == 0"})
    available = fields.Boolean(required=True, metadata={"description": "content can be served"})
    source = fields.String(allow_none=True, metadata={"description": "stored, volume or null"})
    content_bytes = fields.Integer(allow_none=True, metadata={"description": "content found"})
    binary = fields.Boolean(allow_none=True, metadata={"description": "null: not known yet"})
    too_large = fields.Boolean(required=True, metadata={"description": "over the size limit"})


class ContentVersionsOut(Schema):
    class_div = fields.String(required=True)
    hw_name = fields.String(required=True)
    student_id = fields.Integer(required=True)
    filename = fields.String(required=True)
    content_configured = fields.Boolean(
        required=True, metadata={"description": "WATCHER_SNAPSHOT_DIR is set"}
    )
    versions = fields.List(fields.Nested(ContentVersionOut), required=True)


class ReplayVersionOut(ContentVersionOut):
    lines = fields.Integer(allow_none=True, metadata={"description": "lines of text"})
    added = fields.Integer(allow_none=True, metadata={"description": "lines vs previous"})
    removed = fields.Integer(allow_none=True, metadata={"description": "lines vs previous"})
    text = fields.String(allow_none=True, metadata={"description": "only with ?content=true"})


class ReplayOut(ContentVersionsOut):
    versions = fields.List(fields.Nested(ReplayVersionOut), required=True)


class DiffHunkOut(Schema):
    header = fields.String(required=True, metadata={"description": "@@ -a,b +c,d @@"})
    old_start = fields.Integer(required=True)
    old_lines = fields.Integer(required=True)
    new_start = fields.Integer(required=True)
    new_lines = fields.Integer(required=True)
    added = fields.Integer(required=True)
    removed = fields.Integer(required=True)
    lines = fields.List(fields.String(), required=True, metadata={"description": "' ', - or +"})


class DiffOut(Schema):
    from_ = fields.Nested(ContentVersionOut, data_key="from", allow_none=True)
    to = fields.Nested(ContentVersionOut, required=True)
    added = fields.Integer(required=True)
    removed = fields.Integer(required=True)
    hunks = fields.List(fields.Nested(DiffHunkOut), required=True)


# --- v2 insights (analytics/insights.py defines every measure and flag) -------------------------

_INSIGHT_QUERY_DOCS: dict[str, tuple[str, str]] = {
    "from": ("string", "Window start, ISO 8601 (offset honoured; naive = KST), inclusive"),
    "to": ("string", "Window end, ISO 8601 (offset honoured; naive = KST), inclusive"),
    "idle_minutes": ("number", "A gap between events this long or longer is a break (5)"),
    "fast_bytes": ("integer", "fast_writing: net bytes at least this (200) ..."),
    "fast_minutes": ("number", "... in fewer active minutes than this (30)"),
    "large_share": ("number", "large_single_change: one change >= this share of churn (0.7)"),
    "large_min_bytes": ("integer", "large_single_change: only when churn >= this (200)"),
    "paste_bytes": ("integer", "paste_like_jump: growth of at least this, >= 100 (500) ..."),
    "paste_seconds": ("integer", "... within this many seconds of the previous save (10)"),
    "failure_streak": ("integer", "repeated_build_failures: this many failed builds in a row (5)"),
    "sort": ("string", "Column to sort by (student_id), or flag_count"),
    "order": ("string", "asc (default) or desc"),
    "limit": ("integer", "Rows per page (500, at most 10000)"),
    "offset": ("integer", "Rows to skip (0)"),
    "format": ("string", "json (default) or csv; `Accept: text/csv` also selects CSV"),
}


def insights_parameters(names: tuple[str, ...]) -> list[dict]:
    """OpenAPI query parameters of the insights routes, in the given order."""
    return [
        {
            "in": "query",
            "name": n,
            "type": _INSIGHT_QUERY_DOCS[n][0],
            "required": False,
            "description": _INSIGHT_QUERY_DOCS[n][1],
        }
        for n in names
    ]


class ThresholdsOut(Schema):
    idle_minutes = fields.Float(required=True)
    fast_bytes = fields.Integer(required=True)
    fast_minutes = fields.Float(required=True)
    large_share = fields.Float(required=True)
    large_min_bytes = fields.Integer(required=True)
    paste_bytes = fields.Integer(required=True)
    paste_seconds = fields.Integer(required=True)
    failure_streak = fields.Integer(required=True)


class _InsightPage(Schema):
    class_div = fields.String(required=True)
    hw_name = fields.String(required=True)
    from_ = fields.String(data_key="from", allow_none=True, required=True)
    to = fields.String(allow_none=True, required=True)
    thresholds = fields.Nested(ThresholdsOut, required=True)
    total = fields.Integer(required=True, metadata={"description": "rows before paging"})
    offset = fields.Integer(required=True)
    limit = fields.Integer(required=True)


class DashboardRowOut(Schema):
    student_id = fields.Integer(required=True)
    snapshots = fields.Integer(required=True)
    files = fields.Integer(required=True)
    first_activity = fields.String(allow_none=True, required=True, metadata={"description": "KST"})
    last_activity = fields.String(allow_none=True, required=True, metadata={"description": "KST"})
    builds = fields.Integer(required=True)
    failed_builds = fields.Integer(required=True, metadata={"description": "exit code != 0"})
    runs = fields.Integer(required=True)
    failed_runs = fields.Integer(required=True)
    churn_bytes = fields.Integer(required=True, metadata={"description": "sum of |change|"})
    net_bytes = fields.Integer(required=True, metadata={"description": "sum of latest sizes"})
    largest_change_bytes = fields.Integer(required=True)
    active_minutes = fields.Float(required=True)
    bytes_per_active_minute = fields.Float(allow_none=True, required=True)
    max_consecutive_failed_builds = fields.Integer(required=True)
    flags = fields.List(fields.String(), required=True)


class DashboardOut(_InsightPage):
    students = fields.List(fields.Nested(DashboardRowOut), required=True)


class TimelineEventOut(Schema):
    kind = fields.String(required=True, metadata={"description": "snapshot, build or run"})
    id = fields.Integer(required=True)
    time = fields.String(required=True, metadata={"description": "ISO 8601, +09:00"})
    filename = fields.String(metadata={"description": "snapshots"})
    size = fields.Integer(metadata={"description": "snapshots"})
    delta = fields.Integer(allow_none=True, metadata={"description": "vs the file's previous"})
    exit_code = fields.Integer(metadata={"description": "builds and runs"})
    failed = fields.Boolean(metadata={"description": "builds and runs"})
    cmdline = fields.String()
    target_path = fields.String()
    process_type = fields.String(metadata={"description": "runs"})
    flags = fields.List(fields.String(), required=True)


class TimelineOut(_InsightPage):
    student_id = fields.Integer(required=True)
    events = fields.List(fields.Nested(TimelineEventOut), required=True)


class AssignmentV2Out(Schema):
    hw_name = fields.String(required=True)
    students = fields.Integer(required=True)
    events = fields.Integer(required=True)
    snapshots = fields.Integer(required=True)
    builds = fields.Integer(required=True)
    runs = fields.Integer(required=True)
    first_activity = fields.String(required=True)
    last_activity = fields.String(required=True)


class AssignmentsV2Out(Schema):
    class_div = fields.String(required=True)
    assignments = fields.List(fields.Nested(AssignmentV2Out), required=True)


# -- ProgSnap2 export (issue 9) -------------------------------------------------------------------

EXPORT_PARAMETERS = [
    {
        "in": "query",
        "name": "assignment",
        "type": "string",
        "required": False,
        "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        "description": "Only this assignment (e.g. hw1); absent: every assignment of the class.",
    },
    {
        "in": "query",
        "name": "from",
        "type": "string",
        "format": "date-time",
        "required": False,
        "description": "Events at or after this time; ISO 8601, offsets honoured, none = KST.",
    },
    {
        "in": "query",
        "name": "to",
        "type": "string",
        "format": "date-time",
        "required": False,
        "description": "Events before this time (exclusive); ISO 8601, none = KST.",
    },
    {
        "in": "query",
        "name": "pseudonymize",
        "type": "boolean",
        "required": False,
        "description": "SubjectID as an HMAC-SHA256 pseudonym (needs WATCHER_EXPORT_KEY).",
    },
]
