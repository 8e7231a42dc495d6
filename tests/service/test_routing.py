"""Route precedence, framework errors and redirects behave as the original's did (CONTRACT §1)."""

from __future__ import annotations

from tests.service.helpers import BUILD, STUDENT


async def test_assignment_routes_shadow_the_file_list(client, contract_example):
    # `/api/assignment/os-1/hw1` also fits /api/{class_div}/{hw_name}/{student_id}: the class
    # route wins because it was registered first (CONTRACT §1.6).
    body = await (await client.get("/api/assignment/os-1/hw1")).json()
    assert body["avg_num"] == 3.5
    assert await (await client.get("/api/build_avg/os-1/hw1")).json() == {"avg_count": 0.0}
    assert await (await client.get("/api/run_avg/os-1/hw1")).json() == {"avg_count": 0.0}


async def test_type_failure_after_a_match_is_422_not_a_fall_through(client):
    # Shape-matches /api/{class_div}/{hw_name}/{student_id}/{filename} with student_id=os-1.
    response = await client.get("/api/assignments/snapshot_avg/os-1/hw1")
    assert response.status == 422
    locs = [entry["loc"] for entry in (await response.json())["detail"]]
    assert ["path", "student_id"] in locs  # (and the class `assignments` fits no class pattern)


async def test_log_posts_shadow_a_file_named_logs(client, db_path):
    assert (await client.post(STUDENT + "/logs/build", json=BUILD)).status == 200
    from tests.service.helpers import db_rows

    assert db_rows(db_path, "SELECT COUNT(*) FROM snapshot") == [(0,)]
    assert db_rows(db_path, "SELECT COUNT(*) FROM buildlog") == [(1,)]


async def test_unknown_path_is_json_404(client):
    response = await client.get("/api/nothing")
    assert response.status == 404
    assert await response.json() == {"detail": "Not Found"}


async def test_wrong_method_is_json_405(client):
    response = await client.put("/api/assignment/os-1/hw1")
    assert response.status == 405
    assert await response.json() == {"detail": "Method Not Allowed"}
    assert "GET" in response.headers["Allow"]


async def test_trailing_slash_redirects_307_keeping_the_query(client):
    response = await client.get("/api/assignment/os-1/hw1/?x=1", allow_redirects=False)
    assert response.status == 307
    assert response.headers["Location"] == "/api/assignment/os-1/hw1?x=1"
    followed = await client.get("/api/assignment/os-1/hw1/")
    assert followed.status == 200


async def test_query_strings_are_ignored_on_legacy_reads(client, contract_example):
    body = await (await client.get(STUDENT + "?limit=1000&foo=bar")).json()
    assert body == ["main.c", "src@util.c"]


async def test_percent_encoded_path_is_decoded(client, db_path):
    from tests.service.helpers import db_rows

    response = await client.post("/api/os-1/hw1/7/a%20b.py/20250310_060000", json={"bytes": 1})
    assert response.status == 200
    assert db_rows(db_path, "SELECT filename FROM snapshot") == [("a b.py",)]
