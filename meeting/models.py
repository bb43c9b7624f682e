"""Domain tables of the joint meeting: directory, topics, meetings, resolution items, minutes, reports.

Times are aware UTC datetimes (``engine.db.Base`` maps ``datetime`` to a UTC column); deadlines are the end of
the deadline day in Beijing time. Workflow data holds the ids of these rows, never copies of them.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base
from engine.errors import ActionError
from meeting.statuses import (
    AttendanceReply,
    ChangeStatus,
    ExtensionStatus,
    LabelledStatus,
    Light,
    MajorIssueStatus,
    MeetingStatus,
    MinutesStatus,
    ReportStatus,
    ResolutionStatus,
    TopicStatus,
)

UNIT_KINDS = ("member", "cc", "town", "invited")
ROLES = ("office", "convener", "district", "designer", "admin", "cc")
MEETING_KINDS = ("regular", "adhoc")
REPORT_KINDS = ("result", "input", "rework", "verify")
MAJOR_DECISIONS = ("approve", "reject", "instruct")
CHANGE_KINDS = ("join", "leave", "rename")
NOTIFICATION_KINDS = ("task", "returned", "reminder", "supervision", "decision", "issued", "info")

# An item turns yellow this long before its deadline (the resolution_item diagram reminds at the same moment).
YELLOW_BEFORE = timedelta(days=3)


def status_check(statuses: type[LabelledStatus], column: str = "status") -> CheckConstraint:
    """The database refuses a value the enum does not know; named ck_<table>_<column> by the naming convention
    (migrations/versions/0002 creates the same constraints)."""
    return CheckConstraint(statuses.check_sql(column), name=column)


def _require(current: str, allowed: Collection[str], refusal: str) -> None:
    """A guarded status change refuses, with the words the user reads, when the record is not where the rule
    allows it; the command then rolls back and changes nothing."""
    if current not in allowed:
        raise ActionError(refusal)


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
    __table_args__ = (status_check(TopicStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    background: Mapped[str] = mapped_column(Text, default="")
    proposal: Mapped[str] = mapped_column(Text, default="")
    related_units: Mapped[list[str]] = mapped_column(JSON, default=list)
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    proposer: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=TopicStatus.SUBMITTED, index=True)
    screen_comment: Mapped[str | None] = mapped_column(Text)
    attachment: Mapped[str | None] = mapped_column(String(255))
    instance_id: Mapped[str | None] = mapped_column(String(64), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @property
    def key(self) -> str:
        return f"T-{self.id:04d}"

    def resubmit(self) -> None:
        """The proposing unit edits its topic again: only before the office has accepted or rejected it."""
        _require(self.status, (TopicStatus.SUBMITTED, TopicStatus.RETURNED), f"议题{self.key}已审核，不能再修改。")
        self.status = TopicStatus.SUBMITTED

    def screen(self, result: TopicStatus) -> None:
        """The office accepts, returns or rejects a topic waiting for it."""
        _require(self.status, (TopicStatus.SUBMITTED,), f"议题{self.key}当前不在待审核状态。")
        self.status = result


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("year", "seq", name="uq_meetings_year_seq"), status_check(MeetingStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    # The n-th meeting of a year (by meeting date, assigned once) gives the readable number HY-2026-01.
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default="regular", index=True)
    title: Mapped[str] = mapped_column(String(200))
    meeting_at: Mapped[datetime] = mapped_column(index=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=MeetingStatus.PLANNED, index=True)
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

    def redraft_plan(self) -> None:
        """The office changes the plan: only until the convener has approved it."""
        _require(self.status, (MeetingStatus.PLANNED,), f"会议{self.key}的方案已审定，不能再修改。")

    def review_plan(self, approved: bool) -> None:
        """The convener approves the plan or returns it (it stays with the office, still to be approved)."""
        _require(self.status, (MeetingStatus.PLANNED,), f"会议{self.key}的方案不在待审定状态。")
        if approved:
            self.status = MeetingStatus.APPROVED

    def convene(self) -> None:
        """The notice goes out once the plan is approved; sending it again (new attendees) is allowed."""
        _require(self.status, (MeetingStatus.APPROVED, MeetingStatus.CONVENED),
                 f"会议{self.key}的方案尚未审定，不能通知召开。")
        self.status = MeetingStatus.CONVENED

    def check_outcomes_open(self) -> None:
        """The outcome of the topics is recorded once, after the plan was approved."""
        _require(self.status, (MeetingStatus.APPROVED, MeetingStatus.CONVENED), f"会议{self.key}的审议结果已记录。")

    def hold(self) -> None:
        self.check_outcomes_open()
        self.status = MeetingStatus.HELD


class MeetingTopic(Base):
    __tablename__ = "meeting_topics"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), primary_key=True, index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (status_check(AttendanceReply, "reply"),)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True, index=True)
    invited: Mapped[bool] = mapped_column(Boolean, default=False)
    reply: Mapped[str] = mapped_column(String(16), default=AttendanceReply.PENDING, index=True)
    attendee_name: Mapped[str | None] = mapped_column(String(100))
    leave_reason: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[str | None] = mapped_column(String(64))
    replied_at: Mapped[datetime | None]


class ResolutionItem(Base):
    """A 议定事项: one lead unit, any number of co-operating units, a deadline and a traffic light."""

    __tablename__ = "resolution_items"
    __table_args__ = (Index("ix_resolution_items_status_deadline", "status", "deadline"),
                      status_check(ResolutionStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    major_issue_id: Mapped[int | None] = mapped_column(ForeignKey("major_issues.id"), index=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    lead_unit: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    deadline: Mapped[datetime] = mapped_column(index=True)
    original_deadline: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=ResolutionStatus.DRAFT)  # indexed by (status, deadline)
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

    def light(self, now: datetime) -> Light:
        """'closed', 'red' (past the deadline), 'yellow' (3 days or less left) or 'green'."""
        if self.status == ResolutionStatus.CLOSED:
            return Light.CLOSED
        if now > self.deadline:
            return Light.RED
        if self.deadline - now <= YELLOW_BEFORE:
            return Light.YELLOW
        return Light.GREEN

    def check_open(self) -> None:
        """Nothing more happens to an item once it is closed (办结销号)."""
        if self.status == ResolutionStatus.CLOSED:
            raise ActionError(f"议定事项{self.number}已办结销号。")

    def start(self) -> None:
        """Implementation starts: an item still waiting for its minutes is issued now (items a district
        instruction gave are issued from the start)."""
        self.check_open()
        if self.status == ResolutionStatus.DRAFT:
            self.status = ResolutionStatus.IN_PROGRESS

    def report(self) -> None:
        """The lead unit reports its result (or its rework)."""
        self.check_open()
        self.status = ResolutionStatus.REPORTED

    def send_back(self) -> None:
        """The office's verification returns the item for rework."""
        self.check_open()
        self.status = ResolutionStatus.RETURNED

    def close(self, at: datetime) -> None:
        """办结销号, once."""
        self.check_open()
        self.status, self.closed_at = ResolutionStatus.CLOSED, at


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
    __table_args__ = (status_check(ExtensionStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(ForeignKey("resolution_items.id"), index=True)
    requested_deadline: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ExtensionStatus.PENDING, index=True)
    requested_by: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)

    def decide(self, approved: bool, by: str | None, at: datetime, comment: str | None) -> None:
        """The convener decides a request once."""
        _require(self.status, (ExtensionStatus.PENDING,), "延期申请已审批。")
        self.status = ExtensionStatus.APPROVED if approved else ExtensionStatus.REFUSED
        self.decided_by, self.decided_at, self.comment = by, at, comment


class MajorIssue(Base):
    __tablename__ = "major_issues"
    __table_args__ = (status_check(MajorIssueStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    request_title: Mapped[str | None] = mapped_column(String(200))
    request_body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=MajorIssueStatus.RAISED, index=True)
    sign_comment: Mapped[str | None] = mapped_column(Text)
    signed_by: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[datetime | None]
    decision: Mapped[str | None] = mapped_column(String(16))
    instructions: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]

    def require(self, *allowed: MajorIssueStatus) -> None:
        """Each step of the 请示 comes in its turn: draft, sign, decide, then tell people the decision."""
        _require(self.status, allowed, f"重大问题“{self.title}”当前不能办理此步骤。")

    def draft_request(self, title: str, body: str) -> None:
        """区民政局 drafts the 请示, and may redraft it until the convener signs."""
        self.require(MajorIssueStatus.RAISED, MajorIssueStatus.DRAFTED)
        self.request_title, self.request_body = title, body
        self.status = MajorIssueStatus.DRAFTED

    def sign(self, approved: bool, by: str | None, at: datetime) -> None:
        """The convener signs the 请示 or returns it to be redrafted."""
        self.require(MajorIssueStatus.DRAFTED)
        if approved:
            self.status, self.signed_by, self.signed_at = MajorIssueStatus.SIGNED, by, at

    def decide(self, decision: str, instructions: str | None, by: str | None, at: datetime) -> None:
        """The district decides a signed 请示."""
        self.require(MajorIssueStatus.SIGNED)
        self.status, self.decision, self.instructions = MajorIssueStatus.DECIDED, decision, instructions
        self.decided_by, self.decided_at = by, at


class Minutes(Base):
    __tablename__ = "minutes"
    __table_args__ = (status_check(MinutesStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), unique=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=MinutesStatus.DRAFT, index=True)
    review_comment: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime | None]
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The .docx (GB/T 9704 §10.3) attached when the minutes were issued (meeting/minutes_doc.py).
    document_id: Mapped[str | None] = mapped_column(ForeignKey("wf_attachment.id"))

    def redraft(self, number: str, body: str) -> None:
        """The office saves the draft again (after a return): only until the convener has signed it."""
        _require(self.status, (MinutesStatus.DRAFT, MinutesStatus.RETURNED), "会议纪要已审签，不能再修改。")
        self.number, self.body, self.status = number, body, MinutesStatus.DRAFT

    def review(self, approved: bool, by: str | None) -> None:
        """The convener signs (审签) the draft or returns it."""
        _require(self.status, (MinutesStatus.DRAFT,), "会议纪要不在待审签状态。")
        if approved:
            self.status, self.approved_by = MinutesStatus.APPROVED, by
        else:
            self.status = MinutesStatus.RETURNED

    def issue(self, at: datetime, recipients: list[str]) -> None:
        """印发, only what the convener signed."""
        _require(self.status, (MinutesStatus.APPROVED,), "会议纪要尚未经召集人审签，不能印发。")
        self.status, self.issued_at, self.recipients = MinutesStatus.ISSUED, at, recipients


class ImplementationReport(Base):
    __tablename__ = "implementation_reports"
    __table_args__ = (status_check(ReportStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), unique=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.DRAFT, index=True)
    review_comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    received_by: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime | None]
    receipt_comment: Mapped[str | None] = mapped_column(Text)

    def redraft(self, body: str) -> None:
        """The office saves the report again (after a return): only until the convener has approved it."""
        _require(self.status, (ReportStatus.DRAFT, ReportStatus.RETURNED), "落实情况报告已审核，不能再修改。")
        self.body, self.status = body, ReportStatus.DRAFT

    def review(self, approved: bool) -> None:
        """The convener approves the report for the district or returns it."""
        _require(self.status, (ReportStatus.DRAFT,), "落实情况报告不在待审核状态。")
        self.status = ReportStatus.APPROVED if approved else ReportStatus.RETURNED

    def submit(self, at: datetime) -> None:
        """报送区政府, only what the convener approved."""
        _require(self.status, (ReportStatus.APPROVED,), "落实情况报告尚未经召集人审核，不能报送。")
        self.status, self.submitted_at = ReportStatus.SUBMITTED, at

    def receive(self, by: str | None, at: datetime, comment: str | None) -> None:
        """The district receives what was submitted."""
        _require(self.status, (ReportStatus.SUBMITTED,), "落实情况报告尚未报送。")
        self.status, self.received_by, self.received_at = ReportStatus.RECEIVED, by, at
        self.receipt_comment = comment


class MembershipChange(Base):
    __tablename__ = "membership_changes"
    __table_args__ = (status_check(ChangeStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    new_unit_name: Mapped[str | None] = mapped_column(String(100))
    new_duties: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ChangeStatus.SUBMITTED, index=True)
    review_comment: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(16))
    proposed_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    instance_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]

    @property
    def key(self) -> str:
        return f"CY-{self.id:04d}"

    def resubmit(self) -> None:
        """The unit edits its proposal again: only while it is with the office or back with the unit."""
        _require(self.status, (ChangeStatus.SUBMITTED, ChangeStatus.RETURNED), "调整申请已在审核中，不能再修改。")
        self.status = ChangeStatus.SUBMITTED

    def decide(self, approved: bool, at: datetime) -> None:
        """The district decides a proposal the convener reported to it."""
        _require(self.status, (ChangeStatus.REPORTED,), "调整申请尚未报区政府研究。")
        self.decision, self.decided_at = ("approve" if approved else "reject"), at
        self.status = ChangeStatus.APPROVED if approved else ChangeStatus.REJECTED

    def check_approved(self) -> None:
        """Only what the district approved changes the directory."""
        _require(self.status, (ChangeStatus.APPROVED,), "调整申请未经区政府同意，不能更新成员名录。")


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
