"""Steps of 系统管理.feature and 系统初始化.feature: people, units, liaisons, roles, the sign-in policy, import from
Excel and the audit log, driven through meeting/people.py, units_admin.py, liaisons.py, signin.py and
people_import.py as the pages and the command line call them. People are named by their names (姓名)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta
from typing import Any

from openpyxl import Workbook
from pytest_bdd import given, parsers, then, when
from sqlalchemy import func, select
from steps.common import checks_refusal, rows
from steps.world import World

from engine.errors import EngineError, FormError
from engine.models import AuditEvent, HumanTask
from meeting import accounts, admin_audit, liaisons, people, people_import, roles, signin, units_admin
from meeting.directory import groups_of
from meeting.models import ResolutionCoUnit, ResolutionItem, Unit, User
from meeting.statuses import ResolutionStatus, UnitEventKind
from web.filters import ACTION_LABELS

CONSOLE = people.Operator.command_line("operator")
HEADER = ["用户名*", "姓名*", "单位（代码或名称）", "职务", "电话", "电子邮箱", "联络员（是/否）"]
LABELS = {**ACTION_LABELS, **admin_audit.ACTION_LABELS}


def username(world: World, who: str) -> str:
    """A person by name (姓名), by the role they play in the rules, or by user name."""
    with world.db.sessions() as s:
        found = s.scalar(select(User.username).where(User.display_name == who))
    if found:
        return found
    try:
        return world.user(who)
    except AssertionError:
        return who


def operator(world: World, who: str) -> people.Operator:
    name = username(world, who)
    with world.db.sessions() as s:
        return people.Operator(name, frozenset(groups_of(s, name)))


def attempt(world: World, act: Any) -> Any:
    """One administrative change in one transaction; a refusal is kept for the next step to check."""
    assert world.error is None, f"上一步的拒绝还没有检查：{world.error}"
    world.take_snapshot()
    try:
        with world.db.transaction() as s:
            return act(s)
    except EngineError as exc:
        world.error = exc
        return None


def open_tasks_of(world: World, name: str) -> list[HumanTask]:
    return world.service.tasks_for(world.actor(username(world, name)), "open", limit=1000)


# ---------------------------------------------------------------------------------------------- given
@given(parsers.parse('"{unit}"有一项落实中的议定事项"{content}"'))
def given_open_item(world: World, unit: str, content: str) -> None:
    now = world.clock.now()
    with world.db.transaction() as s:
        item = ResolutionItem(number=f"HY-{world.unit_code(unit)}", content=content, lead_unit=world.unit_code(unit),
                              deadline=now + timedelta(days=30), status=ResolutionStatus.IN_PROGRESS,
                              created_at=now)
        item.co_unit_links = [ResolutionCoUnit(unit_code="minzheng", position=0)]
        s.add(item)
        s.flush()
        item_id = item.id
    world.service.start("resolution_item", world.actor("admin"), {"resolution_id": item_id})


@given(parsers.parse('"{unit}"联络员已签收"{task}"'))
def given_claimed(world: World, unit: str, task: str) -> None:
    found = world.find(unit, task)
    world.service.claim(found.id, world.actor(world.user(unit)))


# ---------------------------------------------------------------------------------------------- people
@when(parsers.parse('"{who}"新增人员"{name}"（用户名"{login}"），单位为"{unit}"'))
def when_create(world: World, who: str, name: str, login: str, unit: str) -> None:
    by = operator(world, who)
    attempt(world, lambda s: people.create(s, login, {"display_name": name, "unit_code": world.unit_code(unit)},
                                           by=by, at=world.clock.now()))


@when(parsers.parse('"{who}"新增人员"{name}"（用户名"{login}"），单位为"{unit}"，为联络员'))
def when_create_liaison(world: World, who: str, name: str, login: str, unit: str) -> None:
    by = operator(world, who)
    done = attempt(world, lambda s: people.create(
        s, login, {"display_name": name, "unit_code": world.unit_code(unit), "is_liaison": "1"}, by=by,
        at=world.clock.now()))
    world.one_time = {login: done[1]} if done else {}  # type: ignore[attr-defined]


@when(parsers.parse('"{who}"重置"{name}"的密码'))
def when_reset(world: World, who: str, name: str) -> None:
    by = operator(world, who)
    attempt(world, lambda s: people.reset_password(s, people.find(s, username(world, name)), by=by,
                                                   at=world.clock.now()))


@when(parsers.parse('"{who}"为"{name}"授予角色"{role}"'))
def when_grant(world: World, who: str, name: str, role: str) -> None:
    key = next((k for k, v in roles.ROLE_LABELS.items() if v == role), role)
    by = operator(world, who)

    def act(s: Any) -> None:
        target = people.find(s, username(world, name))
        people.set_roles(s, target, [*target.role_names, key], by=by, at=world.clock.now())

    attempt(world, act)


@when(parsers.parse('"{who}"取消"{name}"的角色"{role}"'))
def when_revoke(world: World, who: str, name: str, role: str) -> None:
    by = operator(world, who)

    def act(s: Any) -> None:
        target = people.find(s, username(world, name))
        people.set_roles(s, target, [r for r in target.role_names if roles.ROLE_LABELS.get(r) != role], by=by,
                         at=world.clock.now())

    attempt(world, act)


@when(parsers.parse('"{who}"停用"{name}"的账号'))
def when_deactivate(world: World, who: str, name: str) -> None:
    by = operator(world, who)
    attempt(world, lambda s: people.deactivate(s, people.find(s, username(world, name)), by=by,
                                               at=world.clock.now()))


@when(parsers.parse('"{who}"停用"{name}"的账号，待办交联席会议办公室办理'))
def when_deactivate_to_office(world: World, who: str, name: str) -> None:
    by = operator(world, who)
    attempt(world, lambda s: people.deactivate(s, people.find(s, username(world, name)), by=by,
                                               at=world.clock.now(), to_office=True))


@when(parsers.parse('"{who}"将密码最短长度设为{n:d}位'))
def when_policy(world: World, who: str, n: int) -> None:
    def act(s: Any) -> None:
        signin.save(s, replace(signin.load(s), min_length=n), actor=username(world, who), at=world.clock.now())

    attempt(world, act)


@then(parsers.parse('操作被拒绝，提示"{message}"'))
@checks_refusal
def then_refused(world: World, message: str) -> None:
    error = world.take_error(FormError)
    assert isinstance(error, FormError)
    assert any(message in m for m in error.errors.values()), error.errors


@then(parsers.parse('"{name}"的角色为"{labels}"'))
def then_roles(world: World, name: str, labels: str) -> None:
    with world.db.sessions() as s:
        held = [roles.ROLE_LABELS.get(r, r) for r in people.find(s, username(world, name)).role_names]
    assert "、".join(held) == labels, held


# ---------------------------------------------------------------------------------------------- liaisons
@when(parsers.parse('"{who}"备案"{unit}"的新联络员"{name}"（用户名"{login}"），转交已签收的待办'))
def when_liaison_change(world: World, who: str, unit: str, name: str, login: str) -> None:
    code = world.unit_code(unit)
    req = liaisons.LiaisonRequest(unit_code=code, effective_on=world.today(), note="原联络员工作调动",
                                  new_username=login, new_person={"display_name": name}, previous=code,
                                  hand_over=True)
    attempt(world, lambda s: liaisons.record(s, req, by=operator(world, who), at=world.clock.now()))
    world.ok()


@then(parsers.parse('"{name}"的待办中有"{task}"，由本人签收'))
def then_holds(world: World, name: str, task: str) -> None:
    login = username(world, name)
    found = [t for t in open_tasks_of(world, name) if t.name == task]
    assert found and found[0].assignee == login, [(t.name, t.assignee) for t in open_tasks_of(world, name)]


@then(parsers.parse('"{unit}"的现任联络员为"{names}"'))
def then_liaisons(world: World, unit: str, names: str) -> None:
    with world.db.sessions() as s:
        found = [u.display_name for u in people.active_liaisons(s, world.unit_code(unit))]
    assert "、".join(found) == names, found


@then(parsers.parse('"{unit}"的历史记录中有"{kind}"：{text}'))
def then_history(world: World, unit: str, kind: str, text: str) -> None:
    with world.db.sessions() as s:
        entries = [(e.kind, e.summary) for e in units_admin.history(s, world.unit_code(unit))]
    wanted = UnitEventKind.from_label(kind)
    assert any(k == wanted and text in summary for k, summary in entries), entries


@then(parsers.parse('"{unit}"的本单位待办同时交"联席会议办公室"办理'))
def then_office_helps(world: World, unit: str) -> None:
    group = f"unit:{world.unit_code(unit)}"
    with world.db.sessions() as s:
        tasks = s.scalars(select(HumanTask).where(HumanTask.state == "READY")).all()
    mine = [t for t in tasks if group in t.candidate_groups]
    assert mine and all("office" in t.candidate_groups and t.assignee is None for t in mine)


# ---------------------------------------------------------------------------------------------- units
@when(parsers.parse('"{unit}"申请更名为"{new_name}"，经办公室、召集人审核，区政府同意'))
def when_renamed(world: World, unit: str, new_name: str) -> None:
    world.start(world.user(unit), "membership_change")
    world.fill(unit, "提出调整申请", {"调整类型": "职能或名称变更", "涉及单位": unit, "新名称": new_name,
                                      "调整理由": "机构改革后职能调整"})
    world.ok()
    world.fill("联席会议办公室", "办公室审核", {"审核意见": "呈报召集人"})
    world.ok()
    world.fill("召集人", "召集人审核", {"审核意见": "报区政府研究"})
    world.ok()
    world.fill("区政府分管领导", "区政府研究确定", {"决定": "同意调整"})
    world.ok()


@when(parsers.parse('"{who}"将"{source}"并入"{target}"'))
def when_merge(world: World, who: str, source: str, target: str) -> None:
    a, b = world.unit_code(source), world.unit_code(target)
    attempt(world, lambda s: units_admin.merge(s, units_admin.get(s, a), units_admin.get(s, b),
                                               actor=username(world, who), at=world.clock.now(), note="机构改革"))
    world.ok()


@then(parsers.parse('单位名录中"{unit}"现名"{name}"'))
def then_unit_name(world: World, unit: str, name: str) -> None:
    with world.db.sessions() as s:
        row = s.get(Unit, world.unit_code(unit))
    assert row is not None and row.name == name


@then(parsers.parse('议定事项"{content}"由"{unit}"牵头，状态为"{status}"'))
def then_item(world: World, content: str, unit: str, status: str) -> None:
    item = world.item(content)
    assert item.lead_unit == world.unit_code(unit) and item.status == ResolutionStatus.from_label(status)


@then(parsers.parse('"{unit}"的人员的待办中有"{task}"'))
def then_unit_task(world: World, unit: str, task: str) -> None:
    code = world.unit_code(unit)
    with world.db.sessions() as s:
        login = s.scalar(select(User.username).where(User.unit_code == code, User.active).order_by(User.username))
    assert login is not None
    names = [t.name for t in world.service.tasks_for(world.actor(login), "open", limit=1000)]
    assert task in names, names


# ---------------------------------------------------------------------------------------------- import
def _sheet(world: World) -> list[list[Any]]:
    found: list[list[Any]] = getattr(world, "import_rows", [])
    return found


@given(parsers.parse("一份{n:d}人的导入表，其中第{a:d}行单位不存在、第{b:d}行用户名与第{c:d}行重复"))
def given_sheet(world: World, n: int, a: int, b: int, c: int) -> None:
    sheet: list[list[Any]] = [[f"daoru{i:02d}", f"人员{i:02d}", "区财政局", "科员", f"1380000{i:04d}", "", "否"]
                              for i in range(n)]
    sheet[a - 2][2] = "区不存在局"
    sheet[b - 2][0] = sheet[c - 2][0]
    world.import_rows = sheet  # type: ignore[attr-defined]
    world.import_fix = (a, b)  # type: ignore[attr-defined]


def _workbook(sheet: list[list[Any]]) -> bytes:
    book = Workbook()
    book.active.append(HEADER)
    for row in sheet:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@when(parsers.parse('"{who}"检查这份导入表'))
def when_check(world: World, who: str) -> None:
    with world.db.sessions() as s:
        world.import_plan = people_import.plan(s, people_import.read_workbook(_workbook(_sheet(world))))  # type: ignore[attr-defined]


@then(parsers.parse("检查报告{n:d}处问题："))
def then_problems(world: World, n: int, datatable: list[list[str]]) -> None:
    plan: people_import.ImportPlan = world.import_plan  # type: ignore[attr-defined]
    found = [{"行号": str(p.row), "列": p.column, "问题": p.message} for p in plan.problems]
    assert len(found) == n and found == rows(datatable), found


@when(parsers.parse('"{who}"不顾问题导入这份表'))
def when_import_anyway(world: World, who: str) -> None:
    data = _workbook(_sheet(world))
    by = operator(world, who)
    attempt(world, lambda s: people_import.apply(s, people_import.read_workbook(data), by=by, at=world.clock.now()))


@then("导入被拒绝，没有导入任何人员")
@checks_refusal
def then_import_refused(world: World) -> None:
    world.take_error(FormError)
    assert world.count(User, User.username.like("daoru%")) == 0


@when(parsers.parse('改正这两行后"{who}"导入这份表'))
def when_import_fixed(world: World, who: str) -> None:
    sheet = _sheet(world)
    a, b = world.import_fix  # type: ignore[attr-defined]
    sheet[a - 2][2] = "区财政局"
    sheet[b - 2][0] = f"daoru{b:02d}x"
    data = _workbook(sheet)
    by = operator(world, who)
    world.created = attempt(world, lambda s: people_import.apply(  # type: ignore[attr-defined]
        s, people_import.read_workbook(data), by=by, at=world.clock.now()))
    world.ok()


@then(parsers.parse("新增{n:d}人，每人各有一次性密码，首次登录须修改"))
def then_created(world: World, n: int) -> None:
    created: list[people_import.Created] = world.created  # type: ignore[attr-defined]
    assert len(created) == n and all(c.one_time_password for c in created)
    with world.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.username.like("daoru%"),
                                                                     User.must_change_password)) == n


# ---------------------------------------------------------------------------------------------- audit
@then("审计管理员查阅审计日志中的管理操作，依次为：")
def then_audit(world: World, datatable: list[list[str]]) -> None:
    with world.db.sessions() as s:
        entries = list(s.scalars(admin_audit.AuditQuery(scope="admin").select()))
    found = [{"操作人": e.actor or "", "操作": LABELS.get(e.action, e.action), "内容": e.comment or ""}
             for e in reversed(entries)]
    assert found == rows(datatable), found


@then(parsers.parse('审计日志中"{who}"办理了"{task}"'))
def then_audited_task(world: World, who: str, task: str) -> None:
    login = username(world, who)
    assert world.count(AuditEvent, AuditEvent.actor == login, AuditEvent.action == "complete",
                       AuditEvent.task_name == task) == 1


# ---------------------------------------------------------------------------------------------- sign-in
@when(parsers.parse('运维人员在命令行初始化系统管理员"{login}"'))
def when_bootstrap(world: World, login: str) -> None:
    with world.db.transaction() as s:
        _, password = people.bootstrap(s, login, roles.SYSADMIN, by=CONSOLE, at=world.clock.now())
    world.one_time = {login: password}  # type: ignore[attr-defined]


def _sign_in(world: World, login: str, password: str) -> tuple[User | None, signin.PasswordState | None]:
    with world.db.transaction() as s:
        result = accounts.authenticate(s, login, password, world.clock.now())
        if result.user is None:
            return None, None
        return result.user, signin.state(result.user, signin.load(s), world.clock.now())


@then(parsers.parse('"{login}"用一次性密码登录后须先修改密码'))
def then_must_change(world: World, login: str) -> None:
    user, state = _sign_in(world, login, world.one_time[login])  # type: ignore[attr-defined]
    assert user is not None and state is not None and state.must_change


@when(parsers.parse('"{login}"用一次性密码登录并修改密码为"{password}"'))
def when_first_sign_in(world: World, login: str, password: str) -> None:
    one_time = world.one_time[login]  # type: ignore[attr-defined]
    assert _sign_in(world, login, one_time)[0] is not None
    with world.db.transaction() as s:
        signin.change_own(s, people.find(s, login), one_time, password, password, at=world.clock.now())
    world.one_time.pop(login)  # type: ignore[attr-defined]


@then(parsers.parse('"{login}"用密码"{password}"登录，无须再修改密码'))
def then_signs_in(world: World, login: str, password: str) -> None:
    user, state = _sign_in(world, login, password)
    assert user is not None and state is not None and state.must_change is None


@when(parsers.parse('"{who}"提出议题"{title}"'))
def when_propose(world: World, who: str, title: str) -> None:
    login = username(world, who)
    actor = world.actor(login)
    instance_id = world.service.start("topic_proposal", actor).instance_id
    world.remember_instance("topic_proposal", instance_id)
    task = next(t for t in world.service.tasks_for(actor, "open", limit=100) if t.bpmn_id == "propose")
    values = world.form_values(task, {"议题名称": title, "背景情况": f"{title}的背景情况。",
                                      "建议处理意见": "建议提请联席会议研究。", "紧急程度": "一般"})
    world.service.complete(task.id, actor, values)


@then(parsers.parse('议题"{title}"等待"联席会议办公室"审核'))
def then_topic_waits(world: World, title: str) -> None:
    topic = world.topic(title)
    assert topic.status == "submitted"
    with world.db.sessions() as s:
        waiting = s.scalars(select(HumanTask).where(HumanTask.state == "READY", HumanTask.bpmn_id == "screen")).all()
    assert any("office" in t.candidate_groups for t in waiting)
