"""People: the system administrator creates, edits, deactivates and reactivates them and resets passwords; the
security administrator grants roles and groups. The same functions serve the pages and the command line.

Safety rules kept here, whoever calls:
* a unit (member unit or town) keeps at least one active liaison: taking away its last one needs a successor
  from the unit, or the unit's open tasks are offered to the office until a new liaison is recorded;
* the last active system administrator cannot be deactivated or lose the role;
* nobody deactivates themselves or changes their own roles; in the browser, the accounts of the security and
  audit administrators are left to the command line, so that no administrator takes over another's duties;
* tasks a leaving person holds go to the successor (same unit) or back to their unit, never stay stuck.
Every change is one audit entry (meeting/admin_audit.py); passwords never are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine import reassign
from engine.errors import FormError, NotFound
from meeting import admin_audit, roles, signin
from meeting.accounts import revoke_sessions
from meeting.models import Unit, User, UserRole

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
PHONE = re.compile(r"^[0-9+\-() ]{5,32}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,63}$")
LIAISON_KINDS = ("member", "town")  # units that receive tasks and so always need someone to do them
PAGE_SIZE = 50
PROFILE = ("display_name", "unit_code", "post", "phone", "email", "is_liaison")


@dataclass(frozen=True)
class Operator:
    """Who makes a change: a signed-in administrator, or the command line (``console``) on the server."""

    username: str
    groups: frozenset[str] = frozenset()
    console: bool = False

    @classmethod
    def command_line(cls, os_user: str) -> Operator:
        return cls(f"命令行:{os_user}", frozenset(), True)


def find(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户“{username}”不存在")
    return user


def _text(data: dict[str, Any], key: str) -> str:
    return str(data.get(key) or "").strip()


def clean_profile(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    """The profile fields of a form or an import row, checked; FormError names each bad field."""
    errors: dict[str, str] = {}
    profile: dict[str, Any] = {"display_name": _text(data, "display_name"), "post": _text(data, "post") or None,
               "phone": _text(data, "phone") or None, "email": _text(data, "email") or None,
               "unit_code": _text(data, "unit_code") or None,
               "is_liaison": str(data.get("is_liaison") or "").lower() in ("1", "on", "true", "yes", "是")}
    if not profile["display_name"] or len(profile["display_name"]) > 100:
        errors["display_name"] = "请填写姓名（不超过100字）"
    if profile["post"] and len(profile["post"]) > 100:
        errors["post"] = "职务不超过100字"
    if profile["phone"] and not PHONE.match(profile["phone"]):
        errors["phone"] = "电话号码格式不正确"
    if profile["email"] and (len(profile["email"]) > 255 or not EMAIL.match(profile["email"])):
        errors["email"] = "电子邮箱格式不正确"
    unit = session.get(Unit, profile["unit_code"]) if profile["unit_code"] else None
    if profile["unit_code"] and (unit is None or not unit.active):
        errors["unit_code"] = "单位不在名录中或已撤销"
    if profile["is_liaison"] and not profile["unit_code"]:
        errors["is_liaison"] = "联络员须属于一个单位"
    if errors:
        raise FormError(errors)
    return profile


def check_username(session: Session, username: str) -> None:
    if not USERNAME.match(username):
        raise FormError({"username": "用户名为2–64位小写字母、数字或 . _ -，以字母或数字开头"})
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
        raise FormError({"username": f"用户名“{username}”已被使用"})


def create(session: Session, username: str, data: dict[str, Any], *, by: Operator, at: datetime,
           grant: tuple[str, ...] = (), password: str | None = None) -> tuple[User, str | None]:
    """A new person; returns the user and the one-time password to hand over (None when ``password`` was
    given, at the command line). ``grant`` (roles) only from the command line: in the browser roles are the
    security administrator's."""
    username = username.strip().lower()
    check_username(session, username)
    profile = clean_profile(session, data)
    if grant and not by.console:
        raise FormError({"roles": "角色由安全管理员授予"})
    problem = roles.exclusive_conflict(grant) or next(filter(None, map(roles.check_key, grant)), None)
    if problem:
        raise FormError({"roles": problem})
    user = User(username=username, active=True, created_at=at, **profile)
    user.roles = [UserRole(role=r) for r in dict.fromkeys(grant)]
    session.add(user)
    session.flush()
    one_time = None
    if password is None:
        one_time = signin.issue_one_time(session, user, at=at)
    else:
        signin.set_chosen(session, user, password, at=at)
    admin_audit.record(session, "admin.user.create", actor=by.username, at=at, target=f"user:{username}",
                       summary=f"新增人员 {user.display_name}（{username}）{_unit_phrase(session, user.unit_code)}",
                       data={"profile": _shown_profile(session, profile), "roles": _labels(grant)})
    return user, one_time


def _unit_phrase(session: Session, code: str | None) -> str:
    unit = session.get(Unit, code) if code else None
    return f"，{unit.name}" if unit else ""


def _labels(keys: Any) -> list[str]:
    return [roles.group_label(k) for k in keys]


def _shown_profile(session: Session, profile: dict[str, Any]) -> dict[str, Any]:
    shown = dict(profile)
    if shown.get("unit_code"):
        unit = session.get(Unit, shown["unit_code"])
        shown["unit_code"] = unit.name if unit else shown["unit_code"]
    return shown


def _guard(target: User, by: Operator, action: str) -> None:
    """In the browser nobody acts on their own account here, and the other two administrators' accounts are
    left to the command line."""
    if by.console:
        return
    if target.username == by.username:
        raise FormError({"user": f"不能{action}自己的账号"})
    protected = {roles.SECADMIN, roles.AUDITOR} & set(target.role_names)
    if protected:  # whoever acts in the browser: the system administrator, or the office replacing a liaison
        names = "、".join(roles.ROLE_LABELS[r] for r in sorted(protected))
        raise FormError({"user": f"{names}的账号只能在服务器命令行维护（三员分立）"})


def update(session: Session, user: User, data: dict[str, Any], *, by: Operator, at: datetime,
           successor: str | None = None, to_office: bool = False) -> None:
    """Edit name, unit, post, phone, e-mail and the liaison mark."""
    if user.username != by.username:
        _guard(user, by, "修改")
    profile = clean_profile(session, data)
    if user.username == by.username and not by.console and (
            profile["unit_code"] != user.unit_code or bool(profile["is_liaison"]) != bool(user.is_liaison)):
        # A unit's membership brings its tasks and records: an administrator may not give it to themselves.
        raise FormError({"unit_code": "不能修改本人的所属单位或联络员身份，请由其他系统管理员或在服务器命令行办理（三员分立）"})
    before = {k: getattr(user, k) for k in PROFILE}
    leaving = user.unit_code if user.unit_code != profile["unit_code"] else None
    if user.is_liaison and user.active and (leaving or not profile["is_liaison"]):
        _keep_a_liaison(session, user, by=by, at=at, successor=successor, to_office=to_office)
    if leaving:
        reassign.release(session, user=user.username, actor=by.username, at=at, comment="人员调离原单位",
                         fallback_group=f"unit:{leaving}")
    for key, value in profile.items():
        setattr(user, key, value)
    changes = admin_audit.diff(_shown_profile(session, before), _shown_profile(session, profile))
    if changes:
        admin_audit.record(session, "admin.user.update", actor=by.username, at=at, target=f"user:{user.username}",
                           summary=f"修改人员信息 {user.display_name}（{user.username}）", data={"changes": changes})
    session.flush()


def deactivate(session: Session, user: User, *, by: Operator, at: datetime, successor: str | None = None,
               to_office: bool = False, reason: str = "") -> int:
    """Deactivate an account; returns how many tasks it held went elsewhere."""
    _guard(user, by, "停用")
    if not user.active:
        return 0
    if roles.SYSADMIN in user.role_names and _active_holders(session, roles.SYSADMIN) <= 1:
        raise FormError({"user": "不能停用最后一名系统管理员"})
    moved = 0
    if user.is_liaison:
        moved = _keep_a_liaison(session, user, by=by, at=at, successor=successor, to_office=to_office)
    elif successor:
        moved = _hand_to(session, user, successor, by=by, at=at)
    moved += reassign.release(session, user=user.username, actor=by.username, at=at, comment="账号停用",
                              fallback_group=f"unit:{user.unit_code}" if user.unit_code else None)
    user.active = False
    revoke_sessions(session, user.username, at)
    admin_audit.record(session, "admin.user.deactivate", actor=by.username, at=at, target=f"user:{user.username}",
                       summary=f"停用账号 {user.display_name}（{user.username}）",
                       data={"reason": reason.strip()[:500], "successor": successor, "to_office": to_office,
                             "tasks_moved": moved})
    session.flush()
    return moved


def reactivate(session: Session, user: User, *, by: Operator, at: datetime) -> None:
    _guard(user, by, "启用")
    if user.active:
        return
    if user.unit_code:
        unit = session.get(Unit, user.unit_code)
        if unit is None or not unit.active:
            raise FormError({"unit_code": "该人员所在单位已撤销，请先调整其单位"})
    conflict = roles.exclusive_conflict(user.role_names)
    if conflict:
        raise FormError({"roles": conflict})
    user.active = True
    admin_audit.record(session, "admin.user.reactivate", actor=by.username, at=at, target=f"user:{user.username}",
                       summary=f"启用账号 {user.display_name}（{user.username}）")
    session.flush()


def reset_password(session: Session, user: User, *, by: Operator, at: datetime) -> str:
    """A new one-time password (shown once); the person changes it at the next sign-in."""
    _guard(user, by, "重置")
    password = signin.issue_one_time(session, user, at=at)
    revoke_sessions(session, user.username, at)
    admin_audit.record(session, "admin.user.password_reset", actor=by.username, at=at,
                       target=f"user:{user.username}",
                       summary=f"重置密码 {user.display_name}（{user.username}），发放一次性密码")
    return password


def set_roles(session: Session, user: User, wanted: list[str], *, by: Operator, at: datetime) -> None:
    """Replace the person's roles and groups (the security administrator; or the command line)."""
    if not by.console and user.username == by.username:
        raise FormError({"roles": "不能调整自己的角色"})
    keys = list(dict.fromkeys(k.strip() for k in wanted if k.strip()))
    problem = next(filter(None, map(roles.check_key, keys)), None) or roles.exclusive_conflict(keys)
    if problem:
        raise FormError({"roles": problem})
    before = user.role_names
    if roles.SYSADMIN in before and roles.SYSADMIN not in keys and user.active \
            and _active_holders(session, roles.SYSADMIN) <= 1:
        raise FormError({"roles": "不能取消最后一名系统管理员的角色"})
    if set(before) == set(keys):
        return
    user.roles = [r for r in user.roles if r.role in keys] + [UserRole(role=k) for k in keys if k not in before]
    revoke_sessions(session, user.username, at)
    names = _unit_names(session)
    admin_audit.record(session, "admin.user.roles", actor=by.username, at=at, target=f"user:{user.username}",
                       summary=f"调整角色与群组 {user.display_name}（{user.username}）",
                       data={"changes": {"roles": [[roles.group_label(k, names) for k in before],
                                                   [roles.group_label(k, names) for k in keys]]}})
    session.flush()


def _unit_names(session: Session) -> dict[str, str]:
    return {code: name for code, name in session.execute(select(Unit.code, Unit.name))}


def _active_holders(session: Session, role: str) -> int:
    return session.scalar(select(func.count()).select_from(User).join(UserRole)
                          .where(UserRole.role == role, User.active)) or 0


def active_liaisons(session: Session, unit_code: str) -> list[User]:
    return list(session.scalars(select(User).where(User.unit_code == unit_code, User.is_liaison, User.active)
                                .order_by(User.username)))


def _keep_a_liaison(session: Session, user: User, *, by: Operator, at: datetime, successor: str | None,
                    to_office: bool) -> int:
    """``user`` stops being a liaison of their unit. The last one needs a successor from the unit (who becomes
    liaison and takes the tasks ``user`` holds) or the unit's open tasks go to the office as well."""
    unit = session.get(Unit, user.unit_code) if user.unit_code else None
    others = [u for u in active_liaisons(session, user.unit_code or "") if u.id != user.id]
    if successor:
        return _hand_to(session, user, successor, by=by, at=at, make_liaison=True)
    if unit is None or not unit.active or unit.kind not in LIAISON_KINDS or others:
        return 0
    if not to_office:
        raise FormError({"successor": f"{user.display_name}是{unit.name}唯一的联络员：请指定接任的联络员，"
                                      f"或将本单位待办交联席会议办公室办理"})
    moved = reassign.add_group(session, group=unit.group, extra="office", actor=by.username, at=at,
                               comment=f"{unit.name}暂无联络员")
    admin_audit.record(session, "admin.tasks.to_office", actor=by.username, at=at, target=f"unit:{unit.code}",
                       summary=f"{unit.name}暂无联络员，本单位待办（{moved}件）同时交联席会议办公室办理",
                       data={"tasks": moved})
    return moved


def _hand_to(session: Session, user: User, successor: str, *, by: Operator, at: datetime,
             make_liaison: bool = False) -> int:
    other = session.scalar(select(User).where(User.username == successor))
    if other is None or not other.active or other.id == user.id or other.unit_code != user.unit_code \
            or not user.unit_code:
        raise FormError({"successor": "接任人须是同一单位的其他在用人员"})
    if make_liaison and not other.is_liaison:
        other.is_liaison = True
        admin_audit.record(session, "admin.user.update", actor=by.username, at=at, target=f"user:{other.username}",
                           summary=f"{other.display_name}（{other.username}）接任联络员",
                           data={"changes": {"is_liaison": [False, True]}})
    return reassign.hand_over(session, from_user=user.username, to_user=other.username,
                              group=f"unit:{user.unit_code}", actor=by.username, at=at, comment="联络员交接")


@dataclass(frozen=True)
class PeopleQuery:
    text: str = ""
    unit: str = ""
    role: str = ""
    status: str = "active"  # active | inactive | all
    liaison: bool = False


def search(session: Session, query: PeopleQuery, page: int = 1) -> tuple[list[User], int]:
    stmt = select(User)
    if query.text:
        like = f"%{query.text.strip()}%"
        stmt = stmt.where(or_(User.username.like(like), User.display_name.like(like), User.phone.like(like),
                              User.post.like(like), User.email.like(like)))
    if query.unit:
        stmt = stmt.where(User.unit_code == query.unit)
    if query.role:
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == query.role)))
    if query.status in ("active", "inactive"):
        stmt = stmt.where(User.active.is_(query.status == "active"))
    if query.liaison:
        stmt = stmt.where(User.is_liaison)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(User.unit_code.is_(None), User.unit_code, User.username)
                           .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))
    return list(rows), total


def bootstrap(session: Session, username: str, role: str, *, by: Operator, at: datetime
              ) -> tuple[User, str | None]:
    """``flask init --admin NAME`` (and ``--secadmin``, ``--auditor``): the administrator exists afterwards.
    A new account gets a one-time password (returned, to print once); an existing one keeps its password and
    gets the role if it lacks it. Running it again changes nothing."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is not None:
        if role not in user.role_names:
            set_roles(session, user, [*user.role_names, role], by=by, at=at)
        return user, None
    user, password = create(session, username, {"display_name": roles.ROLE_LABELS[role]}, by=by, at=at,
                            grant=(role,))
    admin_audit.record(session, "admin.init", actor=by.username, at=at, target=f"user:{user.username}",
                       summary=f"初始化{roles.ROLE_LABELS[role]} {user.username}")
    return user, password
