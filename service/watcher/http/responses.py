"""JSON bodies as the original backend wrote them: compact, UTF-8, no charset parameter."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    body = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return web.Response(
        body=body.encode(), status=status, content_type="application/json", headers=headers
    )


def json_error(status: int, detail: Any, headers: dict[str, str] | None = None) -> web.Response:
    """The one error shape of both programs: `{"detail": ...}`."""
    return json_response({"detail": detail}, status=status, headers=headers)
