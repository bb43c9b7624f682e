"""Every list of the API and its page is keyset-paged: walking the pages with ``cursor`` meets every row once in
the list's order, a page never holds more than ``limit`` rows (at most 200), a cursor that cannot be read is a
400 with a Chinese message, the pages link 下一页 / 上一页, and the OpenAPI document describes the parameters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_support import Browser, LiveApp, live_app

from bench.lists import OWN_UNIT, add_notifications, add_resolutions
from bench.world import T0
from engine.clock import ManualClock
from engine.service import Actor

ITEMS, NOTES = 130, 320  # more than a page of 50 and of 100, fewer than the count cap


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    path: Path = tmp_path_factory.mktemp("paging")
    with live_app(f"sqlite:///{path}/paging.db", ManualClock(T0)) as app:
        add_resolutions(app.db, ITEMS, T0)
        add_notifications(app.db, NOTES, T0)
        unit = Actor("caizheng", frozenset({"unit:caizheng"}), "caizheng")
        for _ in range(5):
            app.service.start("topic_proposal", unit)
        yield app


def walk(b: Browser, path: str, key: str, limit: int) -> list[dict[str, Any]]:
    """Every row of an API list, page by page."""
    rows: list[dict[str, Any]] = []
    sep = "&" if "?" in path else "?"
    url: str | None = f"{path}{sep}limit={limit}"
    while url:
        r = b.get(url)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
        body = r.json()
        assert len(body[key]) <= limit and body["limit"] == limit
        rows += body[key]
        url = f"{path}{sep}limit={limit}&cursor={body['next_cursor']}" if body["next_cursor"] else None
    return rows


def test_api_lists_walk_every_row_once_in_order(live: LiveApp) -> None:
    office = live.client("office")
    items = walk(office, "/api/resolutions", "resolutions", 50)
    assert len(items) == ITEMS and len({i["id"] for i in items}) == ITEMS
    assert [i["deadline"] for i in items] == sorted(i["deadline"] for i in items)
    first = office.get("/api/resolutions?limit=50").json()
    assert first["total"] == ITEMS and first["count"] == 50 and first["prev_cursor"] is None
    back = office.get(f"/api/resolutions?limit=50&before={walk_cursor(office)}").json()
    assert [i["id"] for i in back["resolutions"]] == [i["id"] for i in items[:50]]

    newest = walk(office, "/api/resolutions?sort=-created_at", "resolutions", 40)
    assert [i["created_at"] for i in newest] == sorted((i["created_at"] for i in newest), reverse=True)

    unit = live.client(OWN_UNIT)
    notes = walk(unit, "/api/notifications", "notifications", 100)
    assert len(notes) == 300 and len({n["id"] for n in notes}) == 300  # the unit's own, never another's
    assert [n["created_at"] for n in notes] == sorted((n["created_at"] for n in notes), reverse=True)

    mine = walk(live.client("caizheng"), "/api/tasks?view=mine", "tasks", 2)
    assert len(mine) == 5 and len({t["id"] for t in mine}) == 5
    instances = walk(office, "/api/instances?process=topic_proposal", "instances", 2)
    assert len(instances) == 5
    assert [i["started_at"] for i in instances] == sorted((i["started_at"] for i in instances), reverse=True)
    meetings = walk(office, "/api/meetings", "meetings", 2)
    assert len(meetings) == -(-ITEMS // 50)
    models = walk(live.client("designer"), "/api/models", "models", 3)
    assert [m["key"] for m in models] == sorted(m["key"] for m in models) and len(models) >= 5
    events = walk(live.client("auditor"), "/api/audit?action=start", "events", 2)
    assert len(events) == 5 and [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)


def walk_cursor(b: Browser) -> str:
    """The prev_cursor of the second page of the ledger (leads back to the first)."""
    first = b.get("/api/resolutions?limit=50").json()
    return str(b.get(f"/api/resolutions?limit=50&cursor={first['next_cursor']}").json()["prev_cursor"])


def test_bad_paging_parameters_are_refused_in_chinese(live: LiveApp) -> None:
    office = live.client("office")
    for query in ("cursor=nonsense", "limit=0", "limit=201", "limit=abc", "before=%E2%82%AC"):
        r = office.get(f"/api/resolutions?{query}")
        assert r.status_code == 400, (query, r.status_code)
        assert re.search(r"[\u4e00-\u9fff]", r.json()["message"]), r.text
    r = office.get("/tasks?cursor=nonsense")
    assert r.status_code == 400 and "cursor" in r.text
    assert live.client("caizheng").get("/api/instances").status_code == 403  # as the page: monitors only
    assert live.client("caizheng").get("/api/audit").status_code == 403


def test_pages_link_to_the_next_and_previous_page(live: LiveApp) -> None:
    office = live.client("office")
    page1 = office.get("/resolutions").text
    assert "共 130 项" in page1
    # the exports show their progress in the page (dist/monitor.js reads these)
    assert 'data-export="csv"' in page1 and 'data-export="xlsx"' in page1 and 'id="export-status"' in page1
    assert 'data-total="130"' in page1 and "dist/monitor" in page1
    rows1 = re.findall(r'data-item-id="(\d+)"', page1)
    nxt = re.search(r'href="([^"]+)" rel="next"', page1)
    assert len(rows1) == 100 and nxt and 'rel="prev"' not in page1
    page2 = office.get(nxt.group(1).replace("&amp;", "&")).text
    rows2 = re.findall(r'data-item-id="(\d+)"', page2)
    assert len(rows2) == 30 and not set(rows1) & set(rows2) and 'rel="next"' not in page2
    prev = re.search(r'href="([^"]+)" rel="prev"', page2)
    assert prev and re.findall(r'data-item-id="(\d+)"', office.get(prev.group(1).replace("&amp;", "&")).text) == rows1

    unit = live.client(OWN_UNIT)
    notes = unit.get("/notifications").text
    assert 'rel="next"' in notes
    for path in ("/instances", "/meetings", "/tasks"):
        assert office.get(path).status_code == 200


def test_openapi_describes_paging_of_every_list(live: LiveApp) -> None:
    spec = live.client().get("/api/openapi.json").json()
    for path in ("/api/tasks", "/api/resolutions", "/api/instances", "/api/notifications", "/api/meetings",
                 "/api/models", "/api/audit"):
        get = spec["paths"][path]["get"]
        names = {p["name"] for p in get["parameters"]}
        assert {"limit", "cursor", "before"} <= names, path
        limit = next(p for p in get["parameters"] if p["name"] == "limit")
        assert limit["schema"]["maximum"] == 200
        props = get["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
        assert {"next_cursor", "prev_cursor", "limit"} <= set(props), path
    assert "post" in spec["paths"]["/api/models"]  # deploying stays described next to the list
