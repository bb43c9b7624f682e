"""Administration in the domain: people, roles and 三员分立, the sign-in policy, units and merges, liaison
changes, import from Excel, and every change in the audit log."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.world import walkthrough
from engine.clock import ManualClock
from engine.db import Database
from engine.errors import FormError
from engine.models import AuditEvent, HumanTask
from meeting import liaisons, passwords, people, people_import, roles, signin, units_admin
from meeting.demo import Walkthrough
from meeting.directory import groups_of
from meeting.models import (
    MembershipChange,
    PasswordHistory,
    ResolutionCoUnit,
    ResolutionItem,
    Unit,
    User,
)
from meeting.passwords import verify_password
from meeting.statuses import UnitEventKind

SYS = people.Operator("sysadmin", frozenset({"sysadmin"}))
SEC = people.Operator("secadmin", frozenset({"secadmin"}))
OFFICE = people.Operator("office", frozenset({"office", "unit:minzheng"}))
CONSOLE = people.Operator.command_line("root")


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with small parameters: the tests hash dozens of passwords (production keeps the slow defaults)."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def w(sqlite_db: Database, clock: ManualClock) -> Walkthrough:
    return walkthrough(sqlite_db, clock)


@pytest.fixture
def wb(database: Database, clock: ManualClock) -> Walkthrough:
    """Both backends, for what moves tasks under row locks and runs bulk updates."""
    return walkthrough(database, clock)


def user(s: Session, name: str) -> User:
    return people.find(s, name)


def admin_actions(w: Walkthrough) -> list[str]:
    with w.db.sessions() as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.action.startswith("admin."))
                              .order_by(AuditEvent.id)))


def open_item(w: Walkthrough, lead: str, co: tuple[str, ...] = ()) -> int:
    """An issued resolution item with its implementation running (tasks for the lead and co-units)."""
    now = w.clock.now()
    with w.db.transaction() as s:
        item = ResolutionItem(number=f"HY-T-{lead}", content=f"{lead}牵头的事项", lead_unit=lead,
                              deadline=now + timedelta(days=30), status="in_progress", created_at=now)
        item.co_unit_links = [ResolutionCoUnit(unit_code=c, position=i) for i, c in enumerate(co)]
        s.add(item)
        s.flush()
        item_id = item.id
    w.service.start("resolution_item", w.actor("admin"), {"resolution_id": item_id})
    return item_id


# ---------------------------------------------------------------------------------------------- roles
def test_the_three_administrators_and_the_operations_role_exclude_each_other() -> None:
    assert roles.exclusive_conflict(["sysadmin", "office"]) is None
    assert "系统管理员、审计管理员" in (roles.exclusive_conflict(["auditor", "sysadmin"]) or "")
    assert roles.exclusive_conflict(["secadmin", "admin"])
    assert roles.check_key("town:laocheng:window") is None
    assert roles.check_key("unit:caizheng")
    assert roles.check_key("Robert'); DROP")
    assert roles.group_label("town:laocheng:mzb", {"laocheng": "老城街道办"}) == "老城街道办民政办"


def test_town_groups_are_offered_for_every_town(w: Walkthrough) -> None:
    with w.db.sessions() as s:
        keys = {g.key for g in roles.grantable(s)}
    assert {"sysadmin", "secadmin", "auditor", "approver", "check", "town:laocheng:window",
            "town:wuli:team"} <= keys


def test_one_person_cannot_hold_two_administrator_roles(w: Walkthrough) -> None:
    with w.db.transaction() as s:
        with pytest.raises(FormError, match="三员分立"):
            people.set_roles(s, user(s, "auditor"), ["auditor", "sysadmin"], by=SEC, at=w.clock.now())
        with pytest.raises(FormError, match="自己"):
            people.set_roles(s, user(s, "secadmin"), ["secadmin", "office"], by=SEC, at=w.clock.now())
        people.set_roles(s, user(s, "caizheng"), ["town:laocheng:window", "check"], by=SEC, at=w.clock.now())
    with w.db.sessions() as s:
        assert groups_of(s, "caizheng") == ["check", "town:laocheng:window", "unit:caizheng"]
    with w.db.transaction() as s, pytest.raises(FormError, match="三员分立"):
        people.create(s, "both", {"display_name": "两者"}, by=CONSOLE, at=w.clock.now(), grant=("sysadmin", "auditor"))


def test_the_last_system_administrator_stays(w: Walkthrough) -> None:
    now = w.clock.now()
    with w.db.transaction() as s:
        with pytest.raises(FormError, match="最后一名系统管理员"):
            people.deactivate(s, user(s, "sysadmin"), by=CONSOLE, at=now)
        with pytest.raises(FormError, match="最后一名系统管理员"):
            people.set_roles(s, user(s, "sysadmin"), [], by=SEC, at=now)
        people.create(s, "sys2", {"display_name": "第二系统管理员"}, by=CONSOLE, at=now, grant=("sysadmin",))
    with w.db.transaction() as s:
        with pytest.raises(FormError, match="自己"):
            people.deactivate(s, user(s, "sysadmin"), by=SYS, at=now)
        people.deactivate(s, user(s, "sysadmin"), by=people.Operator("sys2", frozenset({"sysadmin"})), at=now)
    with w.db.sessions() as s:
        assert not user(s, "sysadmin").active


def test_the_system_administrator_leaves_the_other_administrators_accounts_alone(w: Walkthrough) -> None:
    with w.db.transaction() as s:
        for name in ("auditor", "secadmin"):
            with pytest.raises(FormError, match="命令行"):
                people.reset_password(s, user(s, name), by=SYS, at=w.clock.now())
            with pytest.raises(FormError, match="命令行"):
                people.deactivate(s, user(s, name), by=SYS, at=w.clock.now())
        assert people.reset_password(s, user(s, "auditor"), by=CONSOLE, at=w.clock.now())


def test_an_administrator_cannot_give_themselves_a_units_work(w: Walkthrough) -> None:
    """三员分立: a unit's membership brings its tasks and records, so no one joins a unit or becomes its liaison on
    their own say in the browser; and the office replacing a liaison cannot deactivate an administrator's account."""
    with w.db.transaction() as s:
        me = user(s, "sysadmin")
        profile = {"display_name": me.display_name, "unit_code": "caizheng", "post": "", "phone": "", "email": "",
                   "is_liaison": False}
        with pytest.raises(FormError, match="三员分立"):
            people.update(s, me, profile, by=SYS, at=w.clock.now())
        assert me.unit_code is None and not me.is_liaison
        people.update(s, me, {**profile, "unit_code": None, "display_name": "王伟"}, by=SYS, at=w.clock.now())
        assert me.display_name == "王伟"  # the rest of one's own profile stays one's own
        for name in ("auditor", "secadmin"):
            with pytest.raises(FormError, match="命令行"):
                people.deactivate(s, user(s, name), by=OFFICE, at=w.clock.now())


# ---------------------------------------------------------------------------------------------- sign-in policy
def test_passwords_follow_the_policy_and_are_not_reused(sqlite_db: Database, clock: ManualClock) -> None:
    policy = signin.SignInPolicy()
    assert signin.problems(policy, "short1A") == ["密码至少 8 位"]
    assert "至少 3 类" in signin.problems(policy, "alllowercase")[0]
    assert signin.problems(policy, "Caizheng#2026", "caizheng") == ["密码不能包含用户名"]
    assert signin.problems(policy, "Bx7#kq9LmZ") == []
    one_time = signin.one_time_password(policy)
    assert len(one_time) >= 12 and signin.problems(policy, one_time) == []

    now = clock.now()
    with sqlite_db.transaction() as s:
        s.add(Unit(code="caizheng", name="区财政局", kind="member", sort=1))
        u = User(username="zhang", display_name="张三", unit_code="caizheng", active=True, created_at=now)
        s.add(u)
        s.flush()
        first = signin.issue_one_time(s, u, at=now)
        assert u.must_change_password and verify_password(u.password_hash, first)
        for n in range(6):
            signin.change_own(s, u, first if n == 0 else f"Secret#{n - 1}x", f"Secret#{n}x", f"Secret#{n}x",
                              at=now + timedelta(minutes=n))
        assert not u.must_change_password
        with pytest.raises(FormError, match="最近 5 次"):
            signin.set_chosen(s, u, "Secret#2x", at=now)
        signin.set_chosen(s, u, "Secret#0x", at=now)  # six passwords ago: allowed again
        with pytest.raises(FormError) as wrong:
            signin.change_own(s, u, "not-it", "Another#1x", "Another#1x", at=now)
        assert wrong.value.errors == {"current": "当前密码不正确"}
        assert s.scalar(select(func.count()).select_from(PasswordHistory)) == 8


def test_password_age_warning_expiry_and_first_sign_in(sqlite_db: Database, clock: ManualClock) -> None:
    now = clock.now()
    policy = signin.SignInPolicy(max_age_days=90, warn_days=14)
    u = User(username="li", display_name="李四", active=True, created_at=now, password_changed_at=now)
    assert signin.state(u, policy, now + timedelta(days=10)) == signin.PasswordState(None, 80)
    assert signin.state(u, policy, now + timedelta(days=80)).warn(policy)
    assert signin.state(u, policy, now + timedelta(days=90)).must_change
    assert signin.state(u, signin.SignInPolicy(max_age_days=0), now + timedelta(days=900)).must_change is None
    u.must_change_password = True
    assert "一次性密码" in (signin.state(u, policy, now).must_change or "")
    assert signin.state(u, signin.SignInPolicy(first_login_change=False), now).must_change is None


def test_the_security_administrator_sets_the_policy_within_safe_bounds(w: Walkthrough) -> None:
    with pytest.raises(FormError) as bad:
        signin.parse({"min_length": "6", "min_classes": "3", "history": "5", "max_age_days": "90",
                      "warn_days": "14", "idle_minutes": "２０"})
    assert set(bad.value.errors) == {"min_length", "idle_minutes"}
    chosen = signin.parse({"min_length": "12", "min_classes": "4", "history": "10", "max_age_days": "60",
                           "warn_days": "7", "idle_minutes": "15", "first_login_change": "1"})
    with w.db.transaction() as s:
        signin.save(s, chosen, actor="secadmin", at=w.clock.now())
    with w.db.sessions() as s:
        assert signin.load(s) == chosen
        entry = s.scalar(select(AuditEvent).where(AuditEvent.action == "admin.policy.update"))
        assert entry is not None and entry.actor == "secadmin"
        assert entry.data["changes"]["密码最短长度（位）"] == [8, 12]


# ---------------------------------------------------------------------------------------------- people
def test_a_unit_keeps_a_liaison(wb: Walkthrough) -> None:
    """Deactivating the last liaison asks for a successor or hands the unit's open tasks to the office."""
    item_id = open_item(wb, "caizheng")
    now = wb.clock.now()
    with wb.db.transaction() as s:
        with pytest.raises(FormError) as refused:
            people.deactivate(s, user(s, "caizheng"), by=SYS, at=now)
        assert "唯一的联络员" in refused.value.errors["successor"]
        deputy, _ = people.create(s, "caizheng2", {"display_name": "王五", "unit_code": "caizheng"}, by=SYS, at=now)
    wb.service.claim(wb.task("caizheng", "implement").id, wb.actor("caizheng"))
    with wb.db.transaction() as s:
        assert people.deactivate(s, user(s, "caizheng"), by=SYS, at=now, successor="caizheng2") == 1
        assert user(s, "caizheng2").is_liaison
    assert wb.task("caizheng2", "implement", resolution_id=item_id).assignee == "caizheng2"

    with wb.db.transaction() as s:  # the last one again, this time without a successor: the office helps out
        people.deactivate(s, user(s, "caizheng2"), by=SYS, at=now, to_office=True)
    task = wb.task("office", "implement", resolution_id=item_id)
    assert task.assignee is None and set(task.candidate_groups) == {"unit:caizheng", "office"}
    assert "admin.tasks.to_office" in admin_actions(wb)


def test_a_person_moved_to_another_unit_leaves_the_tasks_behind(w: Walkthrough) -> None:
    open_item(w, "renshe")
    now = w.clock.now()
    with w.db.transaction() as s:
        people.create(s, "renshe2", {"display_name": "赵六", "unit_code": "renshe", "is_liaison": "1"}, by=SYS, at=now)
    w.service.claim(w.task("renshe", "implement").id, w.actor("renshe"))
    with w.db.transaction() as s:
        people.update(s, user(s, "renshe"), {"display_name": "原人社局联络员", "unit_code": "yibao"}, by=SYS, at=now)
    task = w.task("renshe2", "implement")
    assert task.assignee is None
    with w.db.sessions() as s:
        assert groups_of(s, "renshe") == ["unit:yibao"]
        changes = s.scalars(select(AuditEvent.data).where(AuditEvent.action == "admin.user.update")).all()[-1]
        assert changes["changes"]["unit_code"] == ["区人社局", "区医保局"]


def test_bad_profiles_are_refused_with_every_reason(w: Walkthrough) -> None:
    with w.db.transaction() as s, pytest.raises(FormError) as bad:
        people.create(s, "ok.name", {"display_name": "", "unit_code": "nowhere", "phone": "abc",
                                     "email": "not-an-address", "is_liaison": "1"}, by=SYS, at=w.clock.now())
    assert set(bad.value.errors) == {"display_name", "unit_code", "phone", "email"}
    with w.db.transaction() as s, pytest.raises(FormError, match="已被使用"):
        people.create(s, "Caizheng", {"display_name": "重名"}, by=SYS, at=w.clock.now())
    with w.db.transaction() as s, pytest.raises(FormError, match="角色由安全管理员授予"):
        people.create(s, "newbie", {"display_name": "新人"}, by=SYS, at=w.clock.now(), grant=("office",))


# ---------------------------------------------------------------------------------------------- units
def signed_in(w: Walkthrough, username: str) -> Any:
    """The user a web request of ``username`` acts as (web/auth.py reads them in one statement)."""
    from web import create_app
    from web.auth import load_web_user

    app = create_app({"DATABASE_URL": w.db.url, "SECRET_KEY": "test-secret", "CLOCK": w.clock})
    with app.app_context():
        return load_web_user(username)


def test_a_merged_unit_hands_its_people_items_and_tasks_to_the_surviving_unit(wb: Walkthrough) -> None:
    lead_item = open_item(wb, "fupin")
    co_item = open_item(wb, "weijian", co=("fupin", "yibao"))
    now = wb.clock.now()
    with wb.db.transaction() as s:
        result = units_admin.merge(s, units_admin.get(s, "fupin"), units_admin.get(s, "minzheng"),
                                   actor="sysadmin", at=now, note="机构改革")
    assert (result.people, result.items, result.tasks) == (1, 2, 2)
    with wb.db.sessions() as s:
        fupin = s.get(Unit, "fupin")
        assert fupin is not None and not fupin.active and fupin.merged_into == "minzheng"
        assert s.get(ResolutionItem, lead_item).lead_unit == "minzheng"  # type: ignore[union-attr]
        co = s.get(ResolutionItem, co_item)
        assert co is not None and sorted(co.co_units) == ["minzheng", "yibao"]
        assert [e.kind for e in units_admin.history(s, "fupin")] == [UnitEventKind.MERGED]
        assert [e.kind for e in units_admin.history(s, "minzheng")] == [UnitEventKind.ABSORBED]
        # The former 扶贫局 liaison now belongs to 民政局, and everyone there acts for the old code as well.
        assert groups_of(s, "fupin") == ["unit:minzheng", "unit:fupin"]
        for name in ("fupin", "minzheng", "convener", "office"):
            assert signed_in(wb, name).groups == frozenset(groups_of(s, name)), name
        assert signed_in(wb, "fupin").unit_name == s.get(Unit, "minzheng").name  # type: ignore[union-attr]
    implement = wb.task("minzheng", "implement", resolution_id=lead_item)
    assert implement.candidate_groups == ["unit:minzheng"]
    co_task = wb.task("minzheng", "co_input", resolution_id=co_item, co_unit="fupin")
    wb.service.claim(co_task.id, wb.actor("minzheng"))
    wb.service.complete(co_task.id, wb.actor("minzheng"), {"co_opinion": "已并入民政局，由民政局配合。"})


def test_rename_keeps_the_code_and_retire_needs_the_work_moved_first(w: Walkthrough) -> None:
    open_item(w, "jingmao")
    now = w.clock.now()
    with w.db.transaction() as s:
        unit = units_admin.get(s, "jingmao")
        units_admin.update_unit(s, unit, {"name": "区商务局", "kind": "member", "duties": unit.duties}, actor="sysadmin",
                                at=now)
        with pytest.raises(FormError, match="未办结事项1项"):
            units_admin.retire(s, unit, actor="sysadmin", at=now)
        with pytest.raises(FormError, match="牵头单位不能空缺"):
            units_admin.update_unit(s, units_admin.get(s, "minzheng"), {"name": "区民政局", "kind": "member"},
                                    actor="sysadmin", at=now)
        new = units_admin.create(s, {"code": "yingji", "name": "区应急管理局", "kind": "invited"}, actor="sysadmin",
                                 at=now)
        units_admin.retire(s, new, actor="sysadmin", at=now, note="暂不参加")
    assert w.task("jingmao", "implement").candidate_groups == ["unit:jingmao"]
    with w.db.sessions() as s:
        assert [e.summary for e in units_admin.history(s, "jingmao")] == ["“区经贸局”更名为“区商务局”"]
    assert admin_actions(w)[-3:] == ["admin.unit.update", "admin.unit.create", "admin.unit.retire"]


def test_a_membership_decision_shows_in_the_units_history(w: Walkthrough) -> None:
    from meeting.directory import apply_membership_change

    with w.db.transaction() as s:
        change = MembershipChange(kind="rename", unit_code="fupin", new_unit_name="区乡村振兴局", reason="机构改革",
                                  status="approved", created_at=w.clock.now())
        s.add(change)
        s.flush()
        apply_membership_change(s, change)
    with w.db.sessions() as s:
        [entry] = units_admin.history(s, "fupin")
        assert entry.kind == UnitEventKind.MEMBERSHIP and "更名为“区乡村振兴局”" in entry.summary
        assert entry.change_id is not None
    assert admin_actions(w)[-1] == "admin.unit.membership"


# ---------------------------------------------------------------------------------------------- liaisons
def test_a_liaison_change_hands_over_what_the_previous_liaison_claimed(wb: Walkthrough) -> None:
    item_id = open_item(wb, "tongji")
    wb.start("tongji", "topic_proposal")  # 提出议题, given to whoever started it
    wb.service.claim(wb.task("tongji", "implement").id, wb.actor("tongji"))
    req = liaisons.LiaisonRequest(unit_code="tongji", effective_on="2026-03-02", note="原联络员调任",
                                  new_username="tongji.wang", new_person={"display_name": "王统计", "phone": "0915-1234567"},
                                  previous="tongji", hand_over=True, deactivate_previous=True)
    with wb.db.transaction() as s:
        done = liaisons.record(s, req, by=OFFICE, at=wb.clock.now())
    assert done.handed_over == 2 and done.one_time_password
    assert wb.task("tongji.wang", "implement", resolution_id=item_id).assignee == "tongji.wang"
    assert wb.task("tongji.wang", "propose").assignee == "tongji.wang"
    with wb.db.sessions() as s:
        assert not user(s, "tongji").active and user(s, "tongji.wang").is_liaison
        assert units_admin.history(s, "tongji")[0].kind == UnitEventKind.LIAISON
    assert {"admin.user.create", "admin.liaison.change", "admin.user.deactivate"} <= set(admin_actions(wb))


# ---------------------------------------------------------------------------------------------- import
def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["用户名*", "姓名*", "单位（代码或名称）", "职务", "电话", "电子邮箱", "联络员（是/否）"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def twenty_people(bad: bool) -> list[list[Any]]:
    rows: list[list[Any]] = [[f"person{i:02d}", f"人员{i:02d}", "区财政局" if i % 2 else "caizheng", "科员",
                              13800000000 + i, "", "否"] for i in range(20)]
    if bad:
        rows[4][2] = "区不存在局"  # row 6 of the sheet
        rows[11][0] = "person03"  # row 13: the same user name as row 5
    return rows


def test_an_import_with_two_bad_rows_reports_both_and_creates_nobody(wb: Walkthrough) -> None:
    with wb.db.transaction() as s:
        rows = people_import.read_workbook(workbook(twenty_people(bad=True)))
        plan = people_import.plan(s, rows)
        assert [(p.row, p.column) for p in plan.problems] == [(6, "单位"), (13, "用户名")]
        with pytest.raises(FormError):
            people_import.apply(s, rows, by=SYS, at=wb.clock.now())
    with wb.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.username.like("person%"))) == 0
    with wb.db.transaction() as s:
        created = people_import.apply(s, people_import.read_workbook(workbook(twenty_people(bad=False))), by=SYS,
                                      at=wb.clock.now())
    assert len(created) == 20 and all(c.one_time_password for c in created)
    with wb.db.sessions() as s:
        assert user(s, "person07").phone == "13800000007" and user(s, "person07").must_change_password
    assert admin_actions(wb).count("admin.user.create") == 20 and "admin.user.import" in admin_actions(wb)


def test_what_is_not_a_workbook_is_refused(sqlite_db: Database) -> None:
    with pytest.raises(FormError, match="无法读取"):
        people_import.read_workbook(b"PK\x03\x04 not really a zip")
    book = Workbook()
    book.active.append(["姓名", "电话"])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(FormError, match="缺少表头：用户名"):
        people_import.read_workbook(out.getvalue())
    with sqlite_db.sessions() as s:
        assert people_import.template(s)[:2] == b"PK"


def test_every_administrative_change_is_in_the_audit_log(w: Walkthrough) -> None:
    now = w.clock.now()
    with w.db.transaction() as s:
        person, _ = people.create(s, "audited", {"display_name": "被审计者", "unit_code": "shenji"}, by=SYS, at=now)
        people.update(s, person, {"display_name": "被审计者", "unit_code": "shenji", "phone": "0915-7654321"},
                      by=SYS, at=now)
        people.reset_password(s, person, by=SYS, at=now)
        people.set_roles(s, person, ["cc"], by=SEC, at=now)
        people.deactivate(s, person, by=SYS, at=now)
        people.reactivate(s, person, by=SYS, at=now)
    with w.db.sessions() as s:
        rows = s.execute(select(AuditEvent.action, AuditEvent.actor, AuditEvent.comment)
                         .where(AuditEvent.action.startswith("admin.")).order_by(AuditEvent.id)).all()
    assert [(a, b) for a, b, _ in rows] == [
        ("admin.user.create", "sysadmin"), ("admin.user.update", "sysadmin"), ("admin.user.password_reset", "sysadmin"),
        ("admin.user.roles", "secadmin"), ("admin.user.deactivate", "sysadmin"), ("admin.user.reactivate", "sysadmin")]
    assert all("被审计者" in c for _, _, c in rows)
    assert not any("password" in str(r).lower() and "Secret" in str(r) for r in rows)


def test_open_tasks_of_a_group_move_and_stay_consistent(w: Walkthrough) -> None:
    """The task row and its candidate rows change together (the inbox reads the candidate rows)."""
    open_item(w, "zhujian")
    with w.db.transaction() as s:
        units_admin.merge(s, units_admin.get(s, "zhujian"), units_admin.get(s, "fagai"), actor="sysadmin",
                          at=w.clock.now())
    with w.db.sessions() as s:
        task = s.scalar(select(HumanTask).where(HumanTask.bpmn_id == "implement"))
        assert task is not None and task.candidate_groups == ["unit:fagai"]
    assert [t.bpmn_id for t in w.service.tasks_for(w.actor("fagai"), "claimable")] == ["implement"]


def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b"\0" * (50 * 1024 * 1024))
    assert len(out.getvalue()) < people_import.MAX_BYTES
    with pytest.raises(FormError, match="解压后过大"):
        people_import.read_workbook(out.getvalue())
