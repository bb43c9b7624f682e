"""议题征集 (topic_proposal): steps of 议题征集.feature."""

from __future__ import annotations

from pytest_bdd import parsers, scenarios, then, when
from sqlalchemy import select
from steps.world import World

from engine.models import AuditEvent
from meeting.models import Topic
from meeting.queries import topic_pool

scenarios("议题征集.feature")


@when(parsers.parse('"{unit}"提出议题"{title}"'))
def propose(world: World, unit: str, title: str) -> None:
    world.propose(unit, title)


@when(parsers.parse('"{unit}"提出议题"{title}"，紧急程度为"{urgency}"'))
def propose_with_urgency(world: World, unit: str, title: str, urgency: str) -> None:
    world.propose(unit, title, urgency)


@when(parsers.parse('"{who}"受理议题"{title}"'))
def accept(world: World, who: str, title: str) -> None:
    assert world.user(who) == "office"
    world.screen(title, "受理")


@then(parsers.parse('议题"{title}"由"{unit}"提出'))
def topic_unit(world: World, title: str, unit: str) -> None:
    topic = world.topic(title)
    assert topic.unit_code == world.unit_code(unit)
    assert topic.proposer == world.user(unit)


@then(parsers.parse('议题"{title}"的审核意见为"{comment}"'))
def topic_comment(world: World, title: str, comment: str) -> None:
    assert world.topic(title).screen_comment == comment


@then(parsers.parse('议题"{title}"的背景情况为"{text}"'))
def topic_background(world: World, title: str, text: str) -> None:
    assert world.topic(title).background == text


@then(parsers.parse("共有{n:d}个议题"))
def topic_count(world: World, n: int) -> None:
    assert world.count(Topic) == n


@then(parsers.parse('议题库中有议题"{title}"'))
def in_pool(world: World, title: str) -> None:
    with world.db.sessions() as s:
        assert title in [t.title for t in topic_pool(s)]


@then(parsers.parse('议题库中没有议题"{title}"'))
def not_in_pool(world: World, title: str) -> None:
    with world.db.sessions() as s:
        assert title not in [t.title for t in topic_pool(s)]


@then(parsers.parse('议题"{title}"的办理记录中保留退回意见"{comment}"'))
def history_keeps_comment(world: World, title: str, comment: str) -> None:
    topic = world.topic(title)
    assert topic.instance_id is not None
    with world.db.sessions() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.instance_id == topic.instance_id,
                                                    AuditEvent.action == "complete"))
        returns = [e.data for e in events if e.data.get("screen_decision") == "return"]
    assert [d.get("screen_comment") for d in returns] == [comment]
