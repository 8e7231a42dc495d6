"""The ProgSnap2 export over real HTTP: rows ingested through the legacy POSTs, the archive
unzipped and checked against the ProgSnap2 rules and against the database itself."""

from __future__ import annotations

import base64
import csv
import io
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from tests.service.helpers import BUILD, FAILED_BUILD, JUPYTER_RUN, RUN, STUDENT, db_rows
from watcher.app import create_app
from watcher.config import Settings

EXPORT = "/api/v2/classes/os-1/export/progsnap2"
# ProgSnap2 v6 event types (the spec's vocabulary; custom types would start with X-).
VOCABULARY = {
    "Session.Start", "Session.End", "Project.Open", "Project.Close", "File.Create",
    "File.Delete", "File.Open", "File.Close", "File.Save", "File.Rename", "File.Copy",
    "File.Edit", "File.Focus", "Compile", "Compile.Error", "Compile.Warning", "Submit",
    "Run.Program", "Run.Test", "Debug.Program", "Debug.Test", "Resource.View", "Intervention",
}  # fmt: skip
REQUIRED = {"EventType", "EventID", "SubjectID", "ToolInstances", "CodeStateID"}
OTHER = 202099999
KEY = "test-export-key"


async def post_log(client: TestClient, kind: str, body: dict, student: str = STUDENT) -> None:
    response = await client.post(f"{student}/logs/{kind}", json=body)
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


async def export(client: TestClient, query: str = "") -> tuple[zipfile.ZipFile, bytes]:
    response = await client.get(EXPORT + query)
    body = await response.read()
    assert response.status == 200, body[:500]
    assert response.headers["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(body)), body


def main_table(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read("MainTable.csv").decode())))


def stored_time(row: dict[str, str]) -> datetime:
    return datetime.fromisoformat(row["ServerTimestamp"])


async def test_archive_is_a_progsnap2_data_set(client, activity):
    response = await client.get(EXPORT + "?assignment=hw1")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="progsnap2-os-1-hw1.zip"'
    )
    archive, _ = await export(client)
    assert archive.testzip() is None
    assert {"MainTable.csv", "DatasetMetadata.csv"} <= set(archive.namelist())
    header = archive.read("MainTable.csv").decode().splitlines()[0].split(",")
    assert set(header) >= REQUIRED
    rows = main_table(archive)
    assert rows and {r["EventType"] for r in rows} <= VOCABULARY
    assert all(r["SubjectID"] and r["ToolInstances"] and r["EventID"] for r in rows)
    metadata = dict(csv.reader(io.StringIO(archive.read("DatasetMetadata.csv").decode())))
    assert metadata["Property"] == "Value"
    assert metadata["Version"] == "6"
    assert metadata["IsEventOrderingConsistent"] == "true"
    assert metadata["EventOrderScope"] == "Global"
    assert metadata["CodeStateRepresentation"] == "Directory"


async def test_row_counts_equal_the_database_per_type(client, activity, db_path):
    rows = main_table((await export(client))[0])
    count = {t: sum(r["EventType"] == t for r in rows) for t in VOCABULARY}
    [(edits,)] = db_rows(db_path, "SELECT count(*) FROM snapshot WHERE file_size > 0")
    [(deletes,)] = db_rows(db_path, "SELECT count(*) FROM snapshot WHERE file_size = 0")
    [(builds,)] = db_rows(db_path, "SELECT count(*) FROM buildlog")
    [(runs,)] = db_rows(db_path, "SELECT count(*) FROM runlog")
    assert (edits, deletes, builds, runs) == (4, 1, 2, 3)
    assert count["File.Edit"] == edits and count["File.Delete"] == deletes
    assert count["Compile"] == builds and count["Run.Program"] == runs
    assert len(rows) == edits + deletes + builds + runs
    assert len({r["EventID"] for r in rows}) == len(rows)


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


async def test_order_follows_time_and_columns_carry_the_mapping(client, activity):
    rows = main_table((await export(client))[0])
    assert [int(r["Order"]) for r in rows] == list(range(1, len(rows) + 1))
    times = [stored_time(r) for r in rows]
    assert times == sorted(times)
    assert all(t.utcoffset().total_seconds() == 9 * 3600 for t in times)
    first = rows[0]
    assert first["ServerTimestamp"] == "2025-03-10T15:00:00+09:00"
    assert first["ServerTimezone"] == "+0900"
    assert (first["CourseID"], first["CourseSectionID"], first["AssignmentID"]) == (
        "os",
        "1",
        "hw1",
    )
    assert (first["EventType"], first["CodeStateSection"], first["X-FileSize"]) == (
        "File.Edit", "main.c", "100")  # fmt: skip
    by_type = {r["EventType"]: r for r in reversed(rows)}  # the first of each type
    assert by_type["File.Delete"]["CodeStateSection"] == "src/util.c"
    assert by_type["Compile"]["ServerTimestamp"] == "2025-03-10T15:03:00.123456+09:00"
    assert by_type["Compile"]["CodeStateSection"] == ""
    tools = {r["ToolInstances"] for r in rows}
    assert any(t.endswith("filemon") for t in tools) and any(t.endswith("procmon") for t in tools)
    assert any(t.endswith("Jupyter hook") for t in tools)
    # Without content nothing names a code state, and there is no CodeStates/ directory.
    assert all(r["CodeStateID"] == "" for r in rows)


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
    return await aiohttp_client(create_app(Settings(db_path=db_path, export_key=KEY)))


async def test_pseudonymised_export_holds_no_student_id(keyed_client):
    client = keyed_client
    student = "202012345"
    source = f"/* {student} Kim */\nint main(void) {{ return 0; }}\n".encode()
    url = f"{STUDENT}/{student}_report.c/20250310_060000"
    body = {"bytes": len(source), "content_b64": base64.b64encode(source).decode()}
    response = await client.post(url, json=body)
    assert response.status == 200, await response.text()
    await post_log(client, "build", BUILD)  # its cwd and paths name the student
    await post_log(client, "run", RUN)
    response = await client.get(EXPORT + "?pseudonymize=true")
    assert response.status == 200
    raw = await response.read()
    archive = zipfile.ZipFile(io.BytesIO(raw))
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


async def test_code_states_hold_the_saved_content(client):
    versions = [b"int main() {}\n", b"int main() { return 1; }\n", b"int main() {}\n"]
    for second, source in enumerate(versions):
        body = {"bytes": len(source), "content_b64": base64.b64encode(source).decode()}
        url = f"{STUDENT}/src@main.c/20250310_0600{second:02d}"
        assert (await client.post(url, json=body)).status == 200
    await post_log(client, "build", BUILD)
    response = await client.post(f"{STUDENT}/legacy.c/20250310_060500", json={"bytes": 7})
    assert response.status == 200  # no content: no code state
    archive, _ = await export(client)
    rows = main_table(archive)
    edits = [r for r in rows if r["CodeStateSection"] == "src/main.c"]
    assert [len(r["CodeStateID"]) for r in edits] == [24, 24, 24]
    assert edits[0]["CodeStateID"] == edits[2]["CodeStateID"] != edits[1]["CodeStateID"]
    for row, source in zip(edits, versions, strict=True):
        assert archive.read(f"CodeStates/{row['CodeStateID']}/src/main.c") == source
    states = {n.split("/")[1] for n in archive.namelist() if n.startswith("CodeStates/")}
    assert states == {r["CodeStateID"] for r in edits}
    assert [r["CodeStateID"] for r in rows if r["CodeStateID"] == ""] and all(
        r["CodeStateID"] == "" for r in rows if r["EventType"] == "Compile" or
        r["CodeStateSection"] == "legacy.c")  # fmt: skip


async def test_route_is_documented(client):
    spec = await (await client.get("/api/docs/swagger.json")).json()
    operation = spec["paths"]["/api/v2/classes/{class_div}/export/progsnap2"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"class_div", "assignment", "from", "to", "pseudonymize"} <= names
    assert "application/zip" in operation["produces"]
    assert "422" in operation["responses"]


def test_export_key_is_a_secret_setting():
    settings = Settings.from_env({"WATCHER_EXPORT_KEY": "s3cret"}, dotenv=None)
    assert settings.export_key == "s3cret"
    assert "s3cret" not in repr(settings)


def test_pseudonyms_and_scrubbing_rules():
    from watcher.export.progsnap2 import course_ids
    from watcher.export.pseudonym import pseudonym, scrub_bytes, scrub_text

    assert pseudonym(b"k", 202012345) == pseudonym(b"k", 202012345) != pseudonym(b"j", 202012345)
    assert scrub_text("202012345_hw1.c", 202012345, "P") == "P_hw1.c"
    assert scrub_text("12020123456.c", 202012345, "P") == "12020123456.c"  # another number
    assert scrub_bytes(b"x = 1;  // 1", 1, "P") == b"x = 1;  // 1"  # too short to scrub
    assert course_ids("os-1") == ("os", "1")
