"""ProgSnap2 (v6) rows and texts from watcher events: pure functions, no I/O.

The mapping, one MainTable row per database row:

| database row                | EventType     | event-specific columns                         |
|-----------------------------|---------------|------------------------------------------------|
| snapshot, `file_size` > 0   | `File.Edit`   | CodeStateSection (the file), EditType          |
| snapshot, `file_size` == 0  | `File.Delete` | CodeStateSection (filemon's deletion: 0 bytes) |
| buildlog                    | `Compile`     | CodeStateSection (compiled file), CompileResult |
| runlog (procmon or Jupyter) | `Run.Program` | ExecutionResult Success (exit 0) / Error       |

Shared columns: `EventID` is the table and row id (`snapshot-12`, `build-3`, `run-7`), so the same
row keeps its id in every export; `Order` numbers the rows of one export 1, 2, 3, ... in time order;
`ServerTimestamp` is the time the service stored (KST wall clock, without offset, as v6's Timestamp
type has none) and `ServerTimezone` its offset `+0900`; `CourseID`/`CourseSectionID` split the
class `<subject>-<division>` (`os-1` -> `os`, `1`); `AssignmentID` is the assignment directory
(`hw1`). `CodeStateID` is the student's code as a whole at that moment (export/codestates.py).
`X-FileSize` (bytes saved) and `X-ExitCode` keep the numbers the ProgSnap2 enums round off.

EditType: filemon reports a save, the net result of whatever editing happened since the previous
one, so no single kind of edit (Insert, Delete, Paste, ...) describes it: `GenericEdit`.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from watcher import __version__
from watcher.store.export import BUILD, RUN, SNAPSHOT, Event

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
    "EditType",
    "CompileResult",
    "ExecutionResult",
    "X-FileSize",
    "X-ExitCode",
)

# Columns written as formatted (csvcells.Writer): ServerTimezone's `+0900` is data, not a formula.
VERBATIM = (COLUMNS.index("ServerTimezone"),)


class MainTableRow(NamedTuple):
    """One MainTable row, a field per column of COLUMNS, in its order (written as it is)."""

    event_type: str
    event_id: str
    order: int
    subject_id: str
    tool_instances: str
    code_state_id: str
    server_timestamp: str
    server_timezone: str
    course_id: str
    course_section_id: str
    assignment_id: str
    code_state_section: str | None
    edit_type: str | None
    compile_result: str | None
    execution_result: str | None
    x_file_size: int | None
    x_exit_code: int | None


FILE_EDIT = "File.Edit"
FILE_DELETE = "File.Delete"
COMPILE = "Compile"
RUN_PROGRAM = "Run.Program"
GENERIC_EDIT = "GenericEdit"
# What a Compile's CodeStateSection is when the compiled file is not a path (procmon always sends
# one; an adopted or hand-posted row may not).
UNKNOWN_SECTION = "X-Unknown"

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


def compiled_path(target_path: str | None, hw_name: str) -> str:
    """The file a build compiled, below the assignment, from procmon's absolute `target_path`.

    `/workspace/os-1-202012345/hw1/src/main.c` -> `src/main.c` (the part after the assignment's
    directory; procmon joins relative sources to the working directory without normalising, so
    the path is normalised first). A source outside the assignment keeps its base name; no path
    at all is `X-Unknown`.
    """
    path = posixpath.normpath(target_path or "")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if hw_name in parts:
        below = parts[parts.index(hw_name) + 1 :]
        if below and ".." not in below:
            return "/".join(below)
    name = parts[-1] if parts else ""
    return name if name and name != ".." else UNKNOWN_SECTION


def _result(exit_code: int | None) -> str:
    return "Success" if exit_code == 0 else "Error"


def main_table_row(
    event: Event,
    order: int,
    subject_id: str,
    course: tuple[str, str],
    section: str,
    code_state_id: str,
) -> MainTableRow:
    """The MainTable row of `event`.

    `subject_id` is the student id or its pseudonym; `section` the event's CodeStateSection as
    written in the archive (a save's file, a build's compiled file; ignored for runs).
    """
    kind = event.kind
    is_snapshot = kind == SNAPSHOT
    tool = _JUPYTER_TOOL if event.jupyter else _TOOLS[kind]
    edit = GENERIC_EDIT if is_snapshot and event.file_size != 0 else None
    return MainTableRow(
        event_type(event),
        f"{kind}-{event.row_id}",
        order,
        subject_id,
        tool,
        code_state_id,
        event.moment.isoformat(),
        SERVER_TIMEZONE,
        course[0],
        course[1],
        event.hw_name,
        None if kind == RUN else section,
        edit,
        _result(event.exit_code) if kind == BUILD else None,
        _result(event.exit_code) if kind == RUN else None,
        event.file_size if is_snapshot else None,
        None if is_snapshot else event.exit_code,
    )


@dataclass(frozen=True)
class About:
    """What README.txt says about the data set besides the format."""

    description: str
    contact_name: str
    contact_email: str
    class_div: str
    hw_name: str | None
    start: datetime | None  # naive KST
    end: datetime | None
    created: datetime
    pseudonymised: bool


def _when(moment: datetime | None, open_end: str) -> str:
    return open_end if moment is None else moment.isoformat() + SERVER_TIMEZONE


def readme(about: About) -> str:
    """README.txt: ProgSnap2 v6 asks for the data set's description and a contact at its top."""
    contact = " ".join(p for p in (about.contact_name, f"<{about.contact_email}>") if p != "<>")
    lines = [
        f"{about.description}",
        "",
        f"Contact: {contact or 'not given (set WATCHER_EXPORT_CONTACT_NAME and _EMAIL)'}",
        "",
        f"Class: {about.class_div}; assignment: {about.hw_name or 'all'};"
        f" events from {_when(about.start, 'the first')} to {_when(about.end, 'the last')}"
        " (end excluded).",
        f"Exported by {_TOOL} on {about.created.isoformat(timespec='seconds')}."
        f" SubjectIDs are {'pseudonyms' if about.pseudonymised else 'student ids'}.",
        "",
        "Format: ProgSnap2 version 6 (DatasetMetadata.csv, MainTable.csv, CodeStates/ as",
        "directories, LinkTables/CodeState.csv). CSV files are UTF-8, RFC 4180 (CRLF).",
        "",
        *_FORMAT_NOTES,
    ]
    return "\r\n".join(lines) + "\r\n"


_FORMAT_NOTES = (
    "Events: File.Edit (a save reported by the filemon collector; EditType GenericEdit, as a",
    "save is the net result of any editing since the previous one), File.Delete (a file deleted),",
    "Compile (a compiler run, from procmon; CodeStateSection is the compiled file),",
    "Run.Program (a program or notebook cell run). X-FileSize is the size saved in bytes,",
    "X-ExitCode the process's exit code.",
    "",
    "Time: ServerTimestamp is the time the collector stamped, Korean wall-clock time without",
    "offset; ServerTimezone is +0900. Order numbers all rows in time order; within one second,",
    "saves (whose times have whole seconds) come first in the order they were posted, then",
    "compiles and runs by their exact time.",
    "",
    "Code states: a CodeStateID names the student's code in that assignment as a whole at that",
    "moment: every file filemon has reported saved and not deleted, each as last saved.",
    "CodeStates/<CodeStateID>/ holds those files at their paths below the assignment directory;",
    "its id is a hash of the paths and contents, so equal code shares one id. A compile or run",
    "uses the code state in force; a deletion's code state is the code without the deleted file;",
    "before a student's first save the code state is empty. Files never saved while the",
    "collector ran are not known. A file whose saved content is unknown (nothing posted and no",
    "snapshot file on the volume) is not in the directory: LinkTables/CodeState.csv lists, for",
    "every code state, its number of files and the paths (a JSON array) whose content is unknown.",
    "Such a code state's id also names the save whose content is missing, so it is never mistaken",
    "for another.",
    "",
    "Paths: '/' separates directories; the characters \\ : * ? \" < > | and % are written as %XX",
    "(as in URLs) so every path unpacks on every system and maps back to one name.",
    "",
    "Spreadsheets: a text cell starting with = + - @, a tab or a carriage return (or a",
    "full-width = + - @) is written with one leading ' so no spreadsheet runs it as a formula;",
    "a text cell starting with ' gets one more. Drop one leading ' from a text cell to get the",
    "value. Numeric columns are never changed.",
)
