"""ProgSnap2 (v6) rows from watcher events: pure functions, no I/O.

The mapping, one MainTable row per database row:

| database row                    | EventType     | result column                              |
|---------------------------------|---------------|--------------------------------------------|
| snapshot, `file_size` > 0       | `File.Edit`   | -                                          |
| snapshot, `file_size` == 0      | `File.Delete` | - (filemon reports a deletion as 0 bytes)  |
| buildlog                        | `Compile`     | `CompileResult` Success (exit 0) / Error   |
| runlog (procmon or Jupyter)     | `Run.Program` | `ExecutionResult` Success (exit 0) / Error |

Shared columns: `EventID` is the table and row id (`snapshot-12`, `build-3`, `run-7`), so the same
row keeps its id in every export; `Order` numbers the rows of one export 1, 2, 3, ... in time order;
`ServerTimestamp` is the time the service stored (KST, written with its offset) and
`ServerTimezone` is `+0900`; `CourseID`/`CourseSectionID` split the class `<subject>-<division>`
(`os-1` -> `os`, `1`); `AssignmentID` is the assignment directory (`hw1`); `CodeStateSection` is
the saved file's path below the assignment (`src@util.c` -> `src/util.c`). `X-FileSize` (bytes
saved) and `X-ExitCode` keep the numbers the ProgSnap2 enums round off.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from watcher import __version__
from watcher.store.export import BUILD, RUN, SNAPSHOT, Event
from watcher.timefmt import KST

VERSION = "6"
SERVER_TIMEZONE = "+0900"

COLUMNS: tuple[str, ...] = (
    "EventType",
    "EventID",
    "Order",
    "SubjectID",
    "ToolInstances",
    "CodeStateID",
    "ServerTimestamp",
    "ServerTimezone",
    "CourseID",
    "CourseSectionID",
    "AssignmentID",
    "CodeStateSection",
    "CompileResult",
    "ExecutionResult",
    "X-FileSize",
    "X-ExitCode",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("EventType", "EventID", "SubjectID", "ToolInstances",
                                     "CodeStateID")  # fmt: skip

FILE_EDIT = "File.Edit"
FILE_DELETE = "File.Delete"
COMPILE = "Compile"
RUN_PROGRAM = "Run.Program"

# Order follows ServerTimestamp across the whole export: every event of a student is stamped by
# collectors on the node running that student's container, so one clock orders a subject's events.
METADATA: tuple[tuple[str, str], ...] = (
    ("Version", VERSION),
    ("IsEventOrderingConsistent", "true"),
    ("EventOrderScope", "Global"),
    ("EventOrderScopeColumns", ""),
    ("CodeStateRepresentation", "Directory"),
)

_TOOL = f"JCode Watcher {__version__}"
_TOOLS = {
    SNAPSHOT: f"{_TOOL}; filemon",
    BUILD: f"{_TOOL}; procmon",
    RUN: f"{_TOOL}; procmon",
}
_JUPYTER_TOOL = f"{_TOOL}; Jupyter hook"
_ILLEGAL_IN_PATH = re.compile(r"[\x00-\x1f\x7f\\:*?\"<>|]")


def course_ids(class_div: str) -> tuple[str, str]:
    """`os-1` -> (`os`, `1`): CourseID is the subject, CourseSectionID the division.

    Class names are `<subject>-<division>` (names.CLASS_DIV); the split is at the first `-`.
    """
    subject, _, division = class_div.partition("-")
    return subject, division


def event_type(event: Event) -> str:
    """The ProgSnap2 EventType of an event (see the module's table)."""
    if event.kind == SNAPSHOT:
        return FILE_DELETE if event.file_size == 0 else FILE_EDIT
    if event.kind == BUILD:
        return COMPILE
    return RUN_PROGRAM


def section_path(filename: str) -> str:
    """A stored file name (`src@util.c`) as the path below the assignment (`src/util.c`)."""
    return filename.replace("@", "/")


def code_state_path(code_state_id: str, filename: str) -> str:
    """Where a code state's file lives in the archive: `CodeStates/<id>/<path>`.

    Stored names never hold `/`, `\\`, control characters or `.`/`..` parts (names.py); characters
    Windows cannot unpack are replaced so the archive opens everywhere.
    """
    return f"CodeStates/{code_state_id}/" + _ILLEGAL_IN_PATH.sub("_", section_path(filename))


def _result(exit_code: int | None) -> str:
    return "Success" if exit_code == 0 else "Error"


def main_table_row(
    event: Event,
    order: int,
    subject_id: str,
    course: tuple[str, str],
    section: str | None = None,
) -> Sequence[str | int]:
    """The MainTable row of `event`, in COLUMNS order.

    `subject_id` is the student id or its pseudonym; `section` overrides the CodeStateSection of a
    snapshot (the pseudonymised path), otherwise it is the file's path.
    """
    kind = event.kind
    is_snapshot = kind == SNAPSHOT
    if is_snapshot:
        tool = _TOOLS[SNAPSHOT]
        where = section if section is not None else section_path(event.filename or "")
    else:
        tool = _JUPYTER_TOOL if event.jupyter else _TOOLS[kind]
        where = ""
    return (
        event_type(event),
        f"{kind}-{event.row_id}",
        order,
        subject_id,
        tool,
        event.code_state_id or "",
        event.moment.replace(tzinfo=KST).isoformat(),
        SERVER_TIMEZONE,
        course[0],
        course[1],
        event.hw_name,
        where,
        _result(event.exit_code) if kind == BUILD else "",
        _result(event.exit_code) if kind == RUN else "",
        event.file_size if is_snapshot else "",
        "" if is_snapshot else event.exit_code,
    )
