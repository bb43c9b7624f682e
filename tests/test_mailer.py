"""E-mail copies that cannot be poisoned: a subject with line breaks goes out as one line; a copy the server
refuses is marked failed with its error and retried with back-off, without holding up any other; nothing sent is
sent again. Against a real SMTP server (aiosmtpd) on SQLite and PostgreSQL."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from datetime import timedelta
from email.header import decode_header, make_header
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from bench.world import T0
from engine.db import Database
from meeting import directory
from meeting.mailer import MAX_ATTEMPTS, SmtpSettings, build_message, one_line, send_pending
from meeting.models import Notification, User
from meeting.notify import notify

REFUSED = "refuse@example.org"


class Sink:
    """Keeps every message; refuses one address."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.Message]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address == REFUSED:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(make_header(decode_header(m["Subject"]))) for _, m in self.messages]


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, SmtpSettings]]:
    sink = Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, SmtpSettings("127.0.0.1", port, base_url="https://jm.example")
    finally:
        controller.stop()


def world(db: Database) -> None:
    with db.transaction() as s:
        directory.seed_directory(s)
        directory.create_demo_users(s, None, now=T0)
        for user in s.scalars(select(User)):
            user.email = REFUSED if user.username == "renshe" else f"{user.username}@example.org"
        s.scalar(select(User).where(User.username == "yibao")).email = "yibao@example.org\nBcc: x@evil"  # type: ignore[union-attr]


def test_one_poisoned_copy_never_stops_the_others_and_nothing_goes_twice(
        database: Database, smtp: tuple[Sink, SmtpSettings]) -> None:
    sink, settings = smtp
    world(database)
    with database.transaction() as s:
        notify(s, "office", "task", "新待办：第一行\n第二行\r\nBcc: attacker@evil.example", "多行\n正文", "/tasks/1", T0)
        notify(s, "unit:renshe", "task", "发给被拒收的地址", "", "/tasks/2", T0)
        for i in range(5):
            notify(s, "unit:caizheng", "reminder", f"催办 {i}", "", "javascript:alert(1)", T0)
        notify(s, "unit:yibao", "task", "地址不是纯地址", "", None, T0)  # nobody to send to: done
    assert send_pending(database, settings, T0) == 6
    subjects = sink.subjects()
    assert sorted(subjects) == sorted(["【社会救助联席会议】新待办：第一行 第二行 Bcc: attacker@evil.example",
                                       *[f"【社会救助联席会议】催办 {i}" for i in range(5)]])
    assert all("evil" not in ",".join(to) for to, _ in sink.messages)
    assert all("javascript:" not in m.get_payload() for _, m in sink.messages)  # type: ignore[operator]
    with database.sessions() as s:
        refused = s.scalar(select(Notification).where(Notification.recipient_group == "unit:renshe"))
        assert refused is not None and refused.emailed_at is None and refused.email_attempts == 1
        assert "550" in (refused.email_error or "") and refused.email_retry_at is not None
    # Nothing sent goes again; the refused copy waits for its back-off, then is tried again until given up.
    assert send_pending(database, settings, T0) == 0
    now = T0
    for _ in range(MAX_ATTEMPTS + 2):
        now += timedelta(hours=7)
        assert send_pending(database, settings, now) == 0
    assert len(sink.messages) == 6
    with database.sessions() as s:
        refused = s.scalar(select(Notification).where(Notification.recipient_group == "unit:renshe"))
        assert refused is not None and refused.email_attempts == MAX_ATTEMPTS and refused.email_failed_at is not None


def test_a_server_that_is_down_loses_nothing(sqlite_db: Database, smtp: tuple[Sink, SmtpSettings]) -> None:
    sink, settings = smtp
    world(sqlite_db)
    with sqlite_db.transaction() as s:
        notify(s, "office", "task", "待发", "", None, T0)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = SmtpSettings("127.0.0.1", probe.getsockname()[1], timeout=2)
    assert send_pending(sqlite_db, dead, T0) == 0
    assert send_pending(sqlite_db, settings, T0 + timedelta(minutes=6)) == 1  # after the lease
    assert sink.subjects() == ["【社会救助联席会议】待发"]


def test_headers_are_single_lines_whatever_the_text() -> None:
    assert one_line("a\nb\r\nc\u2028d\x00e\ud800f\x85g\tx  y") == "a b c d e f g x y"
    assert len(one_line("长" * 500)) == 150
    from meeting.mailer import Copy

    msg = build_message(SmtpSettings("x", sender="jm@example.org\r\nBcc: x@evil"),
                        Copy(1, "标题\n第二行", "正文\x00", "//evil.example/x", 0, ("a@example.org",)))
    assert "\n" not in str(msg["Subject"]) and "evil" not in msg["From"].split()[0]
    assert "//evil.example" not in msg.get_content()
