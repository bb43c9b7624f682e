"""In-app notifications, addressed to a group (``office``, ``convener``, ``unit:caizheng`` …) and read per user.

Besides the groups from ``directory.groups_of`` every user also sees what is addressed to ``user:<name>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Select, Table, and_, func, insert, select
from sqlalchemy.orm import Session

from engine.paging import Key, Page, page
from engine.writes import Writes
from meeting.models import NOTIFICATION_KINDS, Notification, NotificationRead


def notify(
    session: Session,
    group: str,
    kind: str,
    title: str,
    body: str,
    link: str | None,
    now: datetime,
) -> Notification:
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    note = Notification(recipient_group=group, kind=kind, title=title, body=body, link=link, created_at=now)
    session.add(note)
    return note


def notify_groups(
    session: Session,
    groups: list[str],
    kind: str,
    title: str,
    body: str,
    link: str | None,
    now: datetime,
    writes: Writes | None = None,
) -> None:
    """One notification per distinct group, in the order given, written at once with one INSERT (no ORM
    objects to flush), or with a save's ``writes``: every new task sends some, so this runs inside most
    commands."""
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if any(isinstance(o, Notification) for o in session.new):
        session.flush()  # earlier notify() calls keep their place in the order
    rows = [{"recipient_group": group, "kind": kind, "title": title, "body": body, "link": link, "created_at": now,
             "emailed_at": None} for group in dict.fromkeys(groups)]
    if rows and writes is not None:
        writes.insert(_TABLE, rows)
    elif rows:
        session.connection().execute(_INSERT, rows)


_TABLE = cast(Table, Notification.__table__)
_INSERT = insert(_TABLE)


def audience(username: str, groups: list[str]) -> list[str]:
    return [*groups, f"user:{username}"]


@dataclass(frozen=True)
class NotificationView:
    notification: Notification
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None


def _visible(username: str, groups: list[str]) -> Select[Notification, datetime | None]:
    return (
        select(Notification, NotificationRead.read_at)
        .outerjoin(
            NotificationRead,
            and_(NotificationRead.notification_id == Notification.id, NotificationRead.username == username),
        )
        .where(Notification.recipient_group.in_(audience(username, groups)))
    )


def list_for(
    session: Session, username: str, groups: list[str], unread_only: bool = False, limit: int = 100,
    kinds: tuple[str, ...] | None = None,
) -> list[NotificationView]:
    """Newest first; only the given kinds when ``kinds`` is set."""
    query = _visible(username, groups)
    if unread_only:
        query = query.where(NotificationRead.read_at.is_(None))
    if kinds:
        query = query.where(Notification.kind.in_(kinds))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return [NotificationView(note, read_at) for note, read_at in session.execute(query)]


def unread_by_kind(session: Session, username: str, groups: list[str]) -> dict[str, int]:
    """Unread notifications per kind (the filter of the notifications page shows them)."""
    query = _visible(username, groups).where(NotificationRead.read_at.is_(None)).subquery()
    rows = session.execute(select(query.c.kind, func.count()).group_by(query.c.kind)).all()
    return {str(kind): int(n) for kind, n in rows}


def unread_count(session: Session, username: str, groups: list[str]) -> int:
    query = _visible(username, groups).where(NotificationRead.read_at.is_(None)).subquery()
    return session.scalar(select(func.count()).select_from(query)) or 0


def mark_read(
    session: Session, username: str, groups: list[str], now: datetime, ids: list[int] | None = None
) -> int:
    """Mark the given notifications (or all the user can see, when ``ids`` is None) as read by ``username``.
    Notifications the user cannot see are ignored. Returns how many changed."""
    query = _visible(username, groups).where(NotificationRead.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    notes = [note for note, _ in session.execute(query)]
    for note in notes:
        session.add(NotificationRead(notification_id=note.id, username=username, read_at=now))
    session.flush()
    return len(notes)


# Newest first, for keyset paging (engine/paging.py): the list of a unit that has been notified for years reads
# one page through the index on (recipient_group, created_at), never the years before it.
NOTE_ORDER = [Key(Notification.created_at, desc=True), Key(Notification.id, desc=True)]


def page_for(session: Session, username: str, groups: list[str], limit: int, after: str | None = None,
             before: str | None = None, unread_only: bool = False, kinds: tuple[str, ...] | None = None
             ) -> Page[NotificationView]:
    """One page of what ``list_for`` lists, after the cursor ``after`` (or before ``before``)."""
    query = _visible(username, groups)
    if unread_only:
        query = query.where(NotificationRead.read_at.is_(None))
    if kinds:
        query = query.where(Notification.kind.in_(kinds))
    found = page(session, query, NOTE_ORDER, limit, after, before, scalars=False, entity=lambda row: row[0])
    return Page([NotificationView(note, read_at) for note, read_at in found.rows], found.limit,
                found.next_cursor, found.prev_cursor)
