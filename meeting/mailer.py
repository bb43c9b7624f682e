"""E-mail copies of notifications, sent when SMTP is configured, outside the transaction that created them.

Every copy is sent or fails on its own, so no message can stop the others:

* a pass *claims* up to ``limit`` pending copies in one short transaction (PostgreSQL: ``FOR UPDATE SKIP
  LOCKED``, so several workers take disjoint copies) by giving each a lease (``email_retry_at``); nobody else
  takes a leased copy;
* each copy is then built and handed to the SMTP server, and its outcome is written at once in a transaction of
  its own: sent (``emailed_at``), or failed with its error, attempt count and the time of its next try, which
  backs off (2, 4, 8 … minutes, at most BACKOFF_CAP); after MAX_ATTEMPTS it is given up (``email_failed_at``);
* what went out is never sent again: only a worker killed between handing a copy over and recording it can
  send that one copy twice (at least once, never lost);
* subjects and headers are one line of plain text whatever the notification holds (a task name or an item's
  multi-line text), addresses that are not plain addresses are left out, and links must be paths of this site.
"""

from __future__ import annotations

import logging
import re
import smtplib
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from engine.db import Database
from meeting.models import Notification, User, UserRole

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # a claimed copy is left to its worker this long
MAX_ATTEMPTS = 6
BACKOFF_CAP = timedelta(hours=6)
SUBJECT_PREFIX = "【社会救助联席会议】"
MAX_SUBJECT = 150
_ADDRESS = re.compile(r"[^\s@,;:<>()\[\]\"\\]+@[^\s@,;:<>()\[\]\"\\]+\.[^\s@,;:<>()\[\]\"\\]+")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    sender: str = "joint-meeting@localhost"
    base_url: str = "http://127.0.0.1:5000"
    timeout: float = 10.0


@dataclass(frozen=True)
class Copy:
    """One claimed notification and the addresses its group reaches."""

    id: int
    title: str
    body: str
    link: str | None
    attempts: int
    to: tuple[str, ...]


def one_line(text: str | None, limit: int = MAX_SUBJECT) -> str:
    """Text fit for a mail header: control, format and separator characters (line breaks of every kind, NUL,
    lone surrogates) become spaces, runs of spaces one space, at most ``limit`` characters."""
    cleaned = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text or "")
    words = " ".join(cleaned.split())
    return words if len(words) <= limit else words[: limit - 1] + "…"


def plain_body(text: str | None) -> str:
    """A body keeps its lines; NUL, other control characters and lone surrogates go."""
    return "".join(c for c in (text or "") if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs"))


def recipients(session: Session, group: str) -> list[str]:
    """E-mail addresses of the active users a notification group reaches (plain addresses only)."""
    stmt = select(User.email).where(User.active, User.email.is_not(None), User.email != "")
    if group.startswith("unit:"):
        stmt = stmt.where(User.unit_code == group[5:])
    elif group.startswith("user:"):
        stmt = stmt.where(User.username == group[5:])
    else:
        stmt = stmt.join(UserRole, UserRole.user_id == User.id).where(UserRole.role == group)
    return sorted({e.strip() for e in session.scalars(stmt) if e and _ADDRESS.fullmatch(e.strip())})


def build_message(settings: SmtpSettings, copy: Copy) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = one_line(SUBJECT_PREFIX + one_line(copy.title))
    msg["From"] = one_line(settings.sender, 200)
    msg["To"] = one_line(settings.sender, 200)
    msg["Bcc"] = ", ".join(copy.to)
    base = settings.base_url.rstrip("/")
    link = copy.link or ""
    url = f"{base}{link}" if link.startswith("/") and not link.startswith("//") and one_line(link) == link \
        else base
    msg.set_content(f"{plain_body(copy.body)}\n\n{url}\n")
    return msg


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(1, attempts)), BACKOFF_CAP)


def _pending(now: datetime, limit: int) -> Select[Notification]:
    return (select(Notification)
            .where(Notification.emailed_at.is_(None), Notification.email_failed_at.is_(None),
                   or_(Notification.email_retry_at.is_(None), Notification.email_retry_at <= now))
            .order_by(Notification.id).limit(limit))


def claim(db: Database, now: datetime, limit: int) -> list[Copy]:
    """Lease up to ``limit`` pending copies to this pass; copies nobody is to receive are done at once."""
    with db.transaction() as s:
        stmt = _pending(now, limit)
        if db.is_postgres:
            stmt = stmt.with_for_update(skip_locked=True, of=Notification)
        copies = []
        for n in s.scalars(stmt):
            to = recipients(s, n.recipient_group)
            if not to:
                n.emailed_at = now  # nobody to send it to: done
                continue
            n.email_retry_at = now + LEASE
            copies.append(Copy(n.id, n.title, n.body, n.link, n.email_attempts, tuple(to)))
        return copies


def _record(db: Database, copy: Copy, now: datetime, error: str | None) -> None:
    with db.transaction() as s:
        n = s.get(Notification, copy.id)
        if n is None:
            return
        if error is None:
            n.emailed_at, n.email_retry_at, n.email_error = now, None, None
            return
        n.email_attempts = copy.attempts + 1
        n.email_error = error[:2000]
        if n.email_attempts >= MAX_ATTEMPTS:
            n.email_failed_at, n.email_retry_at = now, None
        else:
            n.email_retry_at = now + backoff(n.email_attempts)


def send_pending(db: Database, settings: SmtpSettings, now: datetime, limit: int = 200) -> int:
    """Send what is pending now; returns how many copies went out."""
    copies = claim(db, now, limit)
    sent = 0
    smtp: smtplib.SMTP | None = None
    try:
        for copy in copies:
            try:
                message = build_message(settings, copy)
            except Exception as exc:  # noqa: BLE001 - whatever one copy holds stays with that copy
                _failed(db, copy, now, exc)
                continue
            if smtp is None:
                try:
                    smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
                except OSError as exc:  # the server, not a copy: the rest keep their lease for the next pass
                    log.warning("mail: server unavailable after %d copies: %s", sent, exc)
                    break
            try:
                smtp.send_message(message, to_addrs=list(copy.to))
            except Exception as exc:  # noqa: BLE001 - refused or cut off while this copy went out: retry it later
                _failed(db, copy, now, exc)
                _reset(smtp)
                smtp = None
                continue
            _record(db, copy, now, None)
            sent += 1
    finally:
        _reset(smtp)
    return sent


def _failed(db: Database, copy: Copy, now: datetime, exc: BaseException) -> None:
    log.warning("mail: notification %d not sent (attempt %d): %s", copy.id, copy.attempts + 1, exc)
    _record(db, copy, now, f"{type(exc).__name__}: {exc}")


def _reset(smtp: smtplib.SMTP | None) -> None:
    """Close a connection after a refused copy (it may be mid-transaction); the next copy opens a new one."""
    if smtp is not None:
        try:
            smtp.quit()
        except Exception:  # noqa: BLE001 - it is being thrown away
            smtp.close()
    return None
