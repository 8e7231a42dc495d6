"""X-Request-ID: one rule for the gateway and the service, so both log the same id for a request.

A client's id is kept when it is short and plain (it ends up in JSON logs and response headers);
anything else is replaced by a fresh random one.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

HEADER = "X-Request-ID"
_SAFE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id(headers: Mapping[str, str]) -> str:
    incoming = headers.get(HEADER, "")
    return incoming if _SAFE.fullmatch(incoming) else uuid.uuid4().hex
