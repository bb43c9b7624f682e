"""Domain tables of the joint meeting: directory, topics, meetings, resolution items, minutes, reports.

Times are aware UTC datetimes (``engine.db.Base`` maps ``datetime`` to a UTC column); deadlines are the end of
the deadline day in Beijing time. Workflow data holds the ids of these rows, never copies of them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base

UNIT_KINDS = ("member", "cc", "town", "invited")
ROLES = ("office", "convener", "district", "designer", "admin", "cc")
TOPIC_STATUSES = ("submitted", "returned", "accepted", "rejected", "scheduled", "resolved", "deferred", "escalated")
MEETING_KINDS = ("regular", "adhoc")
MEETING_STATUSES = ("planned", "approved", "convened", "held", "minutes_issued", "reported", "closed")
TOPIC_OUTCOMES = ("consensus", "major", "deferred")
ATTENDANCE_REPLIES = ("pending", "attend", "leave")
RESOLUTION_STATUSES = ("draft", "in_progress", "reported", "returned", "closed")
REPORT_KINDS = ("result", "input", "rework", "verify")
EXTENSION_STATUSES = ("pending", "approved", "refused")
MAJOR_STATUSES = ("raised", "drafted", "signed", "decided")
MAJOR_DECISIONS = ("approve", "reject", "instruct")
MINUTES_STATUSES = ("draft", "returned", "approved", "issued")
REPORT_STATUSES = ("draft", "returned", "approved", "submitted", "received")
CHANGE_KINDS = ("join", "leave", "rename")
CHANGE_STATUSES = ("submitted", "returned", "forwarded", "reported", "approved", "rejected", "applied")
NOTIFICATION_KINDS = ("task", "returned", "reminder", "supervision", "decision", "issued", "info")

# An item turns yellow this long before its deadline (the resolution_item diagram reminds at the same moment).
YELLOW_BEFORE = timedelta(days=3)


class Unit(Base):
    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    duties: Mapped[str] = mapped_column(Text, default="")
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def group(self) -> str:
        return f"unit:{self.code}"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin", order_by="UserRole.role"
    )

    @property
    def role_names(self) -> list[str]:
        return [r.role for r in self.roles]


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)

    user: Mapped[User] = relationship(back_populates="roles")


class Topic(Base):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    background: Mapped[str] = mapped_column(Text, default="")
    proposal: Mapped[str] = mapped_column(Text, default="")
    related_units: Mapped[list[str]] = mapped_column(JSON, default=list)
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    proposer: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="submitted", index=True)
    screen_comment: Mapped[str | None] = mapped_column(Text)
    attachment: Mapped[str | None] = mapped_column(String(255))
    instance_id: Mapped[str | None] = mapped_column(String(64), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @property
    def key(self) -> str:
        return f"T-{self.id:04d}"


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("year", "seq", name="uq_meetings_year_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The n-th meeting of a year (by meeting date, assigned once) gives the readable number HY-2026-01.
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default="regular", index=True)
    title: Mapped[str] = mapped_column(String(200))
    meeting_at: Mapped[datetime] = mapped_column(index=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="planned", index=True)
    reply_deadline: Mapped[datetime | None]
    invited_units: Mapped[list[str]] = mapped_column(JSON, default=list)
    plan_comment: Mapped[str | None] = mapped_column(Text)
    outcome_summary: Mapped[str | None] = mapped_column(Text)
    instance_id: Mapped[str | None] = mapped_column(String(64), index=True)
    requested_by: Mapped[str | None] = mapped_column(String(64))
    request_reason: Mapped[str | None] = mapped_column(Text)
    requested_date: Mapped[date | None]
    created_at: Mapped[datetime]

    @property
    def key(self) -> str:
        return f"HY-{self.year}-{self.seq:02d}"


class MeetingTopic(Base):
    __tablename__ = "meeting_topics"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), primary_key=True, index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))


class Attendance(Base):
    __tablename__ = "attendance"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True, index=True)
    invited: Mapped[bool] = mapped_column(Boolean, default=False)
    reply: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attendee_name: Mapped[str | None] = mapped_column(String(100))
    leave_reason: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[str | None] = mapped_column(String(64))
    replied_at: Mapped[datetime | None]


class ResolutionItem(Base):
    """A 议定事项: one lead unit, any number of co-operating units, a deadline and a traffic light."""

    __tablename__ = "resolution_items"
    __table_args__ = (Index("ix_resolution_items_status_deadline", "status", "deadline"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    major_issue_id: Mapped[int | None] = mapped_column(ForeignKey("major_issues.id"), index=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    lead_unit: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    deadline: Mapped[datetime] = mapped_column(index=True)
    original_deadline: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="draft")  # indexed by (status, deadline)
    reminded_at: Mapped[datetime | None]
    supervised_at: Mapped[datetime | None]
    supervise_count: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(index=True)  # 本月办结, monthly trend, scorecards
    created_at: Mapped[datetime]
    instance_id: Mapped[str | None] = mapped_column(String(64), index=True)

    co_unit_links: Mapped[list[ResolutionCoUnit]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ResolutionCoUnit.position"
    )

    @property
    def co_units(self) -> list[str]:
        return [link.unit_code for link in self.co_unit_links]

    def light(self, now: datetime) -> str:
        """'closed', 'red' (past the deadline), 'yellow' (3 days or less left) or 'green'."""
        if self.status == "closed":
            return "closed"
        if now > self.deadline:
            return "red"
        if self.deadline - now <= YELLOW_BEFORE:
            return "yellow"
        return "green"


class ResolutionCoUnit(Base):
    __tablename__ = "resolution_co_units"

    resolution_id: Mapped[int] = mapped_column(
        ForeignKey("resolution_items.id", ondelete="CASCADE"), primary_key=True
    )
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ProgressReport(Base):
    __tablename__ = "progress_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(ForeignKey("resolution_items.id"), index=True)
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text, default="")
    attachment: Mapped[str | None] = mapped_column(String(255))
    author: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class ExtensionRequest(Base):
    __tablename__ = "extension_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(ForeignKey("resolution_items.id"), index=True)
    requested_deadline: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    requested_by: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)


class MajorIssue(Base):
    __tablename__ = "major_issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    request_title: Mapped[str | None] = mapped_column(String(200))
    request_body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="raised", index=True)
    sign_comment: Mapped[str | None] = mapped_column(Text)
    signed_by: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[datetime | None]
    decision: Mapped[str | None] = mapped_column(String(16))
    instructions: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]


class Minutes(Base):
    __tablename__ = "minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), unique=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    review_comment: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime | None]
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The .docx (GB/T 9704 §10.3) attached when the minutes were issued (meeting/minutes_doc.py).
    document_id: Mapped[str | None] = mapped_column(ForeignKey("wf_attachment.id"))


class ImplementationReport(Base):
    __tablename__ = "implementation_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), unique=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    review_comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    received_by: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime | None]
    receipt_comment: Mapped[str | None] = mapped_column(Text)


class MembershipChange(Base):
    __tablename__ = "membership_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    new_unit_name: Mapped[str | None] = mapped_column(String(100))
    new_duties: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="submitted", index=True)
    review_comment: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(16))
    proposed_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    instance_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]

    @property
    def key(self) -> str:
        return f"CY-{self.id:04d}"


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_group_created", "recipient_group", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_group: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    # Set when the e-mail copy went out (or was found to have no addressee); NULL = still to send.
    emailed_at: Mapped[datetime | None] = mapped_column(index=True)


class NotificationRead(Base):
    __tablename__ = "notification_reads"

    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True
    )
    username: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    read_at: Mapped[datetime]


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_user_at", "username", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    remote: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime]


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(default=False)


class SavedFilter(Base):
    """A ledger view someone saved: the query string of /resolutions and the columns shown. Shared with a
    group (a role such as ``office`` or ``unit:<code>``), everyone in it sees the filter too."""

    __tablename__ = "saved_filters"
    __table_args__ = (UniqueConstraint("owner", "name", name="uq_saved_filters_owner_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(Text, default="")
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    shared_with_group: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]
