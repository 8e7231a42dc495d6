"""Turning path, query and body values into typed values, or pydantic-style 422 entries.

The original validated with pydantic v2 (lax mode); clients only look at the status, but the error
entries keep its `type`/`loc`/`msg`/`input` shape so logs and tooling read the same.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

from watcher.api.errors import BadRequest, RequestTimeout, ValidationFailed, error_entry
from watcher.api.state import SETTINGS
from watcher.names import (
    CLASS_DIV,
    DECIMAL_TEXT,
    HW_NAME,
    INT64_DIGITS,
    INT64_MAX,
    INTEGER_TEXT,
    TEXT_MAX,
    boolean,
    filename_problem,
    integer_digits,
    normal_filename,
)
from watcher.records import Scope
from watcher.timefmt import parse_datetime, snapshot_timestamp_to_kst

INT_PARSING = "Input should be a valid integer, unable to parse string as an integer"


class Errors:
    """Collects every problem of a request, so one 422 names them all."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def add(self, *args: Any, **kwargs: Any) -> None:
        self.entries.append(error_entry(*args, **kwargs))

    def raise_if_any(self) -> None:
        if self.entries:
            raise ValidationFailed(self.entries)


def parse_int_text(raw: str, loc: list[str | int], errors: Errors) -> int | None:
    """ASCII digits with an optional `-` (names.py); beyond 64 bits is out of range, found
    without converting (Python refuses to convert more than 4300 digits)."""
    if not INTEGER_TEXT.fullmatch(raw):
        errors.add("int_parsing", loc, INT_PARSING, raw)
        return None
    if integer_digits(raw) > INT64_DIGITS:
        if raw.startswith("-"):
            msg = f"Input should be greater than or equal to {-INT64_MAX - 1}"
            errors.add("greater_than_equal", loc, msg, raw, {"ge": -INT64_MAX - 1})
        else:
            msg = f"Input should be less than or equal to {INT64_MAX}"
            errors.add("less_than_equal", loc, msg, raw, {"le": INT64_MAX})
        return None
    return int(raw)


def path_int(request: web.Request, name: str, errors: Errors) -> int | None:
    return parse_int_text(request.match_info[name], ["path", name], errors)


def _in_range(
    value: int | None, loc: list[str | int], raw: Any, errors: Errors, low: int, high: int
) -> int | None:
    if value is None:
        return None
    if value < low:
        msg = f"Input should be greater than or equal to {low}"
        errors.add("greater_than_equal", loc, msg, raw, {"ge": low})
        return None
    if value > high:
        msg = f"Input should be less than or equal to {high}"
        errors.add("less_than_equal", loc, msg, raw, {"le": high})
        return None
    return value


def student_id(request: web.Request, errors: Errors) -> int | None:
    raw = request.match_info["student_id"]
    value = parse_int_text(raw, ["path", "student_id"], errors)
    return _in_range(value, ["path", "student_id"], raw, errors, 0, INT64_MAX)


def _pattern(request: web.Request, name: str, pattern: re.Pattern[str], errors: Errors) -> str:
    value = request.match_info[name]
    if not pattern.fullmatch(value):
        msg = f"String should match pattern '{pattern.pattern}'"
        errors.add("string_pattern_mismatch", ["path", name], msg, value)
    return value


def class_div(request: web.Request, errors: Errors) -> str:
    """The class of the path, checked against its pattern."""
    return _pattern(request, "class_div", CLASS_DIV, errors)


def scope(request: web.Request, errors: Errors) -> Scope:
    """The class and assignment of the path, checked against their patterns."""
    return Scope(class_div(request, errors), _pattern(request, "hw_name", HW_NAME, errors))


def scope_of(request: web.Request) -> Scope:
    errors = Errors()
    checked = scope(request, errors)
    errors.raise_if_any()
    return checked


def filename(request: web.Request, errors: Errors) -> str:
    """Any file name a collector sends, in its one stored spelling (NFC); never one that could
    climb out of a directory."""
    value = normal_filename(request.match_info["filename"])
    problem = filename_problem(value)
    if problem:
        errors.add("filename", ["path", "filename"], f"Invalid file name: {problem}", value)
    return value


def student_path(request: web.Request) -> tuple[Scope, int]:
    """The `{class_div}/{hw_name}/{student_id}` every per-student route starts with."""
    errors = Errors()
    checked = scope(request, errors)
    student = student_id(request, errors)
    errors.raise_if_any()
    assert student is not None
    return checked, student


def student_file_path(request: web.Request) -> tuple[Scope, int, str]:
    errors = Errors()
    checked = scope(request, errors)
    student = student_id(request, errors)
    name = filename(request, errors)
    errors.raise_if_any()
    assert student is not None
    return checked, student, name


def snapshot_timestamp(raw: str, errors: Errors) -> str | None:
    try:
        return snapshot_timestamp_to_kst(raw)
    except ValueError as exc:
        errors.add("timestamp_format", ["path", "timestamp"], str(exc), raw)
        return None


# Any wider graph bucket holds a whole class's history just the same (19 years).
MAX_INTERVAL_MINUTES = 10_000_000


def positive_interval(request: web.Request) -> int:
    """Bucket width in minutes; the original's 400 for <= 0, wider than any history clamped."""
    errors = Errors()
    interval = path_int(request, "interval", errors)
    errors.raise_if_any()
    assert interval is not None
    if interval <= 0:
        raise BadRequest("Interval must be a positive integer.")
    return min(interval, MAX_INTERVAL_MINUTES)


def path_datetime(request: web.Request, name: str, errors: Errors) -> datetime | None:
    raw = request.match_info[name]
    try:
        return parse_datetime(raw)
    except (TypeError, ValueError, OverflowError) as exc:
        msg = f"Input should be a valid datetime or date, {exc}"
        errors.add("datetime_from_date_parsing", ["path", name], msg, raw)
        return None


# Collectors send flat objects; anything nested deeper than this is not a body of ours, and the
# limit keeps every later step (validation, error echo, logging) far from the recursion limit.
MAX_JSON_DEPTH = 32


class _JsonRefused(ValueError):
    """JSON text this service refuses although Python's parser would take it."""


def _no_constant(name: str) -> Any:
    raise _JsonRefused(f"{name} is not a JSON number (RFC 8259)")


class HugeInt(int):
    """A JSON integer beyond 64 bits: its value is just out of range on its side (so every range
    check refuses it with the field's name), its text is kept for the error message. Python could
    not even convert one of over 4300 digits."""

    text: str

    def __new__(cls, text: str) -> HugeInt:
        value = super().__new__(cls, -INT64_MAX - 2 if text.startswith("-") else INT64_MAX + 1)
        value.text = text
        return value


def _bounded_int(text: str) -> int:
    return HugeInt(text) if integer_digits(text) > INT64_DIGITS else int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _JsonRefused(f"the number {text[:32]} is out of range")
    return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    """True when containers nest deeper than `limit` (iterative: no recursion of our own)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _json_invalid(position: int, error: str) -> ValidationFailed:
    ctx = {"error": error}
    return ValidationFailed(
        [error_entry("json_invalid", ["body", position], "JSON decode error", {}, ctx)]
    )


_DECODER = json.JSONDecoder(
    parse_constant=_no_constant, parse_int=_bounded_int, parse_float=_finite_float
)


def decode_json(raw: bytes) -> Any:
    """Strict JSON: no NaN/Infinity, integers within 64 bits, at most MAX_JSON_DEPTH levels."""
    try:
        # What json.loads does with bytes, with one decoder built once instead of per request.
        body = _DECODER.decode(raw.decode(json.detect_encoding(raw), "surrogatepass"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _json_invalid(getattr(exc, "pos", 0), str(exc)) from None
    except _JsonRefused as exc:
        raise _json_invalid(0, str(exc)) from None
    except RecursionError:
        raise _json_invalid(0, f"nested more than {MAX_JSON_DEPTH} levels deep") from None
    if isinstance(body, dict | list) and _depth_exceeds(body, MAX_JSON_DEPTH):
        raise _json_invalid(0, f"nested more than {MAX_JSON_DEPTH} levels deep")
    return body


async def json_object(request: web.Request) -> Mapping[str, Any]:
    """The request body as a JSON object, or a 422 like FastAPI's for a missing/bad body.

    A client that sends its body too slowly gets 408 instead of holding a connection forever.
    """
    if request.content.is_eof():  # the whole body has arrived (nearly always): no timer needed
        raw = await request.read()
    else:
        try:
            async with asyncio.timeout(request.app[SETTINGS].read_timeout_s):
                raw = await request.read()
        except TimeoutError:
            raise RequestTimeout("request body not received in time") from None
    if not raw.strip():
        raise ValidationFailed([error_entry("missing", ["body"], "Field required", None)])
    body = decode_json(raw)
    if not isinstance(body, dict):
        msg = "Input should be a valid dictionary or object to extract fields from"
        raise ValidationFailed([error_entry("model_attributes_type", ["body"], msg, body)])
    return body


def body_int(
    body: Mapping[str, Any],
    name: str,
    errors: Errors,
    minimum: int = -INT64_MAX - 1,
    maximum: int = INT64_MAX,
) -> int | None:
    loc: list[str | int] = ["body", name]
    if name not in body:
        errors.add("missing", loc, "Field required", None)
        return None
    value = body[name]
    result: int | None = None
    if isinstance(value, bool) or value is None:
        errors.add("int_type", loc, "Input should be a valid integer", value)
    elif isinstance(value, int):
        result = value
    elif isinstance(value, float):
        if value.is_integer():
            result = int(value)
        else:
            msg = "Input should be a valid integer, got a number with a fractional part"
            errors.add("int_from_float", loc, msg, value)
    elif isinstance(value, str):
        result = parse_int_text(value, loc, errors)
    else:
        errors.add("int_type", loc, "Input should be a valid integer", value)
    shown = value.text if isinstance(value, HugeInt) else value
    return _in_range(result, loc, shown, errors, minimum, maximum)


def body_str(body: Mapping[str, Any], name: str, errors: Errors) -> str | None:
    if name not in body:
        errors.add("missing", ["body", name], "Field required", None)
        return None
    value = body[name]
    if not isinstance(value, str):
        errors.add("string_type", ["body", name], "Input should be a valid string", value)
        return None
    if len(value) > TEXT_MAX:
        msg = f"String should have at most {TEXT_MAX} characters"
        errors.add("string_too_long", ["body", name], msg, value, {"max_length": TEXT_MAX})
        return None
    if "\x00" in value:
        errors.add("string_nul", ["body", name], "String must not contain NUL characters", value)
        return None
    return value


def body_datetime(body: Mapping[str, Any], name: str, errors: Errors) -> datetime | None:
    loc: list[str | int] = ["body", name]
    if name not in body:
        errors.add("missing", loc, "Field required", None)
        return None
    value = body[name]
    try:
        return parse_datetime(value)
    except TypeError:
        errors.add("datetime_type", loc, "Input should be a valid datetime", value)
    except (ValueError, OverflowError) as exc:
        errors.add("datetime_parsing", loc, f"Input should be a valid datetime, {exc}", value)
    return None


# --- v2 query strings: typed, bounded, and unknown names refused (a typo is never ignored) ------


def refuse_unknown_query(request: web.Request, known: tuple[str, ...], errors: Errors) -> None:
    for name in request.query:
        if name not in known:
            msg = f"Unknown query parameter; expected one of: {', '.join(known)}"
            errors.add("extra_forbidden", ["query", name], msg, request.query[name])


def query_number(
    request: web.Request,
    name: str,
    default: float,
    errors: Errors,
    *,
    low: float,
    high: float,
    integer: bool = False,
) -> float:
    """`?name=` as a number in [low, high], or the default when absent."""
    raw = request.query.get(name)
    if raw is None:
        return default
    loc: list[str | int] = ["query", name]
    pattern = INTEGER_TEXT if integer else DECIMAL_TEXT
    if not pattern.fullmatch(raw):
        kind = "integer" if integer else "number"
        errors.add(
            f"{'int' if integer else 'float'}_parsing",
            loc,
            f"Input should be a valid {kind}",
            raw,
        )
        return default
    # float() of any digit string is finite or inf, never an error; inf is out of range below.
    value = float(raw) if not integer or integer_digits(raw) > INT64_DIGITS else int(raw)
    if not low <= value <= high:
        msg = f"Input should be between {_plain(low)} and {_plain(high)}"
        errors.add("out_of_range", loc, msg, raw, {"ge": low, "le": high})
        return default
    return value


def _plain(number: float) -> str:
    """1000000000.0 -> `1000000000`, 0.5 -> `0.5` (never `1e+09`)."""
    return str(int(number)) if float(number).is_integer() else str(number)


def query_bool(request: web.Request, name: str, default: bool, errors: Errors) -> bool:
    """`?name=true` and the like (names.boolean); absent or empty: `default`."""
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = boolean(raw)
    except ValueError:
        errors.add("bool_parsing", ["query", name], "Input should be true or false", raw)
        return default
    return default if value is None else value


def query_choice(
    request: web.Request, name: str, choices: tuple[str, ...], default: str, errors: Errors
) -> str:
    raw = request.query.get(name)
    if raw is None:
        return default
    if raw not in choices:
        msg = f"Input should be one of: {', '.join(choices)}"
        errors.add("enum", ["query", name], msg, raw, {"expected": list(choices)})
        return default
    return raw


def query_datetime(request: web.Request, name: str, errors: Errors) -> datetime | None:
    """An ISO 8601 date-time (or date, or Unix time); None when absent."""
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        return parse_datetime(raw)
    except (TypeError, ValueError, OverflowError) as exc:
        errors.add(
            "datetime_parsing", ["query", name], f"Input should be a valid datetime, {exc}", raw
        )
        return None
