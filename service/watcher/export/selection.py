"""What an export asks for, checked once for the route and the command line: the same rules and
messages, each problem naming its field (the route turns the field into a `loc`, the command line
into its flag)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from watcher.names import CLASS_DIV, HW_NAME
from watcher.store.export import Selection
from watcher.timefmt import asked_to_kst_naive, parse_datetime


@dataclass(frozen=True)
class Problem:
    field: str  # class_div, assignment, from, to or pseudonymize
    kind: str
    message: str
    value: str


class SelectionError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


def _bound(field: str, raw: str | None, problems: list[Problem]) -> datetime | None:
    """A window end as naive KST: an offset is honoured, a time without one is KST."""
    if raw is None:
        return None
    try:
        return asked_to_kst_naive(parse_datetime(raw))
    except (TypeError, ValueError, OverflowError) as exc:
        msg = f"Input should be an ISO 8601 date-time, {exc}"
        problems.append(Problem(field, "datetime_parsing", msg, raw))
        return None


def check(
    class_div: str,
    assignment: str | None,
    start: str | None,
    end: str | None,
    pseudonymize: bool,
    export_key: str,
) -> tuple[Selection, bytes | None]:
    """The selection and the pseudonymisation key, or SelectionError naming every problem."""
    problems: list[Problem] = []
    if not CLASS_DIV.fullmatch(class_div):
        msg = f"String should match pattern '{CLASS_DIV.pattern}' (e.g. os-1)"
        problems.append(Problem("class_div", "string_pattern_mismatch", msg, class_div))
    if assignment is not None and not HW_NAME.fullmatch(assignment):
        msg = f"String should match pattern '{HW_NAME.pattern}' (e.g. hw1)"
        problems.append(Problem("assignment", "string_pattern_mismatch", msg, assignment))
    low, high = _bound("from", start, problems), _bound("to", end, problems)
    if low is not None and high is not None and high <= low:
        problems.append(Problem("to", "window_order", "Input should be later than from", end or ""))
    key = None
    if pseudonymize:
        if export_key:
            key = export_key.encode()
        else:
            msg = "Pseudonymisation needs a key: WATCHER_EXPORT_KEY is not set"
            problems.append(Problem("pseudonymize", "export_key_missing", msg, "true"))
    if problems:
        raise SelectionError(problems)
    return Selection(class_div, assignment, low, high), key
