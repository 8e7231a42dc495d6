"""Health, readiness, metrics and the API documentation."""

from __future__ import annotations

import re

import aiohttp
import pytest
from marshmallow import Schema

from tests.service.helpers import BUILD, RUN, STUDENT, service_process, snapshot_url
from watcher import schemas

LEGACY_ROUTES = {
    ("post", "/api/{class_div}/{hw_name}/{student_id}/logs/build"),
    ("post", "/api/{class_div}/{hw_name}/{student_id}/logs/run"),
    ("get", "/api/snapshot_avg/{class_div}/{hw_name}/{student_id}/{filename}"),
    ("get", "/api/assignments/snapshot_avg/{class_div}/{hw_name}/{student_id}"),
    ("get", "/api/graph_data/{class_div}/{hw_name}/{student_id}/{interval}"),
    ("get", "/api/{class_div}/{hw_name}/{student_id}/logs/build"),
    ("get", "/api/{class_div}/{hw_name}/{student_id}/logs/run"),
    ("get", "/api/assignment/{class_div}/{hw_name}"),
    ("get", "/api/total_graph_data/{class_div}/{hw_name}/{start}/{end}"),
    ("get", "/api/build_avg/{class_div}/{hw_name}"),
    ("get", "/api/run_avg/{class_div}/{hw_name}"),
    ("post", "/api/{class_div}/{hw_name}/{student_id}/{filename}/{timestamp}"),
    ("get", "/api/{class_div}/{hw_name}/{student_id}"),
    ("get", "/api/{class_div}/{hw_name}/{student_id}/{filename}"),
    ("get", "/metrics"),
}


async def test_healthz_and_readyz(client):
    response = await client.get("/healthz")
    assert (response.status, await response.json()) == (200, {"status": "ok"})
    response = await client.get("/readyz")
    body = await response.json()
    assert response.status == 200
    assert body["status"] == "ready"
    assert body["checks"]["schema_current"] is True
    assert body["checks"]["writer_running"] is True


async def test_metrics_label_by_route_template(client, post_snapshot):
    await post_snapshot("main.c", "20250310_060000", 10)
    await post_snapshot("main.c", "20250310_060100", 20)
    await client.post(STUDENT + "/logs/build", json=BUILD)
    await client.post(STUDENT + "/logs/run", json=RUN)
    await client.get("/api/nothing/here")
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = await response.text()
    template = "/api/{class_div}/{hw_name}/{student_id}/{filename}/{timestamp}"
    assert f'http_requests_total{{method="POST",route="{template}",status="200"}} 2.0' in text
    assert 'route="<unmatched>",status="404"' in text
    assert "20250310_060000" not in text  # never a raw path in a label
    assert 'watcher_ingested_total{kind="snapshot"} 2.0' in text
    assert 'watcher_ingested_total{kind="build"} 1.0' in text
    assert 'watcher_ingested_total{kind="run"} 1.0' in text
    assert re.search(
        r"^watcher_database_size_bytes \d+\.\d+e\+\d+$|^watcher_database_size_bytes [1-9]",
        text,
        re.M,
    )
    assert "watcher_writer_queue_depth 0.0" in text
    assert "process_resident_memory_bytes" in text
    assert "http_request_duration_seconds_bucket" in text


async def test_metrics_series_do_not_grow_with_traffic(client):
    for i in range(30):
        url = snapshot_url("os-1", "hw1", str(i), f"f{i}.c", f"20250310_06{i:02d}00")
        assert (await client.post(url, json={"bytes": i})).status == 200
    text = await (await client.get("/metrics")).text()
    request_series = [line for line in text.splitlines() if line.startswith("http_requests_total{")]
    assert len(request_series) == 1


async def test_swagger_spec_lists_every_route(client):
    spec = await (await client.get("/api/docs/swagger.json")).json()
    documented = {(m, path) for path, ops in spec["paths"].items() for m in ops}
    assert documented >= LEGACY_ROUTES
    assert {("get", "/healthz"), ("get", "/readyz")} <= documented
    snapshot_post = spec["paths"]["/api/{class_div}/{hw_name}/{student_id}/{filename}/{timestamp}"]
    params = {p["name"]: p for p in snapshot_post["post"]["parameters"]}
    assert params["student_id"]["type"] == "integer"
    assert params["body"]["schema"]  # the request body is documented
    timeline = spec["paths"]["/api/{class_div}/{hw_name}/{student_id}/{filename}"]["get"]
    assert timeline["responses"]["200"]["schema"] == {"type": "array", "items": {"type": "string"}}


async def test_swagger_ui_is_served_from_local_files(client):
    page = await (await client.get("/api/docs")).text()
    assets = re.findall(r'(?:src|href)="(/api/docs/static/[^"]+)"', page)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert (await client.get(asset)).status == 200, asset
    assert "/api/docs/swagger.json" in page
    assert "http" not in "".join(assets)  # nothing from the internet


async def test_old_docs_address_redirects(client):
    response = await client.get("/docs", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (302, "/api/docs")


SCHEMA_OF = [
    (STUDENT, None),
    ("/api/snapshot_avg/os-1/hw1/202012345/main.c", schemas.SnapshotAvgOut()),
    ("/api/assignments/snapshot_avg/os-1/hw1/202012345", schemas.MonitoringOut()),
    ("/api/graph_data/os-1/hw1/202012345/5", schemas.GraphOut()),
    (STUDENT + "/logs/build", schemas.BuildLogOut(many=True)),
    (STUDENT + "/logs/run", schemas.RunLogOut(many=True)),
    ("/api/assignment/os-1/hw1", schemas.AssignmentOut()),
    ("/api/total_graph_data/os-1/hw1/2025-03-10/2025-03-11", schemas.ChurnOut()),
    ("/api/build_avg/os-1/hw1", schemas.AvgCountOut()),
    ("/readyz", schemas.HealthOut()),
    ("/api/v2/classes/os-1/assignments/hw1/dashboard", schemas.DashboardOut()),
    ("/api/v2/classes/os-1/assignments/hw1/students/202012345/timeline", schemas.TimelineOut()),
    ("/api/v2/classes/os-1/assignments", schemas.AssignmentsV2Out()),
]


@pytest.mark.parametrize(("path", "schema"), SCHEMA_OF)
async def test_responses_match_their_documented_schema(client, contract_example, path, schema):
    await client.post(STUDENT + "/logs/build", json=BUILD)
    await client.post(STUDENT + "/logs/run", json=RUN)
    body = await (await client.get(path)).json()
    if schema is None:
        assert all(isinstance(name, str) for name in body)
        return
    assert isinstance(schema, Schema)
    # Every key we answer is documented, and every required key is present.
    assert schema.validate(body) == {}
    items = body if isinstance(body, list) else [body]
    keys = {field.data_key or name for name, field in schema.fields.items()}
    assert items and all(set(item) <= keys for item in items)


async def test_the_api_document_is_valid_swagger_2(tmp_path):
    """The served document against the Swagger 2.0 specification's own schema (for one, every
    operation needs a non-empty `responses`). From a process of its own: that is the document a
    deployment serves (aiohttp-apispec keeps its definitions per process)."""
    from openapi_spec_validator import OpenAPIV2SpecValidator

    async with (
        service_process(tmp_path / "w.db") as (_, base),
        aiohttp.ClientSession() as session,
        session.get(base + "/api/docs/swagger.json") as response,
    ):
        spec = await response.json()
    assert spec["swagger"] == "2.0"
    errors = [str(error)[:300] for error in OpenAPIV2SpecValidator(spec).iter_errors()]
    assert errors == []
