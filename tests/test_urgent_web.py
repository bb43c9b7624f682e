"""The 救急难月度归纳 page over real HTTP (the demo directory staffs 五里镇): the office reads every town, a town's people their own town only, a member
unit nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from web_support import LiveApp, live_app

from engine.clock import ManualClock
from meeting.models import AssistanceCase
from meeting.statuses import CaseKind, CaseStatus


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    path = tmp_path_factory.mktemp("urgent")
    with live_app(f"sqlite:///{path}/urgent.db", ManualClock(datetime(2026, 3, 20, 2, 0, tzinfo=UTC))) as app:
        at = datetime(2026, 3, 5, 1, 0, tzinfo=UTC)
        with app.db.transaction() as s:
            for n, town in enumerate(("wuli", "wuli", "laocheng")):
                s.add(AssistanceCase(number=f"急{n}", kind=CaseKind.URGENT, source="window", town_code=town,
                                     applicant_name="某", aid_types=[], reported_at=at, reroute_count=0,
                                     verify_due_at=at + timedelta(hours=24), verified_at=at + timedelta(hours=3),
                                     verified_true=True, status=CaseStatus.CLOSED, created_at=at))
        yield app


def _row(page: str, town: str) -> str | None:
    match = re.search(rf'<tr data-town="{town}">(.*?)</tr>', page, re.S)
    return match.group(1) if match else None


def test_the_office_reads_every_town(live: LiveApp) -> None:
    r = live.client("office").get("/urgent/summary?month=2026-03")
    assert r.status_code == 200
    assert '<td class="text-end" data-col="cases">2</td>' in (_row(r.text, "wuli") or "")
    assert '<td class="text-end" data-col="cases">1</td>' in (_row(r.text, "laocheng") or "")
    assert 'id="urgent-total"' in r.text


@pytest.mark.parametrize("username", ["wuli_team", "wuli"])
def test_a_towns_people_read_their_own_town_only(live: LiveApp, username: str) -> None:
    b = live.client(username)
    r = b.get("/urgent/summary?month=2026-03")
    assert r.status_code == 200
    assert _row(r.text, "wuli") is not None and _row(r.text, "laocheng") is None
    assert ('id="nav-urgent"' in r.text) == (username == "wuli_team")  # the link: for the town's groups
    assert b.get("/urgent/summary?month=2026-13").status_code == 404
    assert b.get("/urgent/summary?month=２０２６-03").status_code == 404


def test_a_member_unit_is_refused(live: LiveApp) -> None:
    b = live.client("caizheng")
    assert b.get("/urgent/summary").status_code == 403
    assert 'id="nav-urgent"' not in b.get("/tasks").text
