"""Roles and groups a person can be given, with the names people read, and the separation of the three
administrators (三员分立).

A group key is data: fixed roles (``office``, ``convener``…), the groups of each town in the directory
(``town:<code>:window``, ``town:<code>:mzb``, ``town:<code>:team``), and any further key of the same shape that a
later process names. ``unit:<code>`` is not granted: a person acts for the unit they belong to.

The three administrators (GB/T 22239 等级保护: 系统管理员, 安全管理员, 审计管理员) are separate people:
``sysadmin`` keeps people, units and settings; ``secadmin`` grants roles and sets the sign-in policy; ``auditor``
reads the audit log of everything and changes nothing. No person holds two of them, nor one of them together with
``admin`` (the operations role that may act on any task), which would undo the separation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting.models import Unit

SYSADMIN, SECADMIN, AUDITOR = "sysadmin", "secadmin", "auditor"
ADMINISTRATORS = (SYSADMIN, SECADMIN, AUDITOR)
# Roles that exclude each other pairwise: the three administrators, and the operations role beside them.
EXCLUSIVE = (*ADMINISTRATORS, "admin")

ROLE_LABELS = {
    "office": "联席会议办公室",
    "convener": "召集人",
    "district": "区政府分管领导",
    "designer": "流程设计员",
    "approver": "流程发布审批人",
    "check": "核对办公室",
    "cc": "抄送阅文",
    "admin": "运维管理员",
    SYSADMIN: "系统管理员",
    SECADMIN: "安全管理员",
    AUDITOR: "审计管理员",
}
ROLE_NOTES = {
    "office": "征集和审核议题、筹备会议、起草纪要、核验落实结果",
    "convener": "审定会议方案、审签纪要、审批延期、督办",
    "district": "决定重大问题、听取落实情况报告",
    "designer": "编辑和部署流程图",
    "approver": "审核发布设计员提交的流程版本",
    "check": "家庭经济状况核对",
    "cc": "阅读印发的会议纪要",
    "admin": "阅读全部待办、代办、挂起和终止流程（不含系统管理）",
    SYSADMIN: "维护人员、单位和系统设置",
    SECADMIN: "授予角色与权限、设置登录策略",
    AUDITOR: "查阅和导出全部审计日志，不能修改任何内容",
}
TOWN_GROUPS = {"window": "便民服务中心窗口", "mzb": "民政办", "team": "急难问题快速响应服务队伍", "leader": "分管领导"}
# Roles offered in the editor, in this order (town groups follow, per town).
FIXED_ROLES = ("office", "convener", "district", "designer", "approver", "check", "cc", "admin", *ADMINISTRATORS)
GROUP_KEY = re.compile(r"^[a-z][a-z0-9_]{1,30}(:[a-z0-9_]{1,32}){0,2}$")


@dataclass(frozen=True)
class GroupDef:
    key: str
    label: str
    note: str = ""
    section: str = "角色"


def town_group(code: str, kind: str) -> str:
    return f"town:{code}:{kind}"


def grantable(session: Session) -> list[GroupDef]:
    """Every role and group the security administrator can grant, with its label."""
    groups = [GroupDef(k, ROLE_LABELS[k], ROLE_NOTES.get(k, ""),
                       "三员" if k in ADMINISTRATORS else "角色") for k in FIXED_ROLES]
    towns = session.execute(select(Unit.code, Unit.name).where(Unit.kind == "town", Unit.active)
                            .order_by(Unit.sort, Unit.code)).all()
    for code, name in towns:
        groups += [GroupDef(town_group(code, kind), f"{name}{label}", "", name) for kind, label in TOWN_GROUPS.items()]
    return groups


def group_label(key: str, unit_names: dict[str, str] | None = None) -> str:
    """The name people read for a role or group key (never the key itself when it is known)."""
    if key in ROLE_LABELS:
        return ROLE_LABELS[key]
    parts = key.split(":")
    names = unit_names or {}
    if len(parts) == 3 and parts[0] == "town" and parts[2] in TOWN_GROUPS:
        return f"{names.get(parts[1], parts[1])}{TOWN_GROUPS[parts[2]]}"
    if len(parts) == 2 and parts[0] == "unit":
        return names.get(parts[1], parts[1])
    return key


def check_key(key: str) -> str | None:
    """Why ``key`` cannot be granted, or None. ``unit:`` groups come with a person's unit, never as a grant."""
    if not GROUP_KEY.match(key):
        return f"“{key}”不是有效的角色或群组标识"
    if key.startswith("unit:"):
        return "单位群组随人员所在单位确定，不能单独授予"
    return None


def exclusive_conflict(roles: Iterable[str]) -> str | None:
    """The refusal when ``roles`` hold two of the roles that exclude each other, else None."""
    held = [r for r in EXCLUSIVE if r in set(roles)]
    if len(held) < 2:
        return None
    names = "、".join(ROLE_LABELS[r] for r in held)
    return f"三员分立：同一人不能同时担任{names}"
