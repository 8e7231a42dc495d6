"""JSON bodies as the original backend wrote them: compact, UTF-8, no charset parameter."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

# Built once: json.dumps with options builds a new encoder on every call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    body = _ENCODE(data)
    return web.Response(
        body=body.encode(), status=status, content_type="application/json", headers=headers
    )


def constant_json(data: Any) -> Callable[[], web.Response]:
    """A maker of responses whose body never changes (the ingest acknowledgements), encoded
    once instead of on every request."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

    def respond() -> web.Response:
        return web.Response(body=body, content_type="application/json")

    return respond


def json_error(status: int, detail: Any, headers: dict[str, str] | None = None) -> web.Response:
    """The one error shape of both programs: `{"detail": ...}`."""
    return json_response({"detail": detail}, status=status, headers=headers)
