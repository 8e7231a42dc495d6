"""The instance's pages in a real browser, held to the API's own answers on a seeded class."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.ui.conftest import (
    READY,
    api,
    api_text,
    no_horizontal_scroll,
    open_page,
    running,
    screenshot,
)
from tests.ui.seed import CLASS, HW, LATE, STEADY, STRUGGLING, seed_class

DASHBOARD = f"/api/v2/classes/{CLASS}/assignments/{HW}/dashboard"
PAGE = f"/ui/classes/{CLASS}/assignments/{HW}"

READ_TABLE = """() => {
  const heads = document.querySelectorAll('table.dashboard thead th');
  const keys = [...heads].map((th) => th.dataset.key);
  return [...document.querySelectorAll('table.dashboard tbody tr[data-student]')].map((tr) => {
    const row = {};
    [...tr.children].forEach((cell, i) => {
      const time = cell.querySelector('time');
      const badges = [...cell.querySelectorAll('.badge')];
      if (keys[i] === 'flags') row.flags = badges.map((b) => b.dataset.flag);
      else row[keys[i]] = time ? time.getAttribute('datetime') : cell.textContent.trim();
    });
    return row;
  });
}"""


@pytest.fixture(scope="module")
def instance(tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp("ui-instance")
    with running("serve", tmp / "serve.log", WATCHER_DB_PATH=str(tmp / "w.db")) as base:
        seed_class(base)
        yield base


def same(shown: str, value) -> bool:
    """A cell as shown against the API's value: numbers compared as numbers (JSON 12.0 is
    shown as 12), a missing value as an empty cell."""
    if value is None:
        return shown == ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(shown) == float(value)
    return shown == value


def assert_rows_match(rows: list[dict], expected: list[dict]) -> None:
    assert [int(r["student_id"]) for r in rows] == [e["student_id"] for e in expected]
    for row, want in zip(rows, expected, strict=True):
        assert row["flags"] == want["flags"], row["student_id"]
        for key, shown in row.items():
            if key != "flags":
                assert same(shown, want[key]), (row["student_id"], key, shown, want[key])


def table(page) -> list[dict]:
    return page.evaluate(READ_TABLE)


def test_table_shows_every_student_with_the_api_flags(instance, watched):
    open_page(watched, instance + PAGE)
    expected = api(instance, DASHBOARD)["students"]
    assert len(expected) == 7 and any(e["flags"] for e in expected)
    assert_rows_match(table(watched.page), expected)
    # Every flag of the API is there as a badge whose tooltip states its rule.
    badge = watched.page.locator("table.dashboard .badge[data-flag=repeated_build_failures]")
    badge.focus()
    assert "5 failed builds in a row" in badge.locator(".tip").inner_text()
    assert badge.locator(".tip").is_visible()
    assert no_horizontal_scroll(watched.page)
    watched.shot("assignment-1280x800")


def test_sorting_and_flagged_only_change_the_rows(instance, watched):
    page = watched.page
    open_page(watched, instance + PAGE)
    before = [r["student_id"] for r in table(page)]
    page.click("th[data-key=churn_bytes] button")
    by_churn = api(instance, DASHBOARD + "?sort=churn_bytes&order=desc")["students"]
    assert_rows_match(table(page), by_churn)
    assert [r["student_id"] for r in table(page)] != before
    page.click("th[data-key=churn_bytes] button")
    assert_rows_match(
        table(page), api(instance, DASHBOARD + "?sort=churn_bytes&order=asc")["students"]
    )
    assert page.get_attribute("th[data-key=churn_bytes]", "aria-sort") == "ascending"

    page.check("#flagged-only")
    flagged = [e for e in api(instance, DASHBOARD + "?sort=churn_bytes")["students"] if e["flags"]]
    assert 0 < len(flagged) < len(by_churn)
    assert_rows_match(table(page), flagged)
    assert f"Showing {len(flagged)} of {len(by_churn)} students" in page.inner_text(".summary")
    # The view is in the address: opening it again shows the same rows.
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"sort": ["churn_bytes"], "flagged": ["1"]}
    open_page(watched, page.url)
    assert_rows_match(table(page), flagged)
    watched.shot("assignment-flagged-sorted")


def test_window_control_changes_the_address_and_the_numbers(instance, watched):
    page = watched.page
    open_page(watched, instance + PAGE)
    whole = {r["student_id"]: r for r in table(page)}
    page.fill("#control-from", "2025-03-10T09:00:00")
    page.fill("#control-to", "2025-03-10T10:30:00")
    page.click("#view-controls button[type=submit]")
    page.wait_for_selector(READY)
    query = parse_qs(urlsplit(page.url).query)
    assert query == {
        "from": ["2025-03-10T09:00"],
        "to": ["2025-03-10T10:30"],
    }  # as the input holds it
    window = "?from=2025-03-10T09:00&to=2025-03-10T10:30"
    expected = api(instance, DASHBOARD + window)["students"]
    assert_rows_match(table(page), expected)
    late = next(r for r in table(page) if int(r["student_id"]) == LATE)
    assert late["flags"] == ["no_activity"] and whole[str(LATE)]["flags"] != ["no_activity"]

    # The charts follow the window: the size band spans it, the churn bars are the legacy
    # total_graph_data of the same window.
    charts = page.evaluate("""() => ({
      x: document.querySelector('#size-chart').chart.data[0],
      churn: document.querySelector('#churn-chart').chart.data[1],
    })""")
    assert charts["x"][0] == 1741564800 and charts["x"][-1] == 1741570200  # 09:00, 10:30 KST
    churn = api(
        instance, f"/api/total_graph_data/{CLASS}/{HW}/2025-03-10T09:00:00/2025-03-10T10:30:00"
    )
    assert charts["churn"] == sorted((r["size_change"] for r in churn["results"]), reverse=True)
    sizes = api(instance, f"/api/v2/classes/{CLASS}/assignments/{HW}/code-size{window}&points=40")
    medians = page.evaluate("() => document.querySelector('#size-chart').chart.data[2]")
    assert medians == [p["median"] for p in sizes["points"]]
    watched.shot("assignment-window")

    page.go_back()
    page.wait_for_selector(READY)
    assert {r["student_id"]: r for r in table(page)} == whole


def test_a_bad_window_shows_the_api_422(instance, watched):
    page = watched.page
    open_page(watched, instance + PAGE + "?from=2025-03-11T00:00:00&to=2025-03-10T00:00:00")
    alert = page.locator(".students [role=alert]")
    assert "422" in alert.inner_text() and "`from` must not be after `to`" in alert.inner_text()
    assert page.locator("#view-controls").is_visible()  # the reader can fix it right there
    watched.shot("assignment-422")


def test_csv_download_is_the_table_as_shown(instance, watched):
    page = watched.page
    open_page(watched, instance + PAGE + "?sort=net_bytes&order=desc&flagged=1")
    with page.expect_download() as download:
        page.click("#download-csv")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    shown = table(page)
    assert len(rows) == len(shown) > 0
    for line, row in zip(rows, shown, strict=True):
        assert line["flags"].split(";") == row["flags"]
        for key, value in row.items():
            if key != "flags":
                assert same(value, None if line[key] == "" else _number(line[key])), key
    # Column for column, what the API's own CSV says about the same students.
    api_csv = list(csv.DictReader(io.StringIO(api_text(instance, DASHBOARD + "?format=csv"))))
    by_id = {r["student_id"]: r for r in api_csv}
    for line in rows:
        assert {k: float(v) if _is_number(v) else v for k, v in line.items()} == {
            k: float(v) if _is_number(v) else v for k, v in by_id[line["student_id"]].items()
        }


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number(text: str):
    return float(text) if _is_number(text) else text


def test_student_chart_has_one_series_per_file_with_a_point_per_save(instance, watched):
    page = watched.page
    open_page(watched, instance + f"{PAGE}/students/{STEADY}")
    chart = page.evaluate("""() => {
      const u = document.querySelector('#file-chart').chart;
      return { labels: u.series.slice(1).map((s) => s.label),
               points: u.data.slice(1).map((ys) => ys.filter((y) => y !== null).length) };
    }""")
    files = api(instance, f"/api/{CLASS}/{HW}/{STEADY}")
    assert chart["labels"] == files and len(files) == 2
    for name, points in zip(files, chart["points"], strict=True):
        versions = api(
            instance,
            f"/api/v2/classes/{CLASS}/assignments/{HW}/students/{STEADY}/files/{name}/versions",
        )
        assert points == len(versions["versions"])
    watched.shot("student-1280x800")


def _added_lines(hunks: list[dict]) -> list[int]:
    """New-file line numbers of the `+` lines of the API's hunks."""
    added = []
    for hunk in hunks:
        line = hunk["new_start"] if hunk["new_lines"] else hunk["new_start"] + 1
        for text in hunk["lines"]:
            if text.startswith("+"):
                added.append(line)
            if text[:1] in (" ", "+"):
                line += 1
    return added


def test_replay_slider_shows_a_version_with_its_added_lines(instance, watched):
    page = watched.page
    files = f"/api/v2/classes/{CLASS}/assignments/{HW}/students/{STEADY}/files/main.c"
    open_page(watched, instance + f"{PAGE}/students/{STEADY}?file=main.c")
    versions = api(instance, files + "/versions")["versions"]
    assert page.input_value("#replay-slider") == str(len(versions))  # opens at the latest
    page.focus("#replay-slider")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowRight")
    n = len(versions) - 1  # the seeded version that rewrites a line and adds two
    page.wait_for_selector(f".replay-view[data-version='{n}']")
    version = versions[n - 1]
    text = api_text(instance, f"{files}/versions/{version['stamp']}/content")
    lines = page.locator(".replay-view .line:not(.removed) .text").all_inner_texts()
    assert lines == text.split("\n")[:-1]  # the version's exact text, line by line
    diff = api(instance, f"{files}/diff?from={versions[n - 2]['stamp']}&to={version['stamp']}")
    added = [int(x) for x in page.locator(".replay-view .line.added .ln").all_inner_texts()]
    assert added == _added_lines(diff["hunks"]) and len(added) == diff["added"] > 0
    assert page.locator(".replay-view .line.removed").count() == diff["removed"] > 0
    assert f"Version {n} of {len(versions)}" in page.inner_text(".version-info")
    assert parse_qs(urlsplit(page.url).query)["version"] == [str(n)]
    page.locator(".replay-view .line.added").first.scroll_into_view_if_needed()
    watched.shot("student-replay")


def test_timeline_highlights_failure_streaks_and_event_flags(instance, watched):
    page = watched.page
    open_page(watched, instance + f"{PAGE}/students/{STRUGGLING}")
    events = api(
        instance, f"/api/v2/classes/{CLASS}/assignments/{HW}/students/{STRUGGLING}/timeline"
    )["events"]
    builds = [e for e in events if e["kind"] == "build"]
    failed_run = []  # ids of failed builds in a run of at least two
    current: list = []
    for build in [*builds, {"failed": False}]:
        if build["failed"]:
            current.append(build["id"])
        else:
            failed_run += current if len(current) >= 2 else []
            current = []
    shown = page.eval_on_selector_all("tr.streak", "rows => rows.map((r) => Number(r.dataset.id))")
    assert shown == failed_run and len(shown) == 6
    flagged = [e["id"] for e in events if "repeated_build_failures" in e["flags"]]
    rows = page.eval_on_selector_all(
        "tr:has(.badge[data-flag=repeated_build_failures])",
        "rows => rows.map((r) => Number(r.dataset.id))",
    )
    assert rows == flagged and len(flagged) == 1
    assert page.locator("table.timeline-table tbody tr").count() == len(events)
    watched.shot("student-timeline", full_page=True)


def test_pages_are_readable_on_a_tablet(instance, browser):
    context = browser.new_context(
        viewport={"width": 820, "height": 1180}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        for name, path in (("assignment", PAGE), ("student", f"{PAGE}/students/{STEADY}")):
            page.goto(instance + path)
            page.wait_for_selector(READY)
            assert no_horizontal_scroll(page), name
            screenshot(page, f"{name}-tablet", full_page=True)
    finally:
        context.close()


def test_classes_page_lists_the_assignments(instance, watched):
    page = watched.page
    open_page(watched, instance + "/ui/")
    assignments = api(instance, f"/api/v2/classes/{CLASS}/assignments")["assignments"]
    rows = page.eval_on_selector_all(
        f"section[data-class='{CLASS}'] tbody tr",
        "rows => rows.map((r) => [...r.children].map((c) => c.textContent))",
    )
    assert [r[0] for r in rows] == [a["hw_name"] for a in assignments] == ["hw1", "hw2"]
    assert [int(r[1]) for r in rows] == [a["students"] for a in assignments]
    page.click(f"section[data-class='{CLASS}'] a:text-is('{HW}')")
    page.wait_for_selector(READY)
    assert urlsplit(page.url).path == PAGE
    watched.shot("classes")


@pytest.fixture(scope="module")
def empty_instance(tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp("ui-empty")
    with running("serve", tmp / "serve.log", WATCHER_DB_PATH=str(tmp / "w.db")) as base:
        yield base


def test_empty_states_say_there_is_nothing_yet(empty_instance, watched):
    page = watched.page
    open_page(watched, empty_instance + "/ui/")
    assert "No class has any data yet" in page.inner_text("main")
    watched.shot("empty-classes")
    open_page(watched, empty_instance + PAGE)
    assert "No students yet" in page.inner_text(".students")
    assert "No saves yet" in page.inner_text("#size-chart")
    watched.shot("empty-assignment")
    open_page(watched, empty_instance + f"{PAGE}/students/{STEADY}")
    assert "No saves, builds or runs yet" in page.inner_text("main")
