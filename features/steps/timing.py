"""Steps about time itself: notification wording, scheduled starts (wf_schedule) and timer start events."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pytest_bdd import given, parsers, then, when
from sqlalchemy import select
from steps.world import World

from engine import schedule
from engine.clock import SHANGHAI
from engine.loader import SourceFile
from engine.models import HumanTask, Instance, ProcessModel, Schedule

DIAGRAMS = Path(__file__).resolve().parents[2] / "tests" / "diagrams"


def beijing(text: str) -> datetime:
    """``2026-06-01 09:00`` on the Beijing clock."""
    return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


def process_key(world: World, name: str) -> str:
    key = world.process_key(name)
    if key != name:
        return key
    with world.db.sessions() as s:
        found = s.scalar(select(ProcessModel.key).where((ProcessModel.name == name) | (ProcessModel.key == name)))
    assert found is not None, f"没有部署流程“{name}”"
    return found


def schedule_row(world: World, name: str) -> Schedule:
    with world.db.sessions() as s:
        row = s.scalar(select(Schedule).where(Schedule.name == name))
    assert row is not None, f"没有定时计划“{name}”"
    return row


def instances_of(world: World, process: str) -> list[Instance]:
    with world.db.sessions() as s:
        return list(s.scalars(select(Instance).where(Instance.process_key == process_key(world, process))
                              .order_by(Instance.started_at)))


@then(parsers.parse('"{who}"收到的"{kind}"通知写明"{text}"'))
def notice_says(world: World, who: str, kind: str, text: str) -> None:
    notes = world.notifications(world.group(who), kind)
    assert notes, f"{who}没有收到“{kind}”通知"
    assert text in notes[-1].body, f"最近一条“{kind}”通知：{notes[-1].body}"


@given(parsers.parse('系统管理员设置例会计划"{name}"：自"{start}"起每{months:d}个月发起"{process}"'))
def given_regular_meetings(world: World, name: str, start: str, months: int, process: str) -> None:
    with world.db.transaction() as s:
        schedule.add_schedule(s, name, process_key(world, process), f"R/{start}/P{months}M", world.clock.now(),
                              run_as=world.user("联席会议办公室"), created_by="admin")


@given(parsers.parse('设计人员部署了流程图"{file}"'))
def given_deployed(world: World, file: str) -> None:
    world.service.deploy([SourceFile(file, (DIAGRAMS / file).read_bytes())], world.actor("designer"))


@then(parsers.parse('计划"{name}"的下次发起时间为"{when}"'))
def next_run(world: World, name: str, when: str) -> None:
    row = schedule_row(world, name)
    assert row.next_run_at is not None and row.next_run_at == beijing(when), row.next_run_at


@when(parsers.parse('时间来到北京时间"{when}"'))
def to_beijing_time(world: World, when: str) -> None:
    world.move_to(beijing(when))


@then(parsers.parse('共有{n:d}个"{process}"流程，均由"{who}"发起'))
def n_instances_by(world: World, n: int, process: str, who: str) -> None:
    rows = instances_of(world, process)
    assert [r.started_by for r in rows] == [world.user(who)] * n, [r.started_by for r in rows]


@then(parsers.parse('共有{n:d}个"{process}"流程'))
def n_instances(world: World, n: int, process: str) -> None:
    assert len(instances_of(world, process)) == n


@then(parsers.parse('每个"{process}"流程都只有1件"{task}"，没有定时器在等待'))
def one_task_each_instance(world: World, process: str, task: str) -> None:
    for inst in instances_of(world, process):
        with world.db.sessions() as s:
            names = list(s.scalars(select(HumanTask.name).where(HumanTask.instance_id == inst.id)))
        assert names == [task], names
        assert inst.next_timer_at is None, inst.next_timer_at
