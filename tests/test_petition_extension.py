"""Under the 信访工作条例 the 信访 agency side approves extending a petition's statutory limit: the extension of an
item with 来源 信访 goes to 区信访局 (``unit:xinfang``), not to the convener; other items' extensions stay with the
convener."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from web_support import LiveApp, live_app

from engine.clock import ManualClock
from engine.errors import Forbidden
from meeting.actions.resolutions import extension_approvers
from meeting.demo import DEMO_START, Walkthrough
from meeting.models import PetitionReferral, ResolutionItem
from meeting.timeutil import local_today


@pytest.fixture
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    path = tmp_path_factory.mktemp("petition_extension")
    with live_app(f"sqlite:///{path}/ext.db", ManualClock(DEMO_START)) as app:
        yield app


def test_a_petition_extension_is_approved_by_xinfang_not_the_convener(live: LiveApp) -> None:
    w = Walkthrough(live.db, live.service, ManualClock(DEMO_START))
    w.start("xinfang", "petition_referral", form_values={
        "petition_number": "XF2026-0900", "petition_title": "医疗救助未报销", "petition_content": "反映医疗救助未报销。",
        "petitioner_name": "李四", "petitioner_phone": "13700001111", "petition_received_on": w.today()})
    w.do("office", "assign_petition", {"petition_route": "assign", "petition_lead": "yibao"})
    with live.db.sessions() as s:
        item_id = s.scalars(select(PetitionReferral.resolution_id)).one()
    w.do("yibao", "implement", {"report_action": "extend", "requested_deadline": w.today(70),
                                "extension_reason": "需调取医院结算记录。"}, resolution_id=item_id)
    task = w.task("xinfang", "approve_extension", resolution_id=item_id)
    assert task.candidate_groups == ["unit:xinfang"]
    assert all(t.bpmn_id != "approve_extension" for t in live.service.tasks_for(w.actor("convener"), "open"))
    with pytest.raises(Forbidden):
        live.service.complete(task.id, w.actor("convener"), {"extension_decision": "approve"})
    w.do("xinfang", "approve_extension", {"extension_decision": "approve"}, resolution_id=item_id)
    with live.db.sessions() as s:
        item = s.get(ResolutionItem, item_id)
        assert item is not None and local_today(item.deadline).isoformat() == w.today(70)
        assert item.original_deadline is not None


def test_other_sources_keep_the_convener() -> None:
    assert extension_approvers(ResolutionItem(source="petition")) == "unit:xinfang"
    for source in ("minutes", "assigned", "coordination"):
        assert extension_approvers(ResolutionItem(source=source)) == "convener"
