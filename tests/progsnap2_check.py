"""A ProgSnap2 v6 validator of our own: checks an archive against the specification's rules (and
the conventions JCode Watcher documents on top of them), independently of the code that writes it.

Run on every archive the tests produce; from the command line:

    python -m tests.progsnap2_check export.zip

prints a report (what the data set holds, then every problem found) and exits 1 when there are
problems. The rules, by part of the data set:

- Structure: a readable zip whose CRCs match, names relative, without `..`, `\\`, control or
  Windows-reserved characters, no duplicates; `README.txt` (a description and a contact name and
  email), `DatasetMetadata.csv` and `MainTable.csv` at the top; nothing else at the top but
  `CodeStates/`, `LinkTables/` and `Resources/`.
- Every CSV: UTF-8; RFC 4180 (every record ends in CRLF, no bare CR or LF outside quotes, quotes
  doubled inside quoted fields, nothing after a closing quote); a header of unique non-empty names;
  every record as wide as the header; no text cell a spreadsheet would run as a formula.
- DatasetMetadata: `Property,Value`; known properties, each once; Version 6; booleans true/false;
  EventOrderScope Global, Restricted or None, with EventOrderScopeColumns (MainTable columns) given
  exactly when Restricted; CodeStateRepresentation Table, Directory or Git (Directory is checked).
- MainTable: the required columns present and non-empty on every row; other columns known or
  `X-`; EventType from the vocabulary (or `X-`); unique EventIDs; each event type's own required
  columns non-empty; enum values known (or `X-`); Integer, Real, Boolean, Timestamp (no offset) and
  Timezone values well formed; a timestamp with its time zone; Order an integer on every row when
  the order scope is not None, unique when Global; with consistent ordering, ServerTimestamp never
  goes back as Order goes forward.
- CodeStates (Directory): a directory per CodeStateID used, none unused, no file outside one.
- LinkTables: CSVs named after their ID columns (`CodeState.csv` for CodeStateID), which come first,
  are MainTable columns, and hold unique, non-empty values that MainTable uses.
- JCode Watcher's conventions: LinkTables/CodeState.csv has a row per code state with its file
  count and the files whose content is unknown (a JSON array); a File.Edit's file is in its code
  state or listed as unknown there, a File.Delete's file is not in its code state.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import sys
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

README = "README.txt"
METADATA = "DatasetMetadata.csv"
MAIN_TABLE = "MainTable.csv"
TOP_LEVEL = {README, METADATA, MAIN_TABLE, "CodeStates", "LinkTables", "Resources"}

REQUIRED = ("EventType", "EventID", "SubjectID", "ToolInstances", "CodeStateID")
EVENT_TYPES = {
    "Session.Start": ("SessionID",),
    "Session.End": ("SessionID",),
    "Project.Open": ("ProjectID",),
    "Project.Close": ("ProjectID",),
    "File.Create": ("CodeStateSection",),
    "File.Delete": ("CodeStateSection",),
    "File.Open": ("CodeStateSection",),
    "File.Close": ("CodeStateSection",),
    "File.Save": ("CodeStateSection",),
    "File.Rename": ("CodeStateSection", "DestinationCodeStateSection"),
    "File.Copy": ("CodeStateSection", "DestinationCodeStateSection"),
    "File.Edit": ("CodeStateSection", "EditType"),
    "File.Focus": ("CodeStateSection",),
    "Compile": ("CodeStateSection", "CompileResult"),
    "Compile.Error": (
        "ParentEventID",
        "CodeStateSection",
        "CompileMessageType",
        "CompileMessageData",
        "SourceLocation",
    ),
    "Compile.Warning": (
        "ParentEventID",
        "CodeStateSection",
        "CompileMessageType",
        "CompileMessageData",
        "SourceLocation",
    ),
    "Submit": (),
    "Run.Program": ("ExecutionResult",),
    "Run.Test": ("ExecutionID", "TestID", "ExecutionResult"),
    "Debug.Program": ("ExecutionResult",),
    "Debug.Test": ("ExecutionID", "TestID", "ExecutionResult"),
    "Resource.View": ("ResourceID",),
    "Intervention": (
        "EventInitiator",
        "InterventionCategory",
        "InterventionType",
        "InterventionMessage",
    ),
}
ENUMS = {
    "EditType": {
        "Insert",
        "Delete",
        "Replace",
        "Move",
        "Paste",
        "Undo",
        "Redo",
        "Refactor",
        "Reset",
        "GenericEdit",
    },
    "CompileResult": {"Success", "Warning", "Error"},
    "ExecutionResult": {"Success", "Timeout", "Error", "TestFailed"},
    "EventInitiator": {
        "UserDirectAction",
        "UserIndirectAction",
        "ToolReaction",
        "ToolTimedEvent",
        "InstructorDirectAction",
        "InstructorIndirectAction",
        "TeamMemberDirectAction",
        "TeamMemberIndirectAction",
    },
    "InterventionCategory": {"Feedback", "Hint", "CodeHighlight", "CodeChange", "EarnedGrade"},
}
ID_COLUMNS = {"EventID", "SubjectID", "CodeStateID", "ParentEventID", "SessionID", "ProjectID",
              "ResourceID", "CourseID", "CourseSectionID", "TermID", "AssignmentID", "ProblemID",
              "TeamID", "LoggingErrorID", "ExecutionID", "TestID"}  # fmt: skip
INTEGER_COLUMNS = {"Order", "Attempt"}
REAL_COLUMNS = {"Score", "ExtraCreditScore"}
BOOLEAN_COLUMNS = {"AssignmentIsGraded", "ProblemIsGraded", "IsFabricatedEvent"}
TIMESTAMP_COLUMNS = {"ServerTimestamp": "ServerTimezone", "ClientTimestamp": "ClientTimezone"}
TEXT_COLUMNS = {"ToolInstances", "CodeStateSection", "DestinationCodeStateSection",
                "SourceLocation", "ExperimentalCondition", "CompileMessageType",
                "CompileMessageData", "ProgramInput", "ProgramOutput", "ProgramErrorOutput",
                "InterventionType", "InterventionMessage"}  # fmt: skip
KNOWN_COLUMNS = ({"EventType", *ID_COLUMNS, *INTEGER_COLUMNS, *REAL_COLUMNS, *BOOLEAN_COLUMNS,
                  *TIMESTAMP_COLUMNS, *TIMESTAMP_COLUMNS.values(), *TEXT_COLUMNS}
                 | set(ENUMS))  # fmt: skip
PROPERTIES = {"Version", "IsEventOrderingConsistent", "EventOrderScope", "EventOrderScopeColumns",
              "CodeStateRepresentation", "ProgramInputLinkTable"}  # fmt: skip

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?")
_TIMEZONE = re.compile(r"Z|[+-]\d{2}(:?\d{2})?")
_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f\\:*?"<>|]')
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


@dataclass
class Report:
    """What the data set holds and every rule it breaks."""

    problems: list[str] = field(default_factory=list)
    events: Counter[str] = field(default_factory=Counter)
    subjects: int = 0
    code_states: int = 0
    code_state_files: int = 0
    link_tables: list[str] = field(default_factory=list)
    members: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, text: str) -> None:
        if len(self.problems) < 200:
            self.problems.append(text)
        elif len(self.problems) == 200:
            self.problems.append("... (more problems not listed)")

    def render(self) -> str:
        events = ", ".join(f"{n:,} {kind}" for kind, n in sorted(self.events.items()))
        lines = [
            f"members: {self.members:,}",
            f"MainTable: {sum(self.events.values()):,} rows ({events or 'none'}),"
            f" {self.subjects:,} subjects",
            f"CodeStates: {self.code_states:,} code states, {self.code_state_files:,} files",
            f"LinkTables: {', '.join(self.link_tables) or 'none'}",
            f"result: {'valid' if self.ok else f'{len(self.problems)} problem(s)'}",
            *(f"  - {p}" for p in self.problems),
        ]
        return "\n".join(lines)


def parse_csv(text: str) -> tuple[list[list[str]], list[str]]:
    """RFC 4180, strictly: (records, problems). Every record must end in CRLF."""
    records: list[list[str]] = []
    problems: list[str] = []
    record: list[str] = []
    cell: list[str] = []
    i, n, line = 0, len(text), 1
    quoted = False  # inside a quoted field
    after_quote = False  # a quoted field just closed: only `,` or CRLF may follow
    while i < n:
        c = text[i]
        if quoted:
            if c == '"':
                if i + 1 < n and text[i + 1] == '"':
                    cell.append('"')
                    i += 2
                    continue
                quoted, after_quote = False, True
            else:
                cell.append(c)
                line += c == "\n"
            i += 1
            continue
        if c == ",":
            record.append("".join(cell))
            cell, after_quote = [], False
        elif c == "\r" and text[i + 1 : i + 2] == "\n":
            record.append("".join(cell))
            records.append(record)
            record, cell, after_quote = [], [], False
            line += 1
            i += 1
        elif c in "\r\n":
            problems.append(f"line {line}: a bare {'CR' if c == chr(13) else 'LF'} (RFC 4180"
                            " records end in CRLF)")  # fmt: skip
            return records, problems
        elif after_quote:
            problems.append(f"line {line}: text after a closing quote")
            return records, problems
        elif c == '"':
            if cell:
                problems.append(f"line {line}: a quote inside an unquoted field")
                return records, problems
            quoted = True
        else:
            cell.append(c)
        i += 1
    if quoted:
        problems.append(f"line {line}: a quoted field never closed")
    elif record or cell:
        problems.append(f"line {line}: the last record does not end in CRLF")
    return records, problems


class _Archive:
    def __init__(self, data: bytes, report: Report) -> None:
        self.report = report
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.names = [info.filename for info in self.zip.infolist()]

    def table(self, name: str) -> tuple[list[str], list[dict[str, str]]] | None:
        """A CSV member's header and rows (as dicts), after every CSV rule; None when
        unreadable."""
        try:
            text = self.zip.read(name).decode("utf-8")
        except UnicodeDecodeError as exc:
            self.report.problem(f"{name}: not UTF-8 ({exc})")
            return None
        found, problems = read_csv(text.removeprefix("\ufeff"))
        for p in problems:
            self.report.problem(f"{name}: {p}")
        return found


def read_csv(text: str) -> tuple[tuple[list[str], list[dict[str, str]]] | None, list[str]]:
    """((header, rows as dicts) or None, problems) of a CSV after every CSV rule of the module."""
    records, problems = parse_csv(text)
    if not records:
        return None, [*problems, "no header row"]
    header = records[0]
    if any(not h for h in header) or len(set(header)) != len(header):
        problems.append(f"the header needs unique, non-empty names: {header}")
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if len(record) != len(header):
            problems.append(f"record {number}: {len(record)} fields, the header has {len(header)}")
            continue
        for column, value in zip(header, record, strict=True):
            # A number or a time zone offset (checked against its type) is read as data.
            if (
                value.startswith(_FORMULA_STARTS)
                and not _NUMBER.fullmatch(value)
                and column not in TIMESTAMP_COLUMNS.values()
            ):
                problems.append(f"record {number}: {value!r} would run as a formula")
        rows.append(dict(zip(header, record, strict=True)))
    return (header, rows), problems


def _check_structure(archive: _Archive) -> None:
    report = archive.report
    problem = report.problem
    bad = archive.zip.testzip()
    if bad is not None:
        problem(f"{bad}: its CRC does not match its content")
    seen = Counter(archive.names)
    for name, times in seen.items():
        if times > 1:
            problem(f"{name}: {times} members with this name")
        parts = name.rstrip("/").split("/")
        if name.startswith("/") or ".." in parts or "" in parts or _UNSAFE_NAME.search(name):
            problem(f"{name}: not a safe relative path")
        if parts[0] not in TOP_LEVEL:
            problem(f"{name}: not a part of a ProgSnap2 data set")
    for required in (README, METADATA, MAIN_TABLE):
        if required not in seen:
            problem(f"{required} is missing at the top of the data set")
    if README in seen:
        _check_readme(archive.zip.read(README), report)


def _check_readme(data: bytes, report: Report) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        report.problem("README.txt: not UTF-8 text")
        return
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0].lower().startswith("contact"):
        report.problem("README.txt: no description of the data set")
    contact = [line for line in lines if line.lower().startswith("contact")]
    name = re.sub(r"<[^>]*>|contact\s*:?", "", contact[0], flags=re.I).strip() if contact else ""
    if not contact or not _EMAIL.search(contact[0]) or not re.search(r"\w", name):
        report.problem("README.txt: no contact line with a name and an email address")


def _check_metadata(archive: _Archive, columns: list[str]) -> dict[str, str]:
    problem = archive.report.problem
    header, rows = archive.table(METADATA) or ([], [])
    if header != ["Property", "Value"]:
        problem(f"{METADATA}: the header must be Property,Value")
        return {}
    found = Counter(r["Property"] for r in rows)
    for name, times in found.items():
        if times > 1:
            problem(f"{METADATA}: {name} is given {times} times")
        if name not in PROPERTIES and not name.startswith("X-"):
            problem(f"{METADATA}: unknown property {name}")
    values = {r["Property"]: r["Value"] for r in rows}
    if values.get("Version") != "6":
        problem(f"{METADATA}: Version is {values.get('Version')!r}, not 6")
    if values.get("IsEventOrderingConsistent", "false") not in ("true", "false"):
        problem(f"{METADATA}: IsEventOrderingConsistent must be true or false")
    scope = values.get("EventOrderScope", "None")
    if scope not in ("Global", "Restricted", "None"):
        problem(f"{METADATA}: EventOrderScope {scope!r} is not Global, Restricted or None")
    scope_columns = [c for c in values.get("EventOrderScopeColumns", "").split(";") if c]
    if (scope == "Restricted") != bool(scope_columns):
        problem(f"{METADATA}: EventOrderScopeColumns is given exactly when the scope is Restricted")
    for column in scope_columns:
        if column not in columns:
            problem(f"{METADATA}: EventOrderScopeColumns names {column}, not a MainTable column")
    representation = values.get("CodeStateRepresentation", "Table")
    if representation not in ("Table", "Directory", "Git"):
        problem(f"{METADATA}: CodeStateRepresentation {representation!r} is not a v6 value")
    elif representation != "Directory":
        problem(f"{METADATA}: this validator checks the Directory representation only")
    return values


def _check_value(column: str, value: str, where: str, report: Report) -> None:
    if column in ENUMS and value not in ENUMS[column] and not value.startswith("X-"):
        report.problem(f"{where}: {column} {value!r} is not a v6 value")
    elif column in INTEGER_COLUMNS and not _INTEGER.fullmatch(value):
        report.problem(f"{where}: {column} {value!r} is not an integer")
    elif column in REAL_COLUMNS and not (_NUMBER.fullmatch(value) and 0 <= float(value) <= 1):
        report.problem(f"{where}: {column} {value!r} is not a number from 0 to 1")
    elif column in BOOLEAN_COLUMNS and value not in ("true", "false"):
        report.problem(f"{where}: {column} {value!r} is not true or false")
    elif column in TIMESTAMP_COLUMNS and not _TIMESTAMP.fullmatch(value):
        report.problem(f"{where}: {column} {value!r} is not a v6 timestamp (no offset)")
    elif column in TIMESTAMP_COLUMNS.values() and not _TIMEZONE.fullmatch(value):
        report.problem(f"{where}: {column} {value!r} is not a UTC offset")


def _check_main_table(
    archive: _Archive, rows: list[dict[str, str]], columns: list[str], metadata: dict[str, str]
) -> None:
    report = archive.report
    problem = report.problem
    for column in REQUIRED:
        if column not in columns:
            problem(f"{MAIN_TABLE}: the required column {column} is missing")
    for column in columns:
        if column not in KNOWN_COLUMNS and not column.startswith("X-"):
            problem(f"{MAIN_TABLE}: {column} is not a v6 column (custom ones start with X-)")
    scope = metadata.get("EventOrderScope", "None")
    if scope != "None" and "Order" not in columns:
        problem(f"{MAIN_TABLE}: EventOrderScope {scope} needs an Order column")
    event_ids: Counter[str] = Counter()
    orders: Counter[str] = Counter()
    for number, row in enumerate(rows, start=2):
        where = f"{MAIN_TABLE} record {number}"
        kind = row.get("EventType", "")
        report.events[kind] += 1
        event_ids[row.get("EventID", "")] += 1
        for column in REQUIRED:
            if column in row and not row[column]:
                problem(f"{where}: the required {column} is empty")
        if kind not in EVENT_TYPES and not kind.startswith("X-"):
            problem(f"{where}: EventType {kind!r} is not a v6 event type")
        for column in EVENT_TYPES.get(kind, ()):
            if not row.get(column):
                problem(f"{where}: a {kind} event needs {column}")
        for column, value in row.items():
            if value:
                _check_value(column, value, where, report)
        for stamp, zone in TIMESTAMP_COLUMNS.items():
            if row.get(stamp) and not row.get(zone):
                problem(f"{where}: {stamp} without {zone}")
        if scope != "None":
            if not _INTEGER.fullmatch(row.get("Order", "")):
                problem(f"{where}: Order must be an integer on every row")
            orders[row.get("Order", "")] += 1
    for event_id, times in event_ids.items():
        if times > 1:
            problem(f"{MAIN_TABLE}: EventID {event_id} is used {times} times")
    if scope == "Global":
        for order, times in orders.items():
            if times > 1:
                problem(f"{MAIN_TABLE}: Order {order} is used {times} times (Global scope)")
    report.subjects = len({r.get("SubjectID") for r in rows})
    if metadata.get("IsEventOrderingConsistent") == "true" and scope == "Global":
        _check_time_follows_order(rows, report)


def _check_time_follows_order(rows: list[dict[str, str]], report: Report) -> None:
    timed = []
    for row in rows:
        if _INTEGER.fullmatch(row.get("Order", "")) and _TIMESTAMP.fullmatch(
            row.get("ServerTimestamp", "")
        ):
            timed.append((int(row["Order"]), datetime.fromisoformat(row["ServerTimestamp"])))
    timed.sort()
    for (order_a, time_a), (order_b, time_b) in itertools.pairwise(timed):
        if time_b < time_a:
            report.problem(f"{MAIN_TABLE}: Order {order_b} is at {time_b}, before Order"
                           f" {order_a} at {time_a} (ordering said to be consistent)")  # fmt: skip
            return


def _restore(cell: str) -> str:
    """A text cell's value: JCode Watcher writes a formula-like text with one leading `'`."""
    return cell[1:] if cell.startswith("'") else cell


def _code_states(archive: _Archive) -> dict[str, set[str]]:
    """CodeStateID -> the paths of its files."""
    states: dict[str, set[str]] = {}
    for name in archive.names:
        if not name.startswith("CodeStates/"):
            continue
        parts = name.split("/", 2)
        if len(parts) < 3 or not parts[1]:
            archive.report.problem(f"{name}: a file outside any code state's directory")
            continue
        files = states.setdefault(parts[1], set())
        if parts[2] and not name.endswith("/"):
            files.add(parts[2])
    return states


def _check_code_states(
    archive: _Archive, rows: list[dict[str, str]], links: dict[str, dict[str, str]] | None
) -> None:
    report = archive.report
    problem = report.problem
    states = _code_states(archive)
    report.code_states = len(states)
    report.code_state_files = sum(len(files) for files in states.values())
    used = {row.get("CodeStateID", "") for row in rows} - {""}
    for state in sorted(used - set(states)):
        problem(f"CodeStates/{state}/ is missing (used by MainTable)")
    for state in sorted(set(states) - used):
        problem(f"CodeStates/{state}/ is not used by any MainTable row")
    if links is None:
        return
    unknown: dict[str, set[str]] = {}
    for state, link in links.items():
        try:
            listed = json.loads(link.get("X-UnknownContent", ""))
            assert isinstance(listed, list) and all(isinstance(p, str) for p in listed)
        except (ValueError, AssertionError):
            problem(f"LinkTables/CodeState.csv {state}: X-UnknownContent is not a JSON list")
            listed = []
        unknown[state] = set(listed)
        files = states.get(state, set())
        if link.get("X-FileCount") != str(len(files) + len(listed)):
            problem(f"LinkTables/CodeState.csv {state}: X-FileCount {link.get('X-FileCount')}"
                    f" but {len(files)} files and {len(listed)} unknown")  # fmt: skip
        if files & set(listed):
            problem(f"CodeStates/{state}/: a file is both present and listed as unknown")
    for state in sorted(set(states) - set(links)):
        problem(f"LinkTables/CodeState.csv has no row for code state {state}")
    for number, row in enumerate(rows, start=2):
        state, kind = row.get("CodeStateID", ""), row.get("EventType")
        section = _restore(row.get("CodeStateSection", ""))
        if state not in states:
            continue
        present = section in states[state]
        if kind == "File.Edit" and not present and section not in unknown.get(state, set()):
            problem(f"{MAIN_TABLE} record {number}: {section} is neither in code state {state}"
                    " nor listed as unknown")  # fmt: skip
        if kind == "File.Delete" and (present or section in unknown.get(state, set())):
            problem(f"{MAIN_TABLE} record {number}: deleted {section} is still in code state"
                    f" {state}")  # fmt: skip


def _check_link_tables(
    archive: _Archive, rows: list[dict[str, str]], columns: list[str]
) -> dict[str, dict[str, str]] | None:
    """Every link table's rules; returns CodeState.csv's rows by CodeStateID, if there is one."""
    report = archive.report
    problem = report.problem
    code_state_links = None
    for name in archive.names:
        if not name.startswith("LinkTables/") or name.endswith("/"):
            continue
        report.link_tables.append(name)
        if not name.endswith(".csv") or name.count("/") != 1:
            problem(f"{name}: link tables are CSV files directly in LinkTables/")
            continue
        found = archive.table(name)
        if found is None:
            continue
        header, table = found
        ids = []
        for column in header:
            if not column.endswith("ID"):
                break
            ids.append(column)
        if not ids:
            problem(f"{name}: its first column must be an ID column")
            continue
        expected = "-".join(c.removesuffix("ID") for c in ids) + ".csv"
        if name.split("/")[1] != expected:
            problem(f"{name}: a link table of {', '.join(ids)} is named {expected}")
        for column in ids:
            if column not in columns:
                problem(f"{name}: {column} is not a MainTable column")
        used = {tuple(r.get(c, "") for c in ids) for r in rows}
        keys = Counter(tuple(r[c] for c in ids) for r in table)
        for key, times in keys.items():
            if times > 1 or not all(key):
                problem(f"{name}: ID {key} is empty or repeated")
            if key not in used:
                problem(f"{name}: ID {key} is not used by MainTable")
        if ids == ["CodeStateID"]:
            code_state_links = {r["CodeStateID"]: r for r in table}
    if "LinkTables/CodeState.csv" not in archive.names:
        problem("LinkTables/CodeState.csv is missing (JCode Watcher lists code states there)")
    return code_state_links


def validate(data: bytes) -> Report:
    """Every rule of the module's docstring, checked on one archive."""
    report = Report()
    try:
        archive = _Archive(data, report)
    except zipfile.BadZipFile as exc:
        report.problem(f"not a zip archive: {exc}")
        return report
    report.members = len(archive.names)
    _check_structure(archive)
    found = archive.table(MAIN_TABLE) if MAIN_TABLE in archive.names else None
    columns, rows = found or ([], [])
    metadata = _check_metadata(archive, columns) if METADATA in archive.names else {}
    _check_main_table(archive, rows, columns, metadata)
    links = _check_link_tables(archive, rows, columns)
    if metadata.get("CodeStateRepresentation") == "Directory":
        _check_code_states(archive, rows, links)
    return report


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.progsnap2_check ARCHIVE.zip", file=sys.stderr)
        return 2
    report = validate(Path(argv[0]).read_bytes())
    print(report.render())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
