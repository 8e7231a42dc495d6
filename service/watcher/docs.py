"""The one module that imports aiohttp-apispec.

Keeping every import here means the maintained, API-compatible fork `aiohttp-apigami` can replace it
by changing the import line below and nothing else. aiohttp-apispec has no type hints: the three
decorators are given theirs here (each records the handler's documentation on it and returns the
handler itself).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp_apispec as apispec
from aiohttp import web
from marshmallow import Schema

from watcher import __version__
from watcher.names import CLASS_DIV, FILENAME_MAX, FORBIDDEN_CHARACTERS, HW_NAME, INT64_MAX

__all__ = ["docs", "request_schema", "response_schema", "setup_docs", "string_list"]

SPEC_URL = "/api/docs/swagger.json"
UI_URL = "/api/docs"

# aiohttp-apispec documents every path parameter as a string; these are not.
_PATH_PARAMETER_TYPES: dict[str, dict[str, Any]] = {
    "class_div": {"pattern": f"^{CLASS_DIV.pattern}$", "description": "<subject>-<division>"},
    "hw_name": {"pattern": f"^{HW_NAME.pattern}$", "description": "assignment, e.g. hw1"},
    "filename": {
        "pattern": f"^[^{FORBIDDEN_CHARACTERS}/\\\\]+$",
        "maxLength": FILENAME_MAX,
        "description": "path below the assignment, / written as @; no . or .. parts; no control"
        " or bidirectional-control characters; stored in Unicode NFC",
    },
    "student_id": {
        "type": "integer",
        "minimum": 0,
        "maximum": INT64_MAX,
        "description": "student number: ASCII digits (leading zeros are dropped)",
    },
    "interval": {"type": "integer", "description": "bucket width in minutes, > 0"},
    "start": {"type": "string", "format": "date-time", "description": "KST wall clock"},
    "end": {"type": "string", "format": "date-time", "description": "KST wall clock, inclusive"},
    "timestamp": {
        "type": "string",
        "pattern": r"^\d{8}_\d{6}(\..*)?$",
        "description": "collector UTC time YYYYMMDD_HHMMSS, optionally .suffix",
    },
}
_STRING_LIST = "x-watcher-string-list"

# A route handler: each decorator returns the one it is given.
HandlerT = TypeVar("HandlerT", bound=Callable[[web.Request], Awaitable[web.StreamResponse]])


def docs(**operation: Any) -> Callable[[HandlerT], HandlerT]:
    """The operation's Swagger fields (tags, summary, parameters, responses, ...)."""
    decorate: Callable[[HandlerT], HandlerT] = apispec.docs(**operation)
    return decorate


def request_schema(schema: Schema | type[Schema]) -> Callable[[HandlerT], HandlerT]:
    """The request body's schema (documentation only: the handlers parse bodies themselves)."""
    decorate: Callable[[HandlerT], HandlerT] = apispec.request_schema(schema)
    return decorate


def response_schema(schema: Schema | type[Schema], code: int) -> Callable[[HandlerT], HandlerT]:
    """The schema of the response with status `code`."""
    decorate: Callable[[HandlerT], HandlerT] = apispec.response_schema(schema, code)
    return decorate


def is_docs_route(match_info: web.UrlMappingMatchInfo) -> bool:
    """Whether a request matched one of the documentation's own routes (the UI, the JSON document
    or the UI's static files), as opposed to an API route whose path merely begins alike."""
    if match_info.http_exception is not None:
        return False
    canonical = match_info.route.resource.canonical if match_info.route.resource else ""
    return canonical == UI_URL or canonical.startswith(UI_URL + "/")


def string_list(description: str) -> dict[str, Any]:
    """A 200 response that is a JSON array of strings (not expressible as a marshmallow Schema)."""
    return {"200": {"description": description, _STRING_LIST: True}}


def setup_docs(app: web.Application) -> None:
    """Swagger UI at /api/docs (served from the package's own files: works offline)."""
    apispec.setup_aiohttp_apispec(
        app,
        title="JCode Watcher API",
        version=__version__,
        info={
            "description": "Collector ingest (legacy paths, wire-compatible with the original "
            "backend), per-student and per-assignment analytics, v2 instructor insights, snapshot "
            "content and ProgSnap2 export, health and metrics."
        },
        url=SPEC_URL,
        swagger_path=UI_URL,
        static_path="/api/docs/static",
    )
    # Runs after aiohttp-apispec's own startup hook has built the document.
    app.on_startup.append(_refine_spec)


async def _refine_spec(app: web.Application) -> None:
    spec = app["swagger_dict"]
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter["name"] in _PATH_PARAMETER_TYPES:
                    parameter.update(_PATH_PARAMETER_TYPES[parameter["name"]])
            for response in operation.get("responses", {}).values():
                if response.pop(_STRING_LIST, False):
                    response["schema"] = {"type": "array", "items": {"type": "string"}}
