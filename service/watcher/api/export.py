"""`GET /api/v2/classes/{class_div}/export/progsnap2`: a class's history as a ProgSnap2 zip."""

from __future__ import annotations

import logging
from datetime import datetime

from aiohttp import web

from watcher.api import params
from watcher.api.state import CONTENT, DATABASE, SETTINGS
from watcher.docs import docs
from watcher.export.archive import write_progsnap2
from watcher.names import CLASS_DIV, HW_NAME
from watcher.schemas import EXPORT_PARAMETERS, ValidationErrorOut
from watcher.store.export import Selection, export_connection
from watcher.timefmt import KST

log = logging.getLogger(__name__)

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def _window_bound(request: web.Request, name: str, errors: params.Errors) -> datetime | None:
    """`?from=`/`?to=` as naive KST: offsets are honoured, a value without one is KST."""
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        moment = params.parse_datetime(raw)
        if moment.tzinfo is not None:
            moment = moment.astimezone(KST).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError) as exc:
        msg = f"Input should be an ISO 8601 date-time, {exc}"
        errors.add("datetime_parsing", ["query", name], msg, raw)
        return None
    return moment


def _flag(request: web.Request, name: str, errors: params.Errors) -> bool:
    raw = request.query.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw not in _FALSE:
        errors.add("bool_parsing", ["query", name], "Input should be true or false", raw)
    return False


def selection_of(request: web.Request) -> tuple[Selection, bytes | None]:
    """The export's selection and pseudonymisation key, or a 422 naming every bad parameter."""
    errors = params.Errors()
    class_div = request.match_info["class_div"]
    if not CLASS_DIV.fullmatch(class_div):
        msg = f"String should match pattern '{CLASS_DIV.pattern}'"
        errors.add("string_pattern_mismatch", ["path", "class_div"], msg, class_div)
    hw_name = request.query.get("assignment")
    if hw_name is not None and not HW_NAME.fullmatch(hw_name):
        msg = f"String should match pattern '{HW_NAME.pattern}'"
        errors.add("string_pattern_mismatch", ["query", "assignment"], msg, hw_name)
    start = _window_bound(request, "from", errors)
    end = _window_bound(request, "to", errors)
    if start is not None and end is not None and end <= start:
        errors.add("window_order", ["query", "to"], "Input should be later than from",
                   request.query["to"])  # fmt: skip
    key: bytes | None = None
    if _flag(request, "pseudonymize", errors):
        configured = request.app[SETTINGS].export_key
        if configured:
            key = configured.encode()
        else:
            msg = "Pseudonymisation needs a key: WATCHER_EXPORT_KEY is not set on this service"
            errors.add("export_key_missing", ["query", "pseudonymize"], msg, "true")
    errors.raise_if_any()
    return Selection(class_div, hw_name, start, end), key


def archive_name(selection: Selection) -> str:
    """`progsnap2-os-1-hw1.zip`; names are pattern-checked, so safe in a header."""
    parts = ["progsnap2", selection.class_div]
    if selection.hw_name:
        parts.append(selection.hw_name)
    return "-".join(parts) + ".zip"


@docs(
    tags=["export"],
    summary="A ProgSnap2 data set (zip) of the class's saves, builds and runs",
    description="MainTable.csv, DatasetMetadata.csv and, where snapshot content is known, "
    "CodeStates/. Streamed: the archive is written while it is read. Window: from <= time < to.",
    parameters=EXPORT_PARAMETERS,
    produces=["application/zip", "application/json"],
    responses={
        200: {"description": "the zip archive (application/zip attachment)"},
        422: {"schema": ValidationErrorOut, "description": "a parameter is invalid"},
    },
)
async def progsnap2(request: web.Request) -> web.StreamResponse:
    selection, key = selection_of(request)
    settings = request.app[SETTINGS]
    database = request.app[DATABASE]
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="{archive_name(selection)}"',
        }
    )
    async with export_connection(database.path, settings.busy_timeout_ms) as conn:
        await response.prepare(request)
        try:
            await write_progsnap2(
                conn,
                selection,
                response.write,
                created=datetime.now(KST),
                key=key,
                content=request.app.get(CONTENT),
            )
        except ConnectionError:
            log.info("export of %s abandoned by the client", selection.class_div)
            return response
        except Exception:
            # The 200 and part of the zip are gone: a JSON error cannot follow. Cutting the
            # connection makes the client see a failed transfer, never a complete-looking file.
            if request.transport is not None:
                request.transport.close()
            raise
    await response.write_eof()
    return response
