"""Marshmallow schemas of every request and response; they feed the OpenAPI document.

Handlers build plain dicts (cheaper than dumping through marshmallow on every request); the test
suite validates real responses against these schemas so the two cannot drift apart.
"""

from __future__ import annotations

from marshmallow import Schema, fields

LIMIT_PARAMETER = {
    "in": "query",
    "name": "limit",
    "type": "integer",
    "minimum": 1,
    "required": False,
    "description": "Most items to return (capped by WATCHER_LIST_LIMIT); newest first.",
}


class SnapshotIn(Schema):
    bytes = fields.Integer(required=True, metadata={"description": "File size; 0 = deleted."})


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
