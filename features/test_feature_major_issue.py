"""重大问题报区政府决定 (major_issue): steps of 重大问题.feature."""

from __future__ import annotations

from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import select
from steps.common import rows
from steps.world import World

from meeting.models import MajorIssue
from meeting.statuses import MajorIssueStatus

scenarios("重大问题.feature")

DECISIONS = {"同意": "approve", "不同意": "reject", "作出指示": "instruct"}


def _issue(world: World, title: str) -> MajorIssue:
    with world.db.sessions() as s:
        issue = s.scalar(select(MajorIssue).where(MajorIssue.title == title))
    assert issue is not None, f"没有重大问题“{title}”"
    return issue


@given(parsers.parse('重大问题"{title}"的请示已由召集人签发'))
def given_signed(world: World, title: str) -> None:
    issue = _issue(world, title)
    world.fill("联席会议办公室", "起草请示", {"请示标题": f"关于{title}的请示", "请示正文": "拟请区政府决定。"},
               major_issue_id=issue.id)
    world.ok()
    world.fill("召集人", "签发请示", {"签发意见": "签发"}, major_issue_id=issue.id)
    world.ok()


def _decide(world: World, who: str, decision: str, text: str, items: list[dict[str, str]]) -> None:
    task = world.find(who, "区政府决定")
    world.submit(who, task, {"district_decision": decision, "district_instructions": text,
                             "instruction_items": world.item_rows(items)})


@when(parsers.parse('"{who}"作出指示"{text}"，据指示交办事项如下：'))
def instruct(world: World, who: str, text: str, datatable: list[list[str]]) -> None:
    _decide(world, who, "instruct", text, rows(datatable))


@when(parsers.parse('"{who}"同意，并交办事项如下：'))
def approve_with_items(world: World, who: str, datatable: list[list[str]]) -> None:
    _decide(world, who, "approve", "", rows(datatable))


@then(parsers.parse('重大问题"{title}"的状态为"{status}"'))
def issue_status(world: World, title: str, status: str) -> None:
    assert _issue(world, title).status == MajorIssueStatus.from_label(status)


@then(parsers.parse('重大问题"{title}"的请示已由"{who}"签发'))
def issue_signed(world: World, title: str, who: str) -> None:
    issue = _issue(world, title)
    assert (issue.status, issue.signed_by) == ("signed", world.user(who))
    assert issue.request_body == "经测算需专项资金120万元，拟请区政府统筹安排。"


@then(parsers.parse('重大问题"{title}"的决定为"{decision}"，由"{who}"作出'))
def issue_decision(world: World, title: str, decision: str, who: str) -> None:
    issue = _issue(world, title)
    assert (issue.status, issue.decision, issue.decided_by) == ("decided", DECISIONS[decision], world.user(who))


@then(parsers.parse('重大问题"{title}"的决定内容为"{text}"'))
def issue_instructions(world: World, title: str, text: str) -> None:
    assert _issue(world, title).instructions == text


@then(parsers.parse('议定事项"{item}"据重大问题"{title}"的指示交办'))
def item_from_issue(world: World, item: str, title: str) -> None:
    issue, row = _issue(world, title), world.item(item)
    assert (row.major_issue_id, row.meeting_id, row.topic_id) == (issue.id, issue.meeting_id, issue.topic_id)
