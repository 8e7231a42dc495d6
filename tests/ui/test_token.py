"""With WATCHER_READ_TOKEN set the pages ask for the token once, send it only as a Bearer header
and never put it in an address."""

from __future__ import annotations

import pytest

from tests.ui.conftest import READY, api, running
from tests.ui.seed import CLASS, HW, STEADY, seed_class

TOKEN = "s3cret-read-token"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp("ui-token")
    env = {"WATCHER_DB_PATH": str(tmp / "w.db"), "WATCHER_READ_TOKEN": TOKEN}
    with running("serve", tmp / "serve.log", **env) as base:
        seed_class(base)
        yield base


def test_the_token_is_asked_once_and_sent_as_a_header(guarded, watched):
    page = watched.page
    page.goto(guarded + f"/ui/classes/{CLASS}/assignments/{HW}")
    dialog = page.locator("dialog.token[open]")
    dialog.wait_for()
    watched.shot("token-prompt")
    page.fill("#token-input", "wrong")
    page.click("dialog.token button[value=ok]")
    page.wait_for_selector("dialog.token[open]:has-text('refused')")
    page.fill("#token-input", TOKEN)
    page.click("dialog.token button[value=ok]")
    page.wait_for_selector(READY)
    students = page.eval_on_selector_all(
        "table.dashboard tbody tr", "rows => rows.map((r) => Number(r.dataset.student))"
    )
    dashboard = api(guarded, f"/api/v2/classes/{CLASS}/assignments/{HW}/dashboard", TOKEN)
    assert students == [s["student_id"] for s in dashboard["students"]]

    # Another page of the same tab: no second prompt.
    page.click(f"a:text-is('{STEADY}')")
    page.wait_for_selector(READY)
    assert page.locator("dialog.token").count() == 0
    assert page.locator("#file-chart canvas").count() == 1

    api_requests = [r for r in watched.requests if "/api/" in r.url]
    assert api_requests and all(TOKEN not in r.url for r in watched.requests)
    answered = [r for r in api_requests if r.response() and r.response().status == 200]
    assert answered
    assert all(r.all_headers().get("authorization") == f"Bearer {TOKEN}" for r in answered)


def test_cancelling_the_prompt_shows_what_is_missing(guarded, watched):
    page = watched.page
    page.goto(guarded + "/ui/")
    page.locator("dialog.token[open]").wait_for()
    page.click("dialog.token button[value=cancel]")
    page.wait_for_selector(READY)
    assert "401" in page.inner_text("[role=alert]")
    watched.shot("token-cancelled")
