"""救急难 (urgent_assistance): steps of 救急难.feature."""

from __future__ import annotations

from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import select
from steps.common import table
from steps.world import World

from engine.models import AuditEvent, Instance
from meeting.models import AssistanceCase, Unit, User, UserRole
from meeting.statuses import CaseStatus
from meeting.urgent_summary import COLUMNS, monthly_summary

scenarios("救急难.feature")

STAFF = {"窗口": "window", "民政办": "mzb", "快速响应服务队伍": "team", "分管领导": "leader"}


@given(parsers.parse('"{town}"的窗口、民政办、快速响应服务队伍和分管领导各有一名工作人员'))
def town_staff(world: World, town: str) -> None:
    code = world.unit_code(town)
    with world.db.transaction() as s:
        for name, kind in STAFF.items():
            username = f"{code}_{kind}"
            if s.scalar(select(User.id).where(User.username == username)) is not None:
                continue
            user = User(username=username, display_name=f"{town}{name}", unit_code=code, active=True,
                        created_at=world.clock.now(), is_liaison=False)
            user.roles.append(UserRole(role=f"town:{code}:{kind}"))
            s.add(user)


@given(parsers.parse('"{who}"登记急难案件：'))
def register(world: World, who: str, datatable: list[list[str]]) -> None:
    user = world.user(who)
    start = next(e for e in world.service.startable(world.actor(user)) if e["process_key"] == "urgent_assistance")
    fields = {f["label"]: f for f in start["form"]}
    values = {fields[label]["id"]: world.form_value(fields[label], raw) for label, raw in table(datatable).items()}
    world.remember_instance("urgent_assistance", world.start(user, "urgent_assistance", form_values=values))


@given(parsers.parse('"{town}"的先行救助额度为{amount:d}元'))
def town_limit(world: World, town: str, amount: int) -> None:
    with world.db.transaction() as s:
        unit = s.get(Unit, world.unit_code(town))
        assert unit is not None
        unit.advance_limit = amount


@given(parsers.parse("时间过去{hours:d}小时"))
@when(parsers.parse("时间过去{hours:d}小时"))
def hours_pass(world: World, hours: int) -> None:
    world.advance(hours / 24)


def _case(world: World, number: str) -> AssistanceCase:
    with world.db.sessions() as s:
        case = s.scalar(select(AssistanceCase).where(AssistanceCase.number == number))
    assert case is not None, f"没有急难案件{number}"
    return case


@then(parsers.parse('急难案件"{number}"的状态为"{status}"，先行救助{amount:d}元'))
def closed_with_advance(world: World, number: str, status: str, amount: int) -> None:
    case = _case(world, number)
    assert (case.status, case.advance_amount) == (CaseStatus.from_label(status), amount)
    assert case.advance_granted_at is not None


@then(parsers.parse('急难案件"{number}"的状态为"{status}"'))
def case_status(world: World, number: str, status: str) -> None:
    assert _case(world, number).status == CaseStatus.from_label(status)


@then(parsers.parse('流程数据中没有身份证号"{id_number}"和联系电话"{phone}"'))
def no_personal_data_in_process(world: World, id_number: str, phone: str) -> None:
    """The start form's 身份证号 and phone are sensitive: kept on the case only, never in the engine's state."""
    with world.db.sessions() as s:
        states = [repr(row) for row in s.execute(select(Instance.state))]
        audit = [repr(row) for row in s.execute(select(AuditEvent.data))]
    assert states and not any(id_number in t or phone in t for t in states + audit)


@then(parsers.parse('"{town}"{year:d}年{month:d}月的急难归纳为：'))
def summary(world: World, town: str, year: int, month: int, datatable: list[list[str]]) -> None:
    code = world.unit_code(town)
    with world.db.sessions() as s:
        row = monthly_summary(s, year, month, world.clock.now(), [code])[0]
    keys = {label: key for key, label in COLUMNS}
    got = {label: getattr(row, keys[label]) for label in table(datatable)}
    assert got == {label: int(v) for label, v in table(datatable).items()}, got


@then(parsers.parse('"{who}"不能发起"{process}"'))
def cannot_start(world: World, who: str, process: str) -> None:
    keys = {e["process_key"] for e in world.service.startable(world.actor(world.user(who)))}
    assert world.process_key(process) not in keys


@then(parsers.parse('"{who}"可以发起"{process}"'))
def can_start(world: World, who: str, process: str) -> None:
    keys = {e["process_key"] for e in world.service.startable(world.actor(world.user(who)))}
    assert world.process_key(process) in keys
