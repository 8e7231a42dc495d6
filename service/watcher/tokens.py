"""Bearer tokens, one rule for the service and the gateway: read from the Authorization header,
compared in constant time, never logged."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

CHALLENGE = 'Bearer realm="jcode-watcher"'


def presented_token(headers: Mapping[str, str]) -> str | None:
    scheme, _, value = headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def token_problem(headers: Mapping[str, str], expected: str) -> str | None:
    """Why a request does not carry `expected` (an empty `expected` asks for nothing)."""
    if not expected:
        return None
    presented = presented_token(headers)
    if presented is None:
        return "bearer token required"
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        return "missing or wrong bearer token"
    return None
