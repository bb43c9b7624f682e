"""成员单位调整 (membership_change): steps of 成员单位调整.feature."""

from __future__ import annotations

from pytest_bdd import parsers, scenarios, then, when
from steps.common import unit_row
from steps.world import World

from meeting import directory
from meeting.models import MembershipChange
from meeting.statuses import ChangeStatus

scenarios("成员单位调整.feature")

NEW_DUTIES = "负责巩固拓展脱贫攻坚成果同乡村振兴有效衔接，做好防止返贫动态监测和帮扶工作。"


@when(parsers.parse('"{unit}"提出更名为"{new_name}"的调整申请，理由为"{reason}"'))
def propose_rename(world: World, unit: str, new_name: str, reason: str) -> None:
    if not world.tasks_named(unit, "提出调整申请"):
        world.remember_instance("membership_change", world.start(world.user(unit), "membership_change"))
    world.fill(unit, "提出调整申请", {"调整类型": "职能或名称变更", "涉及单位": unit, "新名称": new_name,
                                      "职责分工": NEW_DUTIES, "调整理由": reason})


@then(parsers.parse('调整申请的状态为"{status}"'))
def change_status(world: World, status: str) -> None:
    assert world.change().status == ChangeStatus.from_label(status), world.change().status


@then(parsers.parse('共有{n:d}份调整申请，调整理由为"{reason}"'))
def change_count(world: World, n: int, reason: str) -> None:
    assert world.count(MembershipChange) == n
    assert world.change().reason == reason


@then(parsers.parse('成员名录中"{unit}"的名称为"{name}"'))
def unit_name(world: World, unit: str, name: str) -> None:
    assert unit_row(world, unit).name == name


@then(parsers.parse('成员名录中"{unit}"的职责分工为"{duties}"'))
def unit_duties(world: World, unit: str, duties: str) -> None:
    assert unit_row(world, unit).duties == duties


@then(parsers.parse('成员名录中"{unit}"的职责分工未改变'))
def unit_duties_unchanged(world: World, unit: str) -> None:
    row = unit_row(world, unit)
    seeded = {u["code"]: u for u in directory.load_seed()}[row.code]
    assert (row.name, row.duties, row.kind, row.active) == (seeded["name"], seeded["duties"], "member", True)


@then(parsers.parse("联席会议仍由{n:d}个成员单位组成"))
def member_count(world: World, n: int) -> None:
    assert len(world.member_names()) == n
