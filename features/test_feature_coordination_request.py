"""会议之间的跨部门协调 (coordination_request): steps of 跨部门协调.feature."""

from __future__ import annotations

from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import select
from steps.common import rows, table
from steps.world import World, split_list

from meeting.models import CoordinationRequest
from meeting.statuses import CoordinationStatus, CoUnitStatus

scenarios("跨部门协调.feature")


def _request(world: World, title: str) -> CoordinationRequest:
    with world.db.sessions() as s:
        request = s.scalar(select(CoordinationRequest).where(CoordinationRequest.title == title))
    assert request is not None, f"没有协调事项“{title}”"
    return request


@given(parsers.parse('"{who}"提出协调请求：'))
def ask(world: World, who: str, datatable: list[list[str]]) -> None:
    user = world.user(who)
    start = next(e for e in world.service.startable(world.actor(user)) if e["process_key"] == "coordination_request")
    fields = {f["label"]: f for f in start["form"]}
    values = {fields[label]["id"]: world.form_value(fields[label], raw) for label, raw in table(datatable).items()}
    world.remember_instance("coordination_request", world.start(user, "coordination_request", form_values=values))


@when(parsers.parse('"{who}"召开专题协调会，参会单位为"{units}"，议定事项如下：'))
def hold_meeting(world: World, who: str, units: str, datatable: list[list[str]]) -> None:
    task = world.find(who, "召开专题协调会")
    world.submit(who, task, {"coord_participants": [world.unit_code(n) for n in split_list(units)],
                             "coord_minutes": "会议研究了信息共享问题，议定事项如下。",
                             "coord_items": world.item_rows(rows(datatable))})


@then(parsers.parse('协调事项"{title}"的协调函文号为"{number}"'))
def letter_number(world: World, title: str, number: str) -> None:
    assert _request(world, title).letter_number == number


@then(parsers.parse('协调事项"{title}"的纪要文号为"{number}"'))
def minutes_number(world: World, title: str, number: str) -> None:
    assert _request(world, title).minutes_number == number


@then(parsers.parse('协调事项"{title}"中"{unit_a}"为"{status_a}"，"{unit_b}"为"{status_b}"'))
def replies(world: World, title: str, unit_a: str, status_a: str, unit_b: str, status_b: str) -> None:
    got = {r.unit_code: r.status for r in _request(world, title).reply_rows}
    assert got[world.unit_code(unit_a)] == CoUnitStatus.from_label(status_a), got
    assert got[world.unit_code(unit_b)] == CoUnitStatus.from_label(status_b), got


@then(parsers.parse('协调事项"{title}"的状态为"{status}"'))
def request_status(world: World, title: str, status: str) -> None:
    assert _request(world, title).status == CoordinationStatus.from_label(status)
