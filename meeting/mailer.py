"""E-mail copies of notifications, sent when SMTP is configured. Sending happens outside the transaction
that created the notification; a failed send leaves it pending for the next pass."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from engine.db import Database
from meeting.models import Notification, User, UserRole

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    sender: str = "joint-meeting@localhost"
    base_url: str = "http://127.0.0.1:5000"
    timeout: float = 10.0


def recipients(session: Session, group: str) -> list[str]:
    """E-mail addresses of the active users a notification group reaches."""
    stmt = select(User.email).where(User.active, User.email.is_not(None), User.email != "")
    if group.startswith("unit:"):
        stmt = stmt.where(User.unit_code == group[5:])
    elif group.startswith("user:"):
        stmt = stmt.where(User.username == group[5:])
    else:
        stmt = stmt.join(UserRole, UserRole.user_id == User.id).where(UserRole.role == group)
    return sorted({e for e in session.scalars(stmt) if e})


def _pending(limit: int) -> Select[Notification]:
    return select(Notification).where(Notification.emailed_at.is_(None)).order_by(Notification.id).limit(limit)


def send_pending(db: Database, settings: SmtpSettings, now: datetime, limit: int = 200) -> int:
    """Send what is pending; returns how many messages went out.

    On PostgreSQL the pending rows stay claimed (``FOR UPDATE SKIP LOCKED``) while they are sent, so several
    workers never send one copy twice; a worker killed while sending leaves its rows to the next one (a copy it
    had already handed to the server may then go out again: at least once, never lost). SQLite has one worker."""
    if db.is_postgres:
        with db.transaction() as s:
            rows = list(s.scalars(_pending(limit).with_for_update(skip_locked=True, of=Notification)))
            pending = [(n.id, n.recipient_group, n.title, n.body, n.link) for n in rows]
            addressed = {nid: recipients(s, group) for nid, group, *_ in pending}
            sent, done = _deliver(settings, pending, addressed)
            for n in rows:
                if n.id in done:
                    n.emailed_at = now
        return sent
    with db.sessions() as s:
        pending = [(n.id, n.recipient_group, n.title, n.body, n.link) for n in s.scalars(_pending(limit))]
        addressed = {nid: recipients(s, group) for nid, group, *_ in pending}
    sent, done = _deliver(settings, pending, addressed)
    if done:
        with db.transaction() as s:
            for n in s.scalars(select(Notification).where(Notification.id.in_(done))):
                n.emailed_at = now
    return sent


def _deliver(settings: SmtpSettings, pending: list[tuple[int, str, str, str, str | None]],
             addressed: dict[int, list[str]]) -> tuple[int, set[int]]:
    """Send the messages; returns how many went out and the ids that are done (sent or nobody to send to)."""
    if not pending:
        return 0, set()
    sent, done = 0, set()
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
            for nid, _group, title, body, link in pending:
                to = addressed[nid]
                if to:
                    msg = EmailMessage()
                    msg["Subject"] = f"【社会救助联席会议】{title}"
                    msg["From"] = settings.sender
                    msg["To"] = settings.sender
                    msg["Bcc"] = ", ".join(to)
                    url = f"{settings.base_url.rstrip('/')}{link}" if link else settings.base_url
                    msg.set_content(f"{body}\n\n{url}\n")
                    smtp.send_message(msg, to_addrs=to)
                    sent += 1
                done.add(nid)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail: sending stopped after %d messages: %s", sent, exc)
    return sent, done
