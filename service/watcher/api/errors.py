"""One error shape for every failure: `{"detail": ...}`, as the original's FastAPI answers."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from watcher.http.responses import json_error
from watcher.store.writer import WriterBusyError, WriterClosedError

log = logging.getLogger(__name__)

RETRY_AFTER_S = "1"
# The original's wording for the framework's own errors.
_DETAILS = {404: "Not Found", 405: "Method Not Allowed"}
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class ValidationFailed(Exception):
    """Request data that does not fit: rendered as 422 with pydantic-style error entries."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


class BadRequest(Exception):
    """A 400 with a plain message, e.g. the original's interval check."""


class NotFound(Exception):
    """A 404 whose detail says what is missing (the router's own 404 says "Not Found")."""


class RequestTimeout(Exception):
    """The client did not send its request in time: 408."""


# Longer text inputs are cut when echoed: a 5,000-digit id or an 8 KiB command line is not sent
# back (or logged) whole.
ECHO_MAX = 64


def shown_input(value: Any) -> Any:
    if isinstance(value, str) and len(value) > ECHO_MAX:
        return f"{value[:ECHO_MAX]}... ({len(value)} characters)"
    return value


def error_entry(
    kind: str, loc: list[str | int], msg: str, value: Any, ctx: dict[str, Any] | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": kind, "loc": loc, "msg": msg, "input": shown_input(value)}
    if ctx:
        entry["ctx"] = ctx
    return entry


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ValidationFailed as exc:
        return json_error(422, exc.errors)
    except BadRequest as exc:
        return json_error(400, str(exc))
    except NotFound as exc:
        return json_error(404, str(exc))
    except RequestTimeout as exc:
        return json_error(408, str(exc), {"Connection": "close"})
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects pass through untouched
        detail = _DETAILS.get(exc.status) or exc.text or exc.reason
        headers = {k: v for k, v in exc.headers.items() if k in _KEPT_HEADERS}
        return json_error(exc.status, detail, headers)
    except WriterBusyError as exc:
        detail = f"too many writes waiting ({exc}); retry shortly"
        return json_error(503, detail, {"Retry-After": RETRY_AFTER_S})
    except WriterClosedError:
        return json_error(503, "the service is shutting down", {"Retry-After": RETRY_AFTER_S})
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "Internal Server Error")
