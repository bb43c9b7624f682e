"""Which users and groups named in a diagram the directory does not know (the engine's deploy warnings).

A user task addressed to a user who does not exist, or to a group nobody can hold, is deployed all the same (the
person or the group may be set up later) but the designer is told at once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting.models import Unit, User
from meeting.roles import FIXED_ROLES, ROLE_LABELS, TOWN_GROUPS


def unknown_principals(session: Session, users: set[str], groups: set[str]) -> tuple[set[str], set[str]]:
    known_users = set(session.scalars(select(User.username).where(User.username.in_(users)))) if users else set()
    units = {code: kind for code, kind in session.execute(select(Unit.code, Unit.kind))} if groups else {}
    return users - known_users, {g for g in groups if not _known_group(g, units)}


def _known_group(group: str, units: dict[str, str]) -> bool:
    if group in FIXED_ROLES or group in ROLE_LABELS:
        return True
    parts = group.split(":")
    if len(parts) == 2 and parts[0] == "unit":
        return parts[1] in units
    return len(parts) == 3 and parts[0] == "town" and units.get(parts[1]) == "town" and parts[2] in TOWN_GROUPS
