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
from meeting.models import MembershipChange, Unit, User, UserRole
from meeting.statuses import ChangeStatus

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


def _demo_users(session: Session) -> list[DemoUser]:
    users = [
        DemoUser("office", "联席会议办公室", "minzheng", ("office",)),
        DemoUser("convener", "召集人（区民政局主要负责人）", "minzheng", ("convener",)),
        DemoUser("district", "区政府分管领导", None, ("district",)),
        DemoUser("designer", "流程设计员", None, ("designer",)),
        DemoUser("admin", "系统管理员", None, ("admin",)),
        DemoUser("chaosong", "抄送阅文人员", None, ("cc",)),
    ]
    liaison_units = session.scalars(
        select(Unit).where(Unit.kind.in_(("member", "town")), Unit.active).order_by(Unit.sort)
    )
    users += [DemoUser(u.code, f"{u.name}联络员", u.code, ()) for u in liaison_units]
    return users


def create_demo_users(
    session: Session,
    password_hasher: Callable[[str], str] | None,
    password: str = DEMO_PASSWORD,
    now: datetime | None = None,
) -> list[str]:
    """Create the demo users that are missing (office, convener, district, designer, admin, the cc reader
    ``chaosong`` and one liaison per member unit and town, named by the unit code). Existing users keep their
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
    return user_groups(user)


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
    session.flush()
    return unit
