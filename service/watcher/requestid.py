"""X-Request-ID: one rule for the gateway and the service, so both log the same id for a request.

A client's id is kept when it is short and plain (it ends up in JSON logs and response headers);
anything else is replaced by a fresh one: 32 hex digits, a random prefix drawn once per process
and a counter. Unique across processes in practice (64 random bits), and far cheaper per request
than a uuid4, which reads the kernel's random source every time.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Mapping

HEADER = "X-Request-ID"
_SAFE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_PREFIX = os.urandom(8).hex()
_COUNTER = itertools.count(1)


def new_request_id() -> str:
    return f"{_PREFIX}{next(_COUNTER):016x}"


def request_id(headers: Mapping[str, str]) -> str:
    incoming = headers.get(HEADER)
    return incoming if incoming and _SAFE.fullmatch(incoming) else new_request_id()
