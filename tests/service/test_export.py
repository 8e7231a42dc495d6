"""The ProgSnap2 export over real HTTP: rows ingested through the legacy POSTs, the archive
unzipped, run through our ProgSnap2 v6 validator (tests/progsnap2_check.py) and checked against
the database itself."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from tests.progsnap2_check import parse_csv, validate
from tests.service.helpers import BUILD, FAILED_BUILD, JUPYTER_RUN, RUN, STUDENT, db_rows
from watcher.app import create_app
from watcher.config import Settings

EXPORT = "/api/v2/classes/os-1/export/progsnap2"
OTHER = 202099999
KEY = "test-export-key"
CONTACT = {"export_contact_name": "Kim TA", "export_contact_email": "ta@example.edu"}


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return Settings(db_path=db_path, **CONTACT)


async def post_log(client: TestClient, kind: str, body: dict, student: str = STUDENT) -> None:
    response = await client.post(f"{student}/logs/{kind}", json=body)
    assert response.status == 200, await response.text()


async def post_content(client: TestClient, url: str, data: bytes) -> None:
    body = {"bytes": len(data), "content_b64": base64.b64encode(data).decode()}
    response = await client.post(url, json=body)
    assert response.status == 200, await response.text()


@pytest.fixture
async def activity(client: TestClient, post_snapshot) -> None:
    await ingest_activity(client, post_snapshot)


async def ingest_activity(client: TestClient, post_snapshot) -> None:
    """Two students, two assignments: saves (one a deletion), builds (one failed), runs (one a
    Jupyter cell). Collector times are UTC; stored KST is 9 h later."""
    await post_snapshot("main.c", "20250310_060000", 100)
    await post_snapshot("src@util.c", "20250310_060130", 40)
    await post_log(client, "build", BUILD)  # 06:03:00.123456 UTC
    await post_log(client, "build", FAILED_BUILD)  # 06:04:00
    await post_log(client, "run", RUN)  # 06:05:00
    await post_snapshot("src@util.c", "20250310_060600", 0)  # deleted
    await post_snapshot("a.c", "20250310_070000", 10, student=OTHER)
    await post_snapshot("a.c", "20250311_010000", 30, student=OTHER, hw="hw2")
    await post_log(client, "run", {**RUN, "exit_code": 139, "timestamp": "2025-03-11T01:00:00"},
                   student=f"/api/os-1/hw2/{OTHER}")  # fmt: skip
    await post_log(client, "run", JUPYTER_RUN)


def checked(body: bytes) -> zipfile.ZipFile:
    """The archive, after our ProgSnap2 v6 validator found nothing wrong with it."""
    report = validate(body)
    assert report.ok, report.render()
    return zipfile.ZipFile(io.BytesIO(body))


async def export(client: TestClient, query: str = "") -> tuple[zipfile.ZipFile, bytes]:
    response = await client.get(EXPORT + query)
    body = await response.read()
    assert response.status == 200, body[:500]
    assert response.headers["Content-Type"] == "application/zip"
    return checked(body), body


def table(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    records, problems = parse_csv(archive.read(name).decode())
    assert problems == []
    return [dict(zip(records[0], r, strict=True)) for r in records[1:]]


def main_table(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    return table(archive, "MainTable.csv")


def code_state(archive: zipfile.ZipFile, state: str) -> dict[str, bytes]:
    """The files of one code state: path -> content."""
    prefix = f"CodeStates/{state}/"
    return {
        name[len(prefix) :]: archive.read(name)
        for name in archive.namelist()
        if name.startswith(prefix) and not name.endswith("/")
    }


def unknown_content(archive: zipfile.ZipFile) -> dict[str, list[str]]:
    return {
        r["CodeStateID"]: json.loads(r["X-UnknownContent"])
        for r in table(archive, "LinkTables/CodeState.csv")
    }


async def test_archive_is_a_valid_progsnap2_v6_data_set(client, activity):
    response = await client.get(EXPORT + "?assignment=hw1")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="progsnap2-os-1-hw1.zip"'
    )
    archive, _ = await export(client)
    names = archive.namelist()
    assert names[:2] == ["README.txt", "DatasetMetadata.csv"]
    assert {"MainTable.csv", "LinkTables/CodeState.csv"} <= set(names)
    readme = archive.read("README.txt").decode()
    assert "Contact: Kim TA <ta@example.edu>" in readme
    assert readme.splitlines()[0].startswith("Programming activity of the students")
    for name in ("MainTable.csv", "DatasetMetadata.csv", "LinkTables/CodeState.csv"):
        data = archive.read(name)
        assert data.endswith(b"\r\n") and data.count(b"\n") == data.count(b"\r\n"), name
    metadata = {r["Property"]: r["Value"] for r in table(archive, "DatasetMetadata.csv")}
    assert metadata == {
        "Version": "6",
        "IsEventOrderingConsistent": "true",
        "EventOrderScope": "Global",
        "EventOrderScopeColumns": "",
        "CodeStateRepresentation": "Directory",
    }


async def test_row_counts_equal_the_database_per_type(client, activity, db_path):
    rows = main_table((await export(client))[0])
    count = {t: sum(r["EventType"] == t for r in rows) for t in {r["EventType"] for r in rows}}
    [(edits,)] = db_rows(db_path, "SELECT count(*) FROM snapshot WHERE file_size > 0")
    [(deletes,)] = db_rows(db_path, "SELECT count(*) FROM snapshot WHERE file_size = 0")
    [(builds,)] = db_rows(db_path, "SELECT count(*) FROM buildlog")
    [(runs,)] = db_rows(db_path, "SELECT count(*) FROM runlog")
    assert (edits, deletes, builds, runs) == (4, 1, 2, 3)
    assert count == {"File.Edit": edits, "File.Delete": deletes, "Compile": builds,
                     "Run.Program": runs}  # fmt: skip


async def test_results_follow_exit_codes(client, activity, db_path):
    rows = main_table((await export(client))[0])
    builds = dict(db_rows(db_path, "SELECT id, exit_code FROM buildlog"))
    runs = dict(db_rows(db_path, "SELECT id, exit_code FROM runlog"))
    for row in rows:
        kind, _, number = row["EventID"].partition("-")
        if kind == "build":
            expected = "Success" if builds[int(number)] == 0 else "Error"
            assert (row["CompileResult"], row["ExecutionResult"]) == (expected, "")
            assert row["X-ExitCode"] == str(builds[int(number)])
        elif kind == "run":
            expected = "Success" if runs[int(number)] == 0 else "Error"
            assert (row["ExecutionResult"], row["CompileResult"]) == (expected, "")
            assert row["X-ExitCode"] == str(runs[int(number)])
        else:
            assert row["CompileResult"] == row["ExecutionResult"] == ""
    assert sorted(r["CompileResult"] for r in rows if r["EventType"] == "Compile") == [
        "Error", "Success"]  # fmt: skip
    assert "Error" in {r["ExecutionResult"] for r in rows}  # the segfault's 139


async def test_columns_carry_the_v6_mapping(client, activity):
    rows = main_table((await export(client))[0])
    assert [int(r["Order"]) for r in rows] == list(range(1, len(rows) + 1))
    first = rows[0]
    # v6 timestamps have no offset: it is in ServerTimezone.
    assert (first["ServerTimestamp"], first["ServerTimezone"]) == ("2025-03-10T15:00:00", "+0900")
    assert (first["CourseID"], first["CourseSectionID"], first["AssignmentID"]) == (
        "os", "1", "hw1")  # fmt: skip
    assert (first["EventType"], first["CodeStateSection"], first["EditType"],
            first["X-FileSize"]) == ("File.Edit", "main.c", "GenericEdit", "100")  # fmt: skip
    by_type = {r["EventType"]: r for r in reversed(rows)}  # the first of each type
    assert by_type["File.Delete"]["CodeStateSection"] == "src/util.c"
    assert by_type["File.Delete"]["EditType"] == ""
    compile_row = by_type["Compile"]
    assert compile_row["ServerTimestamp"] == "2025-03-10T15:03:00.123456"
    # procmon's target_path /workspace/os-1-202012345/hw1/main.c, below the assignment.
    assert compile_row["CodeStateSection"] == "main.c"
    failed = [r for r in rows if r["EventType"] == "Compile"][1]
    assert failed["CodeStateSection"] == "t"  # FAILED_BUILD's target /t lies outside hw1
    tools = {r["ToolInstances"] for r in rows}
    assert any(t.endswith("filemon") for t in tools) and any(t.endswith("procmon") for t in tools)
    assert any(t.endswith("Jupyter hook") for t in tools)
    assert all(r["CodeStateID"] for r in rows)


async def test_every_row_names_the_code_in_force(client):
    """Without content the code states still follow the code: a save changes it, a compile or
    run reuses it, a deletion removes the file, and the unknown content is listed."""
    await post_content(client, f"{STUDENT}/main.c/20250310_060000", b"int main() {}\n")
    await post_log(client, "build", {**BUILD, "timestamp": "2025-03-10T06:00:30"})
    response = await client.post(f"{STUDENT}/util.c/20250310_060100", json={"bytes": 9})
    assert response.status == 200  # no content: unknown
    await post_log(client, "run", {**RUN, "timestamp": "2025-03-10T06:01:30"})
    await client.post(f"{STUDENT}/util.c/20250310_060200", json={"bytes": 0})  # deleted
    await post_log(client, "run", {**RUN, "timestamp": "2025-03-10T06:02:30"})
    archive, _ = await export(client)
    rows = main_table(archive)
    assert [r["EventType"] for r in rows] == [
        "File.Edit", "Compile", "File.Edit", "Run.Program", "File.Delete", "Run.Program",
    ]  # fmt: skip
    states = [r["CodeStateID"] for r in rows]
    assert states[0] == states[1] != states[2] == states[3] != states[4] == states[5]
    assert states[4] == states[0]  # util.c deleted: the code is main.c alone again
    assert code_state(archive, states[0]) == {"main.c": b"int main() {}\n"}
    assert code_state(archive, states[2]) == {"main.c": b"int main() {}\n"}
    unknown = unknown_content(archive)
    assert unknown[states[2]] == ["util.c"] and unknown[states[0]] == []


async def test_a_student_without_saves_has_the_empty_code_state(client):
    await post_log(client, "build", BUILD)
    archive, _ = await export(client)
    [row] = main_table(archive)
    assert code_state(archive, row["CodeStateID"]) == {}
    assert f"CodeStates/{row['CodeStateID']}/" in archive.namelist()


async def test_assignment_and_window_filters(client, activity):
    hw2 = main_table((await export(client, "?assignment=hw2"))[0])
    assert {r["AssignmentID"] for r in hw2} == {"hw2"} and len(hw2) == 2
    # 15:03:00.123456 KST is the first build; from is inclusive, to exclusive.
    window = main_table(
        (await export(client, "?from=2025-03-10T15:03:00.123456&to=2025-03-10T15:05:00"))[0]
    )
    assert [r["EventType"] for r in window] == ["Compile", "Compile"]
    # The same instants written in UTC with an offset select the same rows.
    utc = "?from=2025-03-10T06:03:00.123456Z&to=2025-03-10T06:05:00%2B00:00"
    assert main_table((await export(client, utc))[0]) == window
    # A save stamped 15:00:00 is before a window that starts at 15:00:00.5.
    late = main_table(
        (await export(client, "?from=2025-03-10T15:00:00.5&to=2025-03-10T15:01:30"))[0]
    )
    assert late == []
    [second] = main_table(
        (await export(client, "?from=2025-03-10T15:01:30&to=2025-03-10T15:01:31"))[0]
    )
    assert second["CodeStateSection"] == "src/util.c"
    assert main_table((await export(client, "?assignment=hw9"))[0]) == []


async def test_a_window_starts_from_the_code_as_it_stood(client):
    """The code state of a window's first event holds the files saved before the window."""
    await post_content(client, f"{STUDENT}/a.c/20250310_060000", b"a1\n")
    await post_content(client, f"{STUDENT}/a.c/20250310_060100", b"a2\n")
    await post_content(client, f"{STUDENT}/b.c/20250310_060200", b"b1\n")
    await post_content(client, f"{STUDENT}/gone.c/20250310_060250", b"x\n")
    await client.post(f"{STUDENT}/gone.c/20250310_060255", json={"bytes": 0})
    await post_content(client, f"{STUDENT}/b.c/20250310_060300", b"b2\n")
    await post_log(client, "build", {**BUILD, "timestamp": "2025-03-10T06:03:30"})
    archive, _ = await export(client, "?from=2025-03-10T15:03:00")
    rows = main_table(archive)
    assert [r["EventType"] for r in rows] == ["File.Edit", "Compile"]
    assert code_state(archive, rows[0]["CodeStateID"]) == {"a.c": b"a2\n", "b.c": b"b2\n"}
    assert rows[1]["CodeStateID"] == rows[0]["CodeStateID"]
    whole = main_table((await export(client))[0])
    assert whole[-2]["CodeStateID"] == rows[0]["CodeStateID"]  # the same code, the same id


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("?from=yesterday", ["query", "from"]),
        ("?to=2025-13-01T00:00:00", ["query", "to"]),
        ("?from=2025-03-11&to=2025-03-10", ["query", "to"]),
        ("?assignment=../hw1", ["query", "assignment"]),
        ("?pseudonymize=maybe", ["query", "pseudonymize"]),
        ("?pseudonymize=true", ["query", "pseudonymize"]),  # no WATCHER_EXPORT_KEY here
    ],
)
async def test_bad_parameters_get_a_422_naming_them(client, query, loc):
    response = await client.get(EXPORT + query)
    assert response.status == 422
    assert response.headers["Content-Type"] == "application/json"
    [entry] = (await response.json())["detail"]
    assert entry["loc"] == loc


async def test_bad_class_gets_a_422(client):
    response = await client.get("/api/v2/classes/os_1/export/progsnap2")
    assert response.status == 422
    assert (await response.json())["detail"][0]["loc"] == ["path", "class_div"]


@pytest.fixture
async def keyed_client(aiohttp_client, db_path: Path) -> TestClient:
    return await aiohttp_client(create_app(Settings(db_path=db_path, export_key=KEY, **CONTACT)))


async def test_pseudonymised_export_holds_no_student_id(keyed_client):
    client = keyed_client
    student = "202012345"
    source = f"/* {student} Kim */\nint main(void) {{ return 0; }}\n".encode()
    await post_content(client, f"{STUDENT}/{student}_report.c/20250310_060000", source)
    await post_log(client, "build", BUILD)  # its cwd and paths name the student
    await post_log(client, "run", RUN)
    response = await client.get(EXPORT + "?pseudonymize=true")
    assert response.status == 200
    raw = await response.read()
    archive = checked(raw)
    everything = raw + b"".join(archive.read(name) for name in archive.namelist())
    everything += "".join(archive.namelist()).encode()
    assert student.encode() not in everything
    rows = main_table(archive)
    subjects = {r["SubjectID"] for r in rows}
    assert len(subjects) == 1 and len(next(iter(subjects))) == 16
    pseudonym = next(iter(subjects))
    assert rows[0]["CodeStateSection"] == f"{pseudonym}_report.c"
    # The same key gives the same pseudonym in the next export.
    again = main_table((await export(client, "?pseudonymize=yes"))[0])
    assert {r["SubjectID"] for r in again} == subjects
    plain = main_table((await export(client))[0])
    assert {r["SubjectID"] for r in plain} == {student}


# Issue 19, item 6: the id written with leading zeros or in other digits stayed in the export.
ID_FORMS = [
    "0202012345",  # a leading zero (how the path's id `0202012345` reaches the database)
    "00202012345",
    "\uff12\uff10\uff12\uff10\uff11\uff12\uff13\uff14\uff15",  # full-width digits
    "\u0662\u0660\u0662\u0660\u0661\u0662\u0663\u0664\u0665",  # Arabic-Indic digits
    "２02012345",  # mixed
]


async def test_pseudonymisation_finds_every_digit_form_of_the_id(keyed_client):
    client = keyed_client
    forms = " ".join(ID_FORMS)
    source = f"// by {forms}\nint id = 202012345;\nlong other = 12020123456;\n".encode()
    await post_content(client, f"{STUDENT}/0202012345_{ID_FORMS[2]}.c/20250310_060000", source)
    await post_log(client, "build", {**BUILD, "target_path":
                   f"/workspace/os-1-0202012345/hw1/sub_{ID_FORMS[3]}/0202012345.c"})  # fmt: skip
    archive, _ = await export(client, "?pseudonymize=true")
    texts = [archive.read(n).decode() for n in archive.namelist() if not n.endswith("/")]
    texts = [t.replace("12020123456", "another number") for t in texts + archive.namelist()]
    for form in [*ID_FORMS, "202012345"]:
        assert not any(form in text for text in texts), form
    rows = main_table(archive)
    pseudonym = rows[0]["SubjectID"]
    assert rows[0]["CodeStateSection"] == f"{pseudonym}_{pseudonym}.c"
    assert rows[1]["CodeStateSection"] == f"sub_{pseudonym}/{pseudonym}.c"
    [content] = code_state(archive, rows[0]["CodeStateID"]).values()
    assert b"12020123456" in content  # another number is left alone
    assert content.decode().count(pseudonym) == len(ID_FORMS) + 1


async def test_code_states_hold_the_saved_content(client):
    versions = [b"int main() {}\n", b"int main() { return 1; }\n", b"int main() {}\n"]
    for second, source in enumerate(versions):
        await post_content(client, f"{STUDENT}/src@main.c/20250310_0600{second:02d}", source)
    await post_content(client, f"{STUDENT}/lib.h/20250310_060010", b"#pragma once\n")
    await post_log(client, "build", BUILD)
    archive, _ = await export(client)
    rows = main_table(archive)
    edits = [r for r in rows if r["CodeStateSection"] == "src/main.c"]
    assert [len(r["CodeStateID"]) for r in edits] == [24, 24, 24]
    assert edits[0]["CodeStateID"] == edits[2]["CodeStateID"] != edits[1]["CodeStateID"]
    for row, source in zip(edits, versions, strict=True):
        assert code_state(archive, row["CodeStateID"]) == {"src/main.c": source}
    build = rows[-1]
    assert code_state(archive, build["CodeStateID"]) == {"src/main.c": versions[2],
                                                         "lib.h": b"#pragma once\n"}  # fmt: skip


async def test_route_is_documented(client):
    spec = await (await client.get("/api/docs/swagger.json")).json()
    operation = spec["paths"]["/api/v2/classes/{class_div}/export/progsnap2"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"class_div", "assignment", "from", "to", "pseudonymize"} <= names
    assert "application/zip" in operation["produces"]
    assert {"422", "503"} <= set(operation["responses"])


def test_export_settings():
    settings = Settings.from_env(
        {"WATCHER_EXPORT_KEY": "s3cret", "WATCHER_EXPORT_CONTACT_EMAIL": "ta@example.edu",
         "WATCHER_EXPORT_MAX_CONCURRENT": "3"}, dotenv=None)  # fmt: skip
    assert settings.export_key == "s3cret"
    assert "s3cret" not in repr(settings)
    assert (settings.export_contact_email, settings.export_max_concurrent) == (
        "ta@example.edu", 3)  # fmt: skip
    from watcher.settings import SettingsError

    for bad in ({"WATCHER_EXPORT_CONTACT_EMAIL": "nobody"}, {"WATCHER_EXPORT_MAX_CONCURRENT": "0"}):
        with pytest.raises(SettingsError, match=next(iter(bad))):
            Settings.from_env(bad, dotenv=None)


def test_pseudonyms_and_scrubbing_rules():
    from watcher.export.progsnap2 import compiled_path, course_ids
    from watcher.export.pseudonym import pseudonym, scrub_bytes, scrub_text

    assert pseudonym(b"k", 202012345) == pseudonym(b"k", 202012345) != pseudonym(b"j", 202012345)
    assert scrub_text("202012345_hw1.c", 202012345, "P") == "P_hw1.c"
    assert scrub_text("0202012345_hw1.c", 202012345, "P") == "P_hw1.c"
    assert scrub_text("12020123456.c", 202012345, "P") == "12020123456.c"  # another number
    assert scrub_text("1" * 5000, 202012345, "P") == "1" * 5000  # no int() of a huge number
    assert scrub_bytes(b"x = 1;  // 1", 1, "P") == b"x = 1;  // 1"  # too short to scrub
    assert scrub_bytes(b"\xff 0202012345 \xfe", 202012345, "P") == b"\xff P \xfe"  # not UTF-8
    assert course_ids("os-1") == ("os", "1")
    assert compiled_path("/workspace/os-1-7/hw1/./src/../main.c", "hw1") == "main.c"
    assert compiled_path("/home/coder/project/hw1/a/b.c", "hw1") == "a/b.c"
    assert compiled_path("/tmp/x.c", "hw1") == "x.c"
    assert compiled_path("", "hw1") == "X-Unknown"


# Issue 19, item 6: file names a spreadsheet would run as formulas went into MainTable.csv as is.
FORMULA_NAMES = [
    '=HYPERLINK("https:evil.example","x").c',
    "+SUM(1,2).c",
    "-2+3.c",
    "\uff1d1+1.c",  # a full-width =
    "'quoted.c",  # starts with the escape itself: escaped too, so the rule stays reversible
]


async def test_formula_like_names_are_written_as_text(client, db_path):
    for name in FORMULA_NAMES:
        response = await client.post(f"{STUDENT}/{name}/20250310_060000", json={"bytes": 3})
        assert response.status == 200, await response.text()
    # `@` joins path parts in a stored name, so a compiled file is where a cell can start with it.
    await post_log(client, "build", {**BUILD, "target_path": "/workspace/x/hw1/@SUM(A1).c"})
    import sqlite3

    from watcher.store.writer import INSERTS

    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute(INSERTS["runlog"], ("os-1", "hw1", 202012345, "./a", -1, "/w", "/w/a",
                                         "binary", "2025-03-10 15:01:00.000000"))  # fmt: skip
    conn.close()
    archive, _ = await export(client)  # the validator refuses any cell that would run
    rows = main_table(archive)
    sections = [r["CodeStateSection"] for r in rows if r["EventType"] == "File.Edit"]
    paths = {p for listed in unknown_content(archive).values() for p in listed}
    for name in FORMULA_NAMES:
        path = name.replace('"', "%22").replace(":", "%3A")  # as every path is written
        assert "'" + path in sections  # one leading ', dropped to read the path back
        assert path in paths  # in the code state the file keeps its name
    [build] = [r["CodeStateSection"] for r in rows if r["EventType"] == "Compile"]
    assert build == "'@SUM(A1).c"
    run = next(r for r in rows if r["EventType"] == "Run.Program")
    assert run["X-ExitCode"] == "-1"  # a number stays a number
    assert b"\r\n" in archive.read("MainTable.csv")


def test_csv_cells_rules():
    from watcher.export.csvcells import cell, restore

    assert [cell(v) for v in (-1, 2.5, None, "a.c", "=1+1", "-x", "'a", "\t1")] == [
        -1, 2.5, "", "a.c", "'=1+1", "'-x", "''a", "'\t1"]  # fmt: skip
    assert all(restore(cell(t)) == t for t in ("=1", "@a", "'b", "plain", "+3"))
