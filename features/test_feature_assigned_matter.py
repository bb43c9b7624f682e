"""区委、区政府交办事项 (assigned_matter): steps of 交办事项.feature."""

from __future__ import annotations

from pytest_bdd import given, parsers, scenarios, then
from sqlalchemy import select
from steps.common import table
from steps.world import World

from meeting.models import AssignedMatter
from meeting.statuses import MatterStatus

scenarios("交办事项.feature")


def _matter(world: World, title: str) -> AssignedMatter:
    with world.db.sessions() as s:
        matter = s.scalar(select(AssignedMatter).where(AssignedMatter.title == title))
    assert matter is not None, f"没有交办事项“{title}”"
    return matter


@given(parsers.parse('"{who}"登记交办件：'))
def register(world: World, who: str, datatable: list[list[str]]) -> None:
    user = world.user(who)
    start = next(e for e in world.service.startable(world.actor(user)) if e["process_key"] == "assigned_matter")
    fields = {f["label"]: f for f in start["form"]}
    values = {fields[label]["id"]: world.form_value(fields[label], raw)
              for label, raw in table(datatable).items()}
    instance_id = world.start(user, "assigned_matter", form_values=values)
    world.remember_instance("assigned_matter", instance_id)


@then(parsers.parse('交办事项"{title}"的收文号为"{number}"，状态为"{status}"'))
def number_and_status(world: World, title: str, number: str, status: str) -> None:
    matter = _matter(world, title)
    assert (matter.number, matter.status) == (number, MatterStatus.from_label(status))


@then(parsers.parse('交办事项"{title}"的状态为"{status}"'))
def matter_status(world: World, title: str, status: str) -> None:
    assert _matter(world, title).status == MatterStatus.from_label(status)


@then(parsers.parse('交办事项"{title}"的报告文号为"{number}"'))
def report_number(world: World, title: str, number: str) -> None:
    assert _matter(world, title).report_number == number
