"""The pages through the gateway: one address lists every class of its routing table, opens
each, and says so when a class's instance is down."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from tests.ui.conftest import READY, api, free_port, open_page, running
from tests.ui.seed import HW, seed_class

CLASSES = ("ds-2", "os-1")


@pytest.fixture(scope="module")
def instances(tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("ui-gateway")
    with (
        running("serve", tmp / "os-1.log", WATCHER_DB_PATH=str(tmp / "os-1.db")) as os1,
        running("serve", tmp / "ds-2.log", WATCHER_DB_PATH=str(tmp / "ds-2.db")) as ds2,
    ):
        seed_class(os1, class_div="os-1")
        seed_class(ds2, class_div="ds-2")
        yield {"os-1": os1, "ds-2": ds2}


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("ui-gateway-tables")


def gateway(tmp, routes: dict[str, str], name: str):
    table = tmp / f"{name}.json"
    table.write_text(json.dumps(routes))
    return running("gateway", tmp / f"{name}.log", WATCHER_GATEWAY_ROUTES_FILE=str(table))


def assignment_rows(page, class_div: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"section[data-class='{class_div}'] tbody tr",
        "rows => rows.map((r) => [...r.children].map((c) => c.textContent))",
    )


def test_gateway_lists_both_classes_and_opens_each(instances, tmp, watched):
    page = watched.page
    with gateway(tmp, instances, "both") as base:
        open_page(watched, base + "/ui/")
        shown = page.eval_on_selector_all(
            "section[data-class]", "s => s.map((e) => e.dataset.class)"
        )
        assert shown == list(CLASSES)
        for class_div in CLASSES:
            expected = api(instances[class_div], f"/api/v2/classes/{class_div}/assignments")
            rows = assignment_rows(page, class_div)
            assert [r[0] for r in rows] == [a["hw_name"] for a in expected["assignments"]]
            assert [int(r[2]) for r in rows] == [a["events"] for a in expected["assignments"]]
        watched.shot("gateway-classes")

        for class_div in CLASSES:
            open_page(watched, base + "/ui/")
            page.click(f"section[data-class='{class_div}'] h2 a")
            page.wait_for_selector(READY)
            assert urlsplit(page.url).path == f"/ui/classes/{class_div}"
            assert page.inner_text("h1") == f"Class {class_div}"
            assert [r[0] for r in assignment_rows(page, class_div)] == ["hw1", "hw2"]
            page.click(f"a:text-is('{HW}')")
            page.wait_for_selector(READY)
            students = page.eval_on_selector_all(
                "table.dashboard tbody tr", "rows => rows.map((r) => Number(r.dataset.student))"
            )
            dashboard = api(
                instances[class_div], f"/api/v2/classes/{class_div}/assignments/{HW}/dashboard"
            )
            assert students == [s["student_id"] for s in dashboard["students"]]
        watched.shot("gateway-assignment")


def test_a_class_whose_instance_is_down_says_so(instances, tmp, watched):
    page = watched.page
    routes = {"os-1": instances["os-1"], "ds-2": f"http://127.0.0.1:{free_port()}"}  # nobody there
    with gateway(tmp, routes, "one-down") as base:
        open_page(watched, base + "/ui/")
        assert page.locator("section[data-class='os-1'] table").is_visible()
        alert = page.locator("section[data-class='ds-2'] [role=alert]")
        assert "503" in alert.inner_text() and "may be down" in alert.inner_text()
        watched.shot("gateway-instance-down")

        open_page(watched, base + f"/ui/classes/ds-2/assignments/{HW}")
        assert "503" in page.inner_text(".students [role=alert]")
        assert page.locator("#size-chart [role=alert]").is_visible()
        page.click(".students [role=alert] button")  # try again: still down, still said
        page.wait_for_selector(".students [role=alert]")
        watched.shot("gateway-assignment-instance-down")
