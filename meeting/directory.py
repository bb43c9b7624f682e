"""The directory: units (seeded from the rules), users, roles and the groups a user acts for."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from meeting import admin_audit
from meeting.models import MembershipChange, Unit, UnitEvent, User, UserRole
from meeting.roles import town_group
from meeting.statuses import ChangeStatus, UnitEventKind, UnitKind

DEMO_PASSWORD = "demo123"
SEED_FILE = Path(__file__).resolve().parent / "seed" / "units.json"


def load_seed() -> list[dict[str, Any]]:
    """The unit rows shipped in ``meeting/seed/units.json``."""
    text = SEED_FILE.read_text(encoding="utf-8")
    units: list[dict[str, Any]] = json.loads(text)["units"]
    return units


def seed_directory(session: Session) -> int:
    """Insert the seeded units that are missing; rows already present (perhaps edited by an administrator or
    changed by a membership decision) are left alone. Returns how many were inserted."""
    existing = set(session.scalars(select(Unit.code)))
    added = 0
    for row in load_seed():
        if row["code"] in existing:
            continue
        session.add(
            Unit(
                code=row["code"],
                name=row["name"],
                kind=row["kind"],
                duties=row.get("duties", ""),
                is_lead=bool(row.get("lead", False)),
                active=True,
                sort=int(row["sort"]),
            )
        )
        added += 1
    session.flush()
    return added


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    unit_code: str | None
    roles: tuple[str, ...]
    liaison: bool = False


def _demo_users(session: Session) -> list[DemoUser]:
    users = [
        DemoUser("office", "联席会议办公室", "minzheng", ("office",)),
        DemoUser("convener", "召集人（区民政局主要负责人）", "minzheng", ("convener",)),
        DemoUser("district", "区政府分管领导", None, ("district",)),
        DemoUser("designer", "流程设计员", None, ("designer",)),
        DemoUser("approver", "流程发布审批人", None, ("approver",)),  # publishes the designer's versions
        DemoUser("admin", "运维管理员", None, ("admin",)),
        DemoUser("chaosong", "抄送阅文人员", None, ("cc",)),
        DemoUser("hedui", "区民政局核对办公室", "minzheng", ("check",)),  # 家庭经济状况核对
        # 三员分立: three separate people administer the system (meeting/roles.py).
        DemoUser("sysadmin", "系统管理员", None, ("sysadmin",)),
        DemoUser("secadmin", "安全管理员", None, ("secadmin",)),
        DemoUser("auditor", "审计管理员", None, ("auditor",)),
    ]
    liaison_units = session.scalars(
        select(Unit).where(Unit.kind.in_(("member", "town")), Unit.active).order_by(Unit.sort)
    )
    users += [DemoUser(u.code, f"{u.name}联络员", u.code, (), liaison=True) for u in liaison_units]
    # One town fully staffed (五里镇: window, 民政办, rapid-response team, the leader in charge) and another town's
    # window, so that a town seeing only its own cases can be tried (seed 各镇).
    towns = {u.code: u.name for u in session.scalars(select(Unit).where(Unit.kind == "town", Unit.active))}
    for code, kind, label in DEMO_TOWN_STAFF:
        if code in towns:
            users.append(DemoUser(f"{code}_{kind}", f"{towns[code]}{label}", code, (town_group(code, kind),)))
    return users


DEMO_TOWN_STAFF = (("wuli", "window", "便民服务中心窗口"), ("wuli", "mzb", "民政办"), ("wuli", "team", "急难问题快速响应队员"),
                   ("wuli", "leader", "分管领导"), ("laocheng", "window", "便民服务中心窗口"))


def create_demo_users(
    session: Session,
    password_hasher: Callable[[str], str] | None,
    password: str = DEMO_PASSWORD,
    now: datetime | None = None,
) -> list[str]:
    """Create the demo users that are missing (office, convener, district, designer, admin, the cc reader
    ``chaosong``, the three administrators ``sysadmin``, ``secadmin`` and ``auditor``, and one liaison per member
    unit and town, named by the unit code). Existing users keep their
    password; missing demo roles are added back. Returns the names of the users created."""
    now = now or clock.now()
    password_hash = password_hasher(password) if password_hasher else None
    created = []
    for demo in _demo_users(session):
        user = session.scalar(select(User).where(User.username == demo.username))
        if user is None:
            user = User(
                username=demo.username,
                display_name=demo.display_name,
                unit_code=demo.unit_code,
                password_hash=password_hash,
                active=True,
                created_at=now,
                is_liaison=demo.liaison,
                password_changed_at=now if password_hash else None,
            )
            session.add(user)
            created.append(demo.username)
        for role in demo.roles:
            if role not in user.role_names:
                user.roles.append(UserRole(role=role))
    session.flush()
    return created


def groups_of(session: Session, username: str) -> list[str]:
    """The candidate groups a user acts for: their roles, then ``unit:<code>``. Unknown or inactive: none."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        return []
    return acting_groups(session, user)


def acting_groups(session: Session, user: User) -> list[str]:
    """``user_groups`` plus the groups of units merged into the user's unit: tasks that running instances still
    address to a merged unit's code reach the people of the unit that took it over."""
    groups = user_groups(user)
    if user.unit_code:
        groups += [f"unit:{code}" for code in merged_codes(session, user.unit_code)]
    return groups


MAX_MERGE_DEPTH = 20


def current_code(session: Session, code: str) -> str:
    """The unit that now stands for ``code``: itself, or the unit it was merged into (followed to the end)."""
    seen = {code}
    for _ in range(MAX_MERGE_DEPTH):
        target = session.scalar(select(Unit.merged_into).where(Unit.code == code))
        if not target or target in seen:
            return code
        seen.add(target)
        code = target
    return code


def merged_codes(session: Session, code: str) -> list[str]:
    """Codes of the units merged (directly or through others) into ``code``."""
    found: list[str] = []
    frontier = [code]
    for _ in range(MAX_MERGE_DEPTH):
        if not frontier:
            break
        rows = list(session.scalars(select(Unit.code).where(Unit.merged_into.in_(frontier))))
        frontier = [c for c in rows if c not in found and c != code]
        found += frontier
    return found


def user_groups(user: User) -> list[str]:
    """``groups_of`` for a user row already loaded (and active)."""
    groups = list(user.role_names)
    if user.unit_code:
        groups.append(f"unit:{user.unit_code}")
    return groups


def unit_name(session: Session, code: str | None) -> str:
    """The unit's name, or the code itself when it is not in the directory."""
    if not code:
        return ""
    unit = session.get(Unit, code)
    return unit.name if unit else code


def unit_names(session: Session, codes: list[str]) -> dict[str, str]:
    rows = session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes))).all()
    names = {code: name for code, name in rows}
    return {code: names.get(code, code) for code in codes}


def member_unit_codes(session: Session) -> list[str]:
    """Active member units in the order of the rules."""
    return list(
        session.scalars(select(Unit.code).where(Unit.kind == "member", Unit.active).order_by(Unit.sort))
    )


def lead_unit_code(session: Session) -> str | None:
    """The lead unit (区民政局), where the joint-meeting office sits."""
    return session.scalar(select(Unit.code).where(Unit.is_lead, Unit.active).order_by(Unit.sort).limit(1))


def apply_membership_change(session: Session, change: MembershipChange) -> Unit:
    """Apply an approved change to the units table.

    join: the unit becomes an active member, placed after the current members; leave: it stays in the
    directory as an invited department (its users and history remain); rename: new name and/or duties.
    """
    unit = session.get(Unit, change.unit_code)
    if unit is None:
        raise LookupError(f"unit {change.unit_code!r} not in the directory")
    before = {"name": unit.name, "kind": unit.kind, "duties": unit.duties}
    if change.kind == "join":
        last = session.scalar(select(func.max(Unit.sort)).where(Unit.kind == "member")) or 0
        unit.kind = "member"
        unit.active = True
        unit.sort = last + 1
    elif change.kind == "leave":
        unit.kind = "invited"
        unit.is_lead = False
    elif change.kind != "rename":
        raise ValueError(f"unknown membership change kind {change.kind!r}")
    if change.new_unit_name:
        unit.name = change.new_unit_name
    if change.new_duties:
        unit.duties = change.new_duties
    change.status = ChangeStatus.APPLIED
    _record_membership(session, unit, change, before)
    session.flush()
    return unit


def _record_membership(session: Session, unit: Unit, change: MembershipChange, before: dict[str, str]) -> None:
    """The decision in the unit's history and the audit log, like any other change of the directory."""
    now = clock.now()
    what = {"join": "增加为成员单位", "leave": "退出成员单位，改为列席单位", "rename": "职能或名称变更"}[change.kind]
    details = []
    if unit.name != before["name"]:
        details.append(f"“{before['name']}”更名为“{unit.name}”")
    if unit.duties != before["duties"]:
        details.append("职责分工调整")
    if unit.kind != before["kind"]:
        details.append(f"由{UnitKind.label_of(before['kind'])}调整为{UnitKind.label_of(unit.kind)}")
    summary = f"经区政府研究同意（{change.key}）：{what}" + (f"，{'、'.join(details)}" if details else "")
    session.add(UnitEvent(unit_code=unit.code, kind=UnitEventKind.MEMBERSHIP, summary=summary,
                          data={"change": change.key, "reason": change.reason}, actor=None,
                          change_id=change.id, at=now))
    after = {"name": unit.name, "kind": unit.kind, "duties": unit.duties}
    admin_audit.record(session, "admin.unit.membership", actor="system", at=now, target=f"unit:{unit.code}",
                       summary=f"{unit.name}：{summary}", data={"changes": admin_audit.diff(before, after)})


def person_with_role(session: Session, role: str) -> str | None:
    """The one active person holding ``role`` (the convener, the district leader in charge): personal steps
    of the processes are assigned to them. None when nobody or more than one person holds it, so the step
    stays with the role's group to be taken (签收) instead of going to the wrong person."""
    names = list(session.scalars(
        select(User.username).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == role, User.active).order_by(User.username).limit(2)))
    return names[0] if len(names) == 1 else None
