"""Every CSV the service writes is RFC 4180 and runs nothing in a spreadsheet (issue 19, item 6):
the dashboard's `?format=csv` (safe before, kept so by the same writer as the ProgSnap2 tables)."""

from __future__ import annotations

from tests.progsnap2_check import read_csv
from tests.service.helpers import BUILD, STUDENT

DASHBOARD = "/api/v2/classes/os-1/assignments/hw1/dashboard"


async def test_the_dashboard_csv_is_rfc_4180_without_formulas(client, post_snapshot):
    await post_snapshot("=1+1.c", "20250310_060000", 100)
    await post_snapshot("=1+1.c", "20250310_060500", 5000)
    response = await client.post(f"{STUDENT}/logs/build", json={**BUILD, "exit_code": 1})
    assert response.status == 200
    response = await client.get(DASHBOARD, params={"format": "csv"})
    assert response.status == 200
    found, problems = read_csv(await response.text())
    assert problems == []
    header, rows = found
    assert header[0] == "student_id" and rows[0]["student_id"] == "202012345"
    assert rows[0]["flags"]  # a text column, written as text
