"""Logging as text for people or JSON lines for log collectors (WATCHER_LOG_FORMAT).

Log lines carry what clients sent (paths, names, error messages quoting their input), so neither
format lets a value start a line of its own: a forged `... INFO watcher.access POST ...` line in
a request path must stay inside its record. The text format escapes every control character of
the message (and the Unicode line breaks NEL, LS and PS) as `\\xNN`/`\\uNNNN`, and indents the lines
of a traceback so none of them can pass for a record; JSON lines escape them as JSON does.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from types import TracebackType

# Attributes every LogRecord has; anything else was passed with `extra=` and is worth emitting.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# What sys.exc_info() returns: a record's exc_info.
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """`text` on one line, every control character visible as an escape."""
    return _CONTROL.sub(_escape, text)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: ExcInfo) -> str:
        lines = super().formatException(ei).split("\n")
        return "\n".join("    | " + escape_controls(line) for line in lines)

    def formatStack(self, stack_info: str) -> str:
        return "\n".join("    | " + escape_controls(line) for line in stack_info.split("\n"))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # json.dumps escapes C0 controls; NEL, LS and PS pass through with ensure_ascii=False and
        # some log tools split lines on them.
        return escape_unicode_breaks(json.dumps(entry, ensure_ascii=False, default=str))


def escape_unicode_breaks(text: str) -> str:
    return text.replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
