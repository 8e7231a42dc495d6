"""The class of a request, from its method and raw path: every legacy route shape (§1.6)."""

from __future__ import annotations

import random
import re

import pytest
from aiohttp.test_utils import make_mocked_request
from yarl import URL

from watcher.app import create_app
from watcher.config import Settings
from watcher.gateway.routing import LEGACY_ROUTES, class_div_of, match_route

# (method, raw path, class, CONTRACT §1.6 row)
EVERY_ROUTE = [
    ("POST", "/api/os-1/hw1/202012345/logs/build", "os-1", 1),
    ("POST", "/api/os-1/hw1/202012345/logs/run", "os-1", 2),
    ("GET", "/api/snapshot_avg/os-1/hw1/202012345/main.c", "os-1", 3),
    ("GET", "/api/assignments/snapshot_avg/os-1/hw1/202012345", "os-1", 4),
    ("GET", "/api/graph_data/os-1/hw1/202012345/5", "os-1", 5),
    ("GET", "/api/os-1/hw1/202012345/logs/build", "os-1", 6),
    ("GET", "/api/os-1/hw1/202012345/logs/run", "os-1", 7),
    ("GET", "/api/assignment/os-1/hw1", "os-1", 8),
    ("GET", "/api/total_graph_data/os-1/hw1/2025-03-10T00:00:00/2025-03-10T23:59:59", "os-1", 9),
    ("GET", "/api/build_avg/os-1/hw1", "os-1", 10),
    ("GET", "/api/run_avg/os-1/hw1", "os-1", 11),
    ("POST", "/api/os-1/hw1/202012345/main.c/20250310_060130", "os-1", 12),
    ("GET", "/api/os-1/hw1/202012345", "os-1", 13),
    ("GET", "/api/os-1/hw1/202012345/main.c", "os-1", 14),
]


def test_the_table_covers_every_legacy_route_with_a_class():
    assert sorted(row for *_, row in EVERY_ROUTE) == [route.row for route in LEGACY_ROUTES]
    assert len(LEGACY_ROUTES) == 14  # row 15, GET /metrics, is the gateway's own


@pytest.mark.parametrize(("method", "path", "class_div", "row"), EVERY_ROUTE)
def test_every_route_shape(method, path, class_div, row):
    found = match_route(method, path)
    assert found is not None
    assert (found.class_div, found.route.row) == (class_div, row)
    assert found.family == found.route.template
    # The same with another class, so the class really comes from its position in the path.
    other = path.replace("os-1", "ds-22")
    assert class_div_of(method, other) == "ds-22"


@pytest.mark.parametrize(
    ("method", "path", "class_div", "row"),
    [
        # The class summary, not student `hw1`'s files in a class named `assignment`.
        ("GET", "/api/assignment/os-1/hw1", "os-1", 8),
        ("GET", "/api/build_avg/os-1/hw1", "os-1", 10),
        ("GET", "/api/run_avg/os-1/hw1", "os-1", 11),
        # Six segments: only row 12 has that shape with POST, so the class is `assignment`.
        ("POST", "/api/assignment/hw1/7/f.c/20250310_060000", "assignment", 12),
        # The method decides: row 3 for GET, row 12 (class `snapshot_avg`) for POST.
        ("GET", "/api/snapshot_avg/os-1/hw1/7/main.c", "os-1", 3),
        ("POST", "/api/snapshot_avg/os-1/hw1/7/main.c", "snapshot_avg", 12),
        ("POST", "/api/graph_data/os-1/hw1/7/5", "graph_data", 12),
        # A file named `logs` with timestamp `build` is the build-log POST (row 1 before 12).
        ("POST", "/api/os-1/hw1/7/logs/build", "os-1", 1),
        ("POST", "/api/os-1/hw1/7/logs/other", "os-1", 12),
        # Five segments: row 14 with class `assignments` (the instance answers 422).
        ("GET", "/api/assignments/snapshot_avg/os-1/hw1", "assignments", 14),
        # graph_data's fixed prefix wins over the generic log route for GET.
        ("GET", "/api/graph_data/os-1/hw1/logs/build", "os-1", 5),
        # Shape fits but the method does not: the instance of that class answers 405.
        ("PUT", "/api/assignment/os-1/hw1", "os-1", 8),
        ("GET", "/api/os-1/hw1/7/main.c/20250310_060000", "os-1", 12),
        ("OPTIONS", "/api/os-1/hw1/7", "os-1", 13),
        # Query strings are ignored.
        ("GET", "/api/os-1/hw1/7/logs/build?limit=1000", "os-1", 6),
        ("GET", "/api/assignment/os-1/hw1?x=/api/ds-2/a/b", "os-1", 8),
    ],
)
def test_precedence_follows_the_services_router(method, path, class_div, row):
    found = match_route(method, path)
    assert found is not None
    assert (found.class_div, found.route.row) == (class_div, row)


@pytest.mark.parametrize(
    ("path", "class_div"),
    [
        ("/api/os%2D1/hw1/7", "os-1"),  # encoded class: decoded for the lookup
        ("/api/%ED%95%9C%EA%B5%AD-1/hw1/7", "한국-1"),
        ("/api/%ed%95%9c-1/hw1/7", "한-1"),  # lowercase hex
        ("/api/os-1/hw1/7/%EA%B3%BC%EC%A0%9C.py", "os-1"),  # Korean file name
        ("/api/os-1/hw1/7/src@app@main.c", "os-1"),
        ("/api/os-1/hw1/7/my%20file.c", "os-1"),
        ("/api/os-1/hw1/7/100%25.c", "os-1"),
        # `%2F` is no separator (aiohttp splits before decoding): still four segments.
        ("/api/a%2Fb/hw1/7", "a/b"),
        ("/api/os-1/hw1/7/src%2Fmain.c", "os-1"),
        ("/api/%61ssignment/os-1/hw1", "os-1"),  # an encoded literal is still the literal
        ("/api/x%25y/hw1/7", "x%y"),
    ],
)
def test_percent_encoding(path, class_div):
    assert class_div_of("GET", path) == class_div


@pytest.mark.parametrize(
    ("method", "path", "class_div"),
    [
        # The service redirects these (307); the request goes to the redirect target's class.
        ("GET", "/api/assignment/os-1/hw1/", "os-1"),
        ("GET", "/api/os-1/hw1/7/", "os-1"),
        ("GET", "/api//os-1/hw1/7", "os-1"),
        ("GET", "/api/assignment//os-1//hw1/", "os-1"),
    ],
)
def test_paths_the_service_redirects(method, path, class_div):
    assert class_div_of(method, path) == class_div


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/metrics"),  # row 15: the gateway's own
        ("GET", "/healthz"),
        ("GET", "/api/docs"),
        ("GET", "/"),
        ("GET", "/api"),
        ("GET", "/api/os-1"),
        ("GET", "/api/os-1/hw1"),
        ("GET", "/api/os-1/hw1/7/a/b/c/d"),
        ("GET", "/other/os-1/hw1/7"),
    ],
)
def test_paths_no_legacy_route_answers(method, path):
    assert match_route(method, path) is None


def test_braces_are_ordinary_characters_in_a_segment():
    # The service accepts a file `a{b}.c` as the original did; a class with braces is then
    # simply a class no instance serves (the service itself would refuse its pattern).
    assert class_div_of("POST", "/api/os-1/hw1/7/a%7Bb%7D.c/20250310_060000") == "os-1"
    assert class_div_of("GET", "/api/%7Bx%7D/hw1/7") == "{x}"


# Segments that exercise literals, encodings, empty segments and braces.
_VOCABULARY = [
    "assignment", "assignments", "snapshot_avg", "graph_data", "total_graph_data", "build_avg",
    "run_avg", "logs", "build", "run", "os-1", "os%2D1", "ds-2", "hw1", "7", "main.c",
    "%EA%B3%BC%EC%A0%9C.py", "", "a%2Fb", "%7Bx%7D", "x%25y", "my%20file.c", "src@a.c",
]  # fmt: skip


async def test_agrees_with_the_services_own_router(tmp_path):
    """On thousands of generated paths, the class is the one the service itself would read."""
    router = create_app(Settings(db_path=tmp_path / "unused.db")).router
    blank = make_mocked_request("GET", "/")  # cloned per path: building one each is slow
    rng = random.Random(20250310)
    checked = {"match": 0, "405": 0, "404": 0}
    for _ in range(4000):
        method = rng.choice(["GET", "POST", "PUT"])
        segments = [rng.choice(_VOCABULARY) for _ in range(rng.randint(1, 6))]
        path = "/api/" + "/".join(segments)
        # URL(path) parses an encoded path the way the server parses a request line.
        info = await router.resolve(blank.clone(method=method, rel_url=URL(path)))
        found = match_route(method, path)
        status = 200 if info.http_exception is None else info.http_exception.status
        if status == 200:
            checked["match"] += 1
            assert found is not None, path
            assert found.route.method == method, path
            assert found.class_div == info["class_div"], path
            assert found.family == info.route.resource.canonical, path
        elif found is not None and found.route.method == method:
            # Only a path the service's normaliser redirects may resolve through a redirect.
            assert "//" in path or path.endswith("/"), path
        elif status == 405:
            checked["405"] += 1
            assert found is not None, path  # the instance of that class answers the 405
        else:
            checked["404"] += 1
            assert found is None, path
    assert min(checked.values()) > 100, checked  # the corpus exercised every outcome


@pytest.mark.parametrize(
    ("method", "path", "class_div"),
    [
        ("GET", "/api/v2/classes/os-1/assignments/hw1/dashboard", "os-1"),
        ("GET", "/api/v2/classes/ds-22/assignments/hw1/students/7/timeline?limit=5", "ds-22"),
        ("GET", "/api/v2/classes/os-1/assignments", "os-1"),
        ("GET", "/api/v2/classes/os%2D1/export/progsnap2", "os-1"),
        ("GET", "/api/v2/classes/os-1/assignments/hw1/students/7/files/a@b.c/versions", "os-1"),
        # Any v2 path of a class goes to its instance, which answers 404/405 itself: a newer
        # instance may serve a route this gateway does not know yet.
        ("POST", "/api/v2/classes/os-1/assignments/hw1/dashboard", "os-1"),
        ("GET", "/api/v2/classes/os-1/not-yet-a-route", "os-1"),
    ],
)
def test_v2_paths_go_to_their_class(method, path, class_div):
    found = match_route(method, path)
    assert found is not None
    assert (found.class_div, found.family) == (class_div, "/api/v2/classes/{class_div}/...")


async def test_every_v2_route_of_the_service_goes_to_its_class(tmp_path):
    app = create_app(Settings(db_path=tmp_path / "unused.db"))
    blank = make_mocked_request("GET", "/")
    v2 = [r for r in app.router.routes() if r.resource.canonical.startswith("/api/v2/classes/")]
    assert len(v2) >= 3
    for route in v2:
        path = re.sub(
            r"\{(\w+)\}",
            lambda m: "os-7" if m[1] == "class_div" else "x1",
            route.resource.canonical,
        )
        info = await app.router.resolve(blank.clone(method=route.method, rel_url=URL(path)))
        assert info.http_exception is None, path
        assert class_div_of(route.method, path) == info["class_div"] == "os-7", path
