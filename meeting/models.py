"""Domain tables of the joint meeting: directory, topics, meetings, resolution items, minutes, reports.

Times are aware UTC datetimes (``engine.db.Base`` maps ``datetime`` to a UTC column); deadlines are the end of
the deadline day in Beijing time. Workflow data holds the ids of these rows, never copies of them.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base
from engine.errors import ActionError
from meeting import tallies  # noqa: F401 - create_all installs the tally triggers with the tables
from meeting.statuses import (
    AnswerStatus,
    AttendanceReply,
    BatchStatus,
    CallAnswer,
    CallStatus,
    CaseStatus,
    ChangeStatus,
    CheckStatus,
    CommentAnswer,
    CoordinationStatus,
    CoUnitStatus,
    DocumentNumberStatus,
    ExtensionStatus,
    HandlingStatus,
    IssuedDocStatus,
    ItemSource,
    LabelledStatus,
    LetterStatus,
    Light,
    MajorIssueStatus,
    MatterStatus,
    MeetingStatus,
    MinutesStatus,
    PetitionStatus,
    ReportStatus,
    ResolutionStatus,
    RoundStatus,
    Rung,
    SignIn,
    SupervisionKind,
    TopicStatus,
)

# ``guest``: a department outside the directory that the office typed in when inviting it to a meeting (列席), kept
# with its contact so it can be invited again; ``gov``: offices of the district government that minutes are 报 to.
UNIT_KINDS = ("member", "cc", "town", "invited", "guest", "gov")
ROLES = ("office", "convener", "district", "designer", "admin", "cc")
MEETING_KINDS = ("regular", "adhoc")
REPORT_KINDS = ("result", "input", "rework", "verify", "progress", "closing")
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
    # Who to call at a guest department (a unit without users of its own in the system).
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    # The surviving unit of a merge: this unit is retired, its people, open items and open tasks moved there, and
    # people of the surviving unit also act for this code (tasks that instances still address to it reach them).
    # No foreign key: units are never deleted, and only meeting.units_admin.merge writes the column.
    merged_into: Mapped[str | None] = mapped_column(String(32))
    # A town's authority for 先行救助 (yuan per case); empty: the default of the rules (meeting/rules.py).
    advance_limit: Mapped[int | None] = mapped_column(Integer)

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
    post: Mapped[str | None] = mapped_column(String(100))  # 职务
    phone: Mapped[str | None] = mapped_column(String(32))
    # The unit's 联络员 (a designation within the unit, not a permission: every person of a unit acts for it).
    is_liaison: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A one-time password (set by an administrator) must be replaced at the next sign-in.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    password_changed_at: Mapped[datetime | None]
    # Every signed-in session carries this value; a new one (meeting.accounts.end_sessions: sign-out, password
    # change, deactivation) ends all sessions of the user at once, in every browser.
    session_key: Mapped[str | None] = mapped_column(String(64))

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin", order_by="UserRole.role"
    )

    @property
    def role_names(self) -> list[str]:
        return [r.role for r in self.roles]


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # Roles and group keys such as ``town:<code>:window`` (meeting/roles.py).
    role: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)

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
    # 会议材料 are due from the topic owners by this time; 主持人 recorded at 签到 (the convener, or whom he names).
    materials_due: Mapped[datetime | None]
    presider_name: Mapped[str | None] = mapped_column(String(100))
    presider_post: Mapped[str | None] = mapped_column(String(100))
    attendance_closed_at: Mapped[datetime | None]
    signed_in_at: Mapped[datetime | None]

    @property
    def key(self) -> str:
        return meeting_key(self.year, self.seq)

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
    # 会议材料 (汇报材料) the topic's owner uploaded before the meeting.
    material_id: Mapped[str | None] = mapped_column(ForeignKey("wf_attachment.id"))
    material_note: Mapped[str | None] = mapped_column(Text)
    material_by: Mapped[str | None] = mapped_column(String(64))
    material_at: Mapped[datetime | None]


class Attendance(Base):
    """One unit at one meeting: its 参会回执 (who will come, or why not) and, on the day, its 签到 (who came)."""

    __tablename__ = "attendance"
    __table_args__ = (status_check(AttendanceReply, "reply"), status_check(SignIn, "sign_in"))

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True, index=True)
    invited: Mapped[bool] = mapped_column(Boolean, default=False)
    reply: Mapped[str] = mapped_column(String(16), default=AttendanceReply.PENDING, index=True)
    attendee_name: Mapped[str | None] = mapped_column(String(100))
    leave_reason: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[str | None] = mapped_column(String(64))
    replied_at: Mapped[datetime | None]
    # For 参会 the unit's person, for 代会 the substitute: post and phone beside the name above.
    attendee_post: Mapped[str | None] = mapped_column(String(100))
    attendee_phone: Mapped[str | None] = mapped_column(String(40))
    sign_in: Mapped[str | None] = mapped_column(String(16))
    signed_name: Mapped[str | None] = mapped_column(String(100))
    signed_post: Mapped[str | None] = mapped_column(String(100))


def meeting_key(year: int, seq: int) -> str:
    """A meeting's reference, HY-<year>-<sequence in the year>."""
    return f"HY-{year}-{seq:02d}"


def light_at(status: str, deadline: datetime, now: datetime) -> Light:
    """An item's traffic light: 'closed', 'red' (past the deadline), 'yellow' (3 days or less left) or 'green'."""
    if status == ResolutionStatus.CLOSED:
        return Light.CLOSED
    if now > deadline:
        return Light.RED
    if deadline - now <= YELLOW_BEFORE:
        return Light.YELLOW
    return Light.GREEN


class ResolutionTally(Base):
    """How many items each lead unit has per 来源 and status, and the days the closed ones took in all: kept by
    triggers on ``resolution_items`` (meeting/tallies.py), so the dashboard reads a few rows per unit instead of
    the whole history of items."""

    __tablename__ = "resolution_tallies"

    lead_unit: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    items: Mapped[int] = mapped_column(Integer, default=0)
    closed_days: Mapped[float] = mapped_column(Float, default=0.0)  # closed items: days from agreed to closed


class ResolutionItem(Base):
    """A 议定事项: one lead unit, any number of co-operating units, a deadline and a traffic light."""

    __tablename__ = "resolution_items"
    # The dashboard's red and yellow items per lead unit read this one without the table (covering).
    __table_args__ = (Index("ix_resolution_items_status_deadline_lead", "status", "deadline", "lead_unit"),
                      status_check(ResolutionStatus), status_check(ItemSource, "source"),
                      status_check(Rung, "escalation"),
                      # The ledger's sorts walk these and stop at a page (keyset paging); the dashboard's
                      # aggregates read them without the table (covering): per lead unit, what was closed.
                      Index("ix_resolution_items_created_status", "created_at", "status"),
                      Index("ix_resolution_items_lead_deadline", "lead_unit", "deadline"),
                      Index("ix_resolution_items_lead_status_deadline", "lead_unit", "status", "deadline"),
                      Index("ix_resolution_items_status_closed", "status", "closed_at", "created_at"),
                      # 来源: the ledger's source filter, and the dashboard's open / closed per source (covering).
                      Index("ix_resolution_items_source_status", "source", "status"))

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
    # 来源 (the ledger's column): minutes by default; 交办 / 协调 / 信访 items carry their reference (文号, 信访件编号).
    source: Mapped[str] = mapped_column(String(16), default=ItemSource.MINUTES)
    source_ref: Mapped[str | None] = mapped_column(String(100))
    # 重点事项 (marked when recorded): 销号 only with 佐证材料 and the convener's approval.
    key_item: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence_id: Mapped[str | None] = mapped_column(ForeignKey("wf_attachment.id"))
    # The highest rung of the escalation ladder reached, and the 催办 sent (automatic and by hand).
    escalation: Mapped[str] = mapped_column(String(16), default=Rung.NONE)
    remind_count: Mapped[int] = mapped_column(Integer, default=0)

    co_unit_links: Mapped[list[ResolutionCoUnit]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ResolutionCoUnit.position"
    )

    @property
    def co_units(self) -> list[str]:
        return [link.unit_code for link in self.co_unit_links]

    def light(self, now: datetime) -> Light:
        return light_at(self.status, self.deadline, now)

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
    __table_args__ = (status_check(CoUnitStatus),)

    resolution_id: Mapped[int] = mapped_column(
        ForeignKey("resolution_items.id", ondelete="CASCADE"), primary_key=True
    )
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The co-unit's own deadline, 催办 and 督办; silent at the deadline it is recorded 未反馈 (never blocking).
    deadline: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=CoUnitStatus.PENDING)
    answered_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    remind_count: Mapped[int] = mapped_column(Integer, default=0)
    supervise_count: Mapped[int] = mapped_column(Integer, default=0)


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
    # A 月报 belongs to a round of progress reports and speaks as of its cut-off date.
    round_id: Mapped[int | None] = mapped_column(ForeignKey("progress_rounds.id"), index=True)
    as_of: Mapped[date | None]


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
    # The 请示's 文号 from the document register (given when the convener signs it) and who drafted it.
    request_number: Mapped[str | None] = mapped_column(String(64))
    drafted_by: Mapped[str | None] = mapped_column(String(64))
    drafted_at: Mapped[datetime | None]
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


class AssignedMatter(Base):
    """A 交办事项: a 来文 or 批示件 from 区委、区政府 logged in (收文登记, numbered from the document register), its
    handling proposed by the office and decided by the convener; assigned directly it becomes a supervised item
    (``resolution_id``, 来源 交办), put on the agenda a topic (``topic_id``); a 办理情况报告 goes back to the source."""

    __tablename__ = "assigned_matters"
    __table_args__ = (status_check(MatterStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)  # 收文号 (汉救联收〔2026〕1号)
    title: Mapped[str] = mapped_column(String(200))
    source_org: Mapped[str] = mapped_column(String(100))  # 交办机关: 区委办 / 区政府办 …
    source_kind: Mapped[str] = mapped_column(String(16))  # 来文 (letter) or 批示件 (instruction)
    source_number: Mapped[str | None] = mapped_column(String(100))  # 来文文号
    instruction: Mapped[str] = mapped_column(Text, default="")  # 批示 text or the 来文's request
    instruction_leader: Mapped[str | None] = mapped_column(String(100))  # 批示领导
    received_on: Mapped[date]
    time_limit: Mapped[date]  # 办理时限 the source set
    attachment_id: Mapped[str | None] = mapped_column(ForeignKey("wf_attachment.id"))
    proposed_lead: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    proposed_co: Mapped[list[str]] = mapped_column(JSON, default=list)
    proposed_deadline: Mapped[date | None]
    needs_meeting: Mapped[bool] = mapped_column(Boolean, default=False)
    proposal_comment: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(16))  # assign | agenda
    decision_comment: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    resolution_id: Mapped[int | None] = mapped_column(ForeignKey("resolution_items.id"), index=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), index=True)
    report_body: Mapped[str | None] = mapped_column(Text)
    report_number: Mapped[str | None] = mapped_column(String(64))
    report_signed_by: Mapped[str | None] = mapped_column(String(64))
    report_signed_at: Mapped[datetime | None]
    receipt_comment: Mapped[str | None] = mapped_column(Text)
    received_back_by: Mapped[str | None] = mapped_column(String(64))
    received_back_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=MatterStatus.REGISTERED, index=True)
    instance_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    def require(self, *allowed: MatterStatus) -> None:
        _require(self.status, allowed, f"交办事项{self.number}当前不能办理此步骤。")


class PetitionReferral(Base):
    """A 信访件 that 区信访局 refers (信访件编号, petitioner, content): the office assigns the responsible unit(s), the
    unit investigates and drafts a 处理意见 (supervised as an item with 来源 信访, under the statutory limits), 信访局
    reviews it and the reply to the petitioner is recorded. The petitioner's contact is kept here and shown masked."""

    __tablename__ = "petition_referrals"
    __table_args__ = (status_check(PetitionStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)  # 信访件编号
    title: Mapped[str] = mapped_column(String(200))  # 信访事由
    content: Mapped[str] = mapped_column(Text)
    petitioner_name: Mapped[str] = mapped_column(String(100))
    petitioner_phone: Mapped[str | None] = mapped_column(String(32))
    received_on: Mapped[date]
    due_at: Mapped[datetime]  # the statutory limit (received + 60 days by default; moved by an approved extension)
    attachment_id: Mapped[str | None] = mapped_column(ForeignKey("wf_attachment.id"))
    lead_unit: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    resolution_id: Mapped[int | None] = mapped_column(ForeignKey("resolution_items.id"), index=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), index=True)
    # A major matter goes to the district first: 请示 drafted by the office, signed by the convener (文号 from the
    # register), decided by the district leader; the office then assigns it as decided.
    request_title: Mapped[str | None] = mapped_column(String(200))
    request_body: Mapped[str | None] = mapped_column(Text)
    request_number: Mapped[str | None] = mapped_column(String(64))
    request_signed_by: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[str | None] = mapped_column(String(16))
    decision_text: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    review_comment: Mapped[str | None] = mapped_column(Text)
    review_count: Mapped[int] = mapped_column(Integer, default=0)
    reply_on: Mapped[date | None]
    reply_method: Mapped[str | None] = mapped_column(String(16))
    reply_summary: Mapped[str | None] = mapped_column(Text)
    on_time: Mapped[bool | None]
    status: Mapped[str] = mapped_column(String(16), default=PetitionStatus.REFERRED, index=True)
    instance_id: Mapped[str | None] = mapped_column(String(64), index=True)
    referred_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    def require(self, *allowed: PetitionStatus) -> None:
        _require(self.status, allowed, f"信访件{self.number}当前不能办理此步骤。")


class CoordinationRequest(Base):
    """A member unit asks for coordination on a concrete problem between meetings (seed 五), naming the units it
    needs. The office handles it by 协调函 (the named units answer by a working-day deadline; silence is recorded),
    by a 专题协调会 (participants, a 纪要-style record, items into the ledger with 来源 协调), or refers it to the
    next joint meeting (a topic)."""

    __tablename__ = "coordination_requests"
    __table_args__ = (status_check(CoordinationStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    problem: Mapped[str] = mapped_column(Text)
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), index=True)  # the asking unit
    units: Mapped[list[str]] = mapped_column(JSON, default=list)  # the units it needs
    attachment_id: Mapped[str | None] = mapped_column(ForeignKey("wf_attachment.id"))
    route: Mapped[str | None] = mapped_column(String(16))  # letter | meeting | refer
    office_comment: Mapped[str | None] = mapped_column(Text)
    letter_number: Mapped[str | None] = mapped_column(String(64))
    reply_due: Mapped[datetime | None]
    meeting_at: Mapped[datetime | None]
    meeting_place: Mapped[str | None] = mapped_column(String(200))
    participants: Mapped[list[str]] = mapped_column(JSON, default=list)
    minutes: Mapped[str | None] = mapped_column(Text)
    minutes_number: Mapped[str | None] = mapped_column(String(64))  # the 纪要's number from the register
    result: Mapped[str | None] = mapped_column(Text)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=CoordinationStatus.SUBMITTED, index=True)
    instance_id: Mapped[str | None] = mapped_column(String(64), index=True)
    requested_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    reply_rows: Mapped[list[CoordinationReply]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CoordinationReply.id")

    def require(self, *allowed: CoordinationStatus) -> None:
        _require(self.status, allowed, f"协调事项“{self.title}”当前不能办理此步骤。")


class CoordinationReply(Base):
    """One named unit's answer to a 协调函: 待反馈, 已反馈, or 未反馈 when its deadline passed in silence."""

    __tablename__ = "coordination_replies"
    __table_args__ = (status_check(CoUnitStatus),
                      UniqueConstraint("request_id", "unit_code", name="uq_coordination_replies_request_unit"))

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("coordination_requests.id"), index=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    status: Mapped[str] = mapped_column(String(16), default=CoUnitStatus.PENDING)
    body: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None]


class Minutes(Base):
    __tablename__ = "minutes"
    __table_args__ = (status_check(MinutesStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), unique=True)
    # The 文号 comes from the document register when the convener signs (审签); a draft has none.
    number: Mapped[str | None] = mapped_column(String(64), unique=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=MinutesStatus.DRAFT, index=True)
    review_comment: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime | None]
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The .docx (GB/T 9704 §10.3) attached when the minutes were issued (meeting/minutes_doc.py).
    document_id: Mapped[str | None] = mapped_column(ForeignKey("wf_attachment.id"))
    # Recipients chosen per document: 报 (the 负责人 is always among them, as the role ``district``), 分送 and 抄送.
    report_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    distribute_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    copy_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    comment_deadline: Mapped[datetime | None]
    comment_rounds: Mapped[int] = mapped_column(Integer, default=0)
    approved_at: Mapped[datetime | None]

    def redraft(self, body: str) -> None:
        """The office saves the draft again (after a return): only until the convener has signed it."""
        _require(self.status, (MinutesStatus.COMMENTING, MinutesStatus.DRAFT, MinutesStatus.RETURNED),
                 "会议纪要已审签，不能再修改。")
        self.body, self.status = body, MinutesStatus.COMMENTING

    def close_comments(self) -> None:
        """The 征求意见 round is over (every unit answered or the deadline passed): the draft waits for 审签."""
        _require(self.status, (MinutesStatus.COMMENTING,), "会议纪要不在征求意见阶段。")
        self.status = MinutesStatus.DRAFT

    def review(self, approved: bool, by: str | None, at: datetime | None = None) -> None:
        """The convener signs (审签) the draft or returns it."""
        _require(self.status, (MinutesStatus.DRAFT,), "会议纪要不在待审签状态。")
        if approved:
            self.status, self.approved_by, self.approved_at = MinutesStatus.APPROVED, by, at
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
    # By group for the inbox of notifications; by link for the history of a task page (what was sent about it).
    __table_args__ = (Index("ix_notifications_group_created", "recipient_group", "created_at"),
                      Index("ix_notifications_link", "link"))

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_group: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    # Set when the e-mail copy went out (or was found to have no addressee); NULL = still to send.
    emailed_at: Mapped[datetime | None] = mapped_column(index=True)
    # Sending each copy on its own (meeting/mailer.py): a claimed or failed copy waits until email_retry_at; after
    # the last attempt it is given up (email_failed_at) with its error kept.
    email_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    email_error: Mapped[str | None] = mapped_column(Text)
    email_retry_at: Mapped[datetime | None]
    email_failed_at: Mapped[datetime | None]


class NotificationRead(Base):
    __tablename__ = "notification_reads"

    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True
    )
    username: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    read_at: Mapped[datetime]


class LoginAttempt(Base):
    """A sign-in attempt: failures slow the next ones down (per name and per address, meeting/accounts.py);
    successes (``ok``) remember the addresses a user normally signs in from."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_user_at", "username", "at"),
                      Index("ix_login_attempts_remote_at", "remote", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    remote: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime]
    ok: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(default=False)
    # When the token stops working (NULL on tokens made before expiry existed: created_at + the default term).
    expires_at: Mapped[datetime | None]


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


# ---------------------------------------------------------------------------------------------- the meeting cycle
class MinutesComment(Base):
    """One attending unit's answer in one 征求意见 round on the draft minutes."""

    __tablename__ = "minutes_comments"
    __table_args__ = (status_check(CommentAnswer, "answer"),)

    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), primary_key=True)
    round: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True, index=True)
    answer: Mapped[str] = mapped_column(String(16), default=CommentAnswer.PENDING)
    opinion: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None]


class TopicCall(Base):
    """征集议题: a call to all member units for topics, with a deadline; the answers are TopicCallReply rows."""

    __tablename__ = "topic_calls"
    __table_args__ = (status_check(CallStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=CallStatus.OPEN, index=True)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    screen_comment: Mapped[str | None] = mapped_column(Text)
    instance_id: Mapped[str | None] = mapped_column(String(64), index=True)

    @property
    def key(self) -> str:
        return f"ZJ-{self.id:04d}"


class TopicCallReply(Base):
    __tablename__ = "topic_call_replies"
    __table_args__ = (status_check(CallAnswer, "answer"),)

    call_id: Mapped[int] = mapped_column(ForeignKey("topic_calls.id", ondelete="CASCADE"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True, index=True)
    answer: Mapped[str] = mapped_column(String(16), default=CallAnswer.PENDING)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"))
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None]


# ---------------------------------------------------------------------------------------------- document register
class DocumentKind(Base):
    """A kind of numbered document (纪要, 请示, 督办函 …) and the pattern of its 文号; see meeting/documents.py."""

    __tablename__ = "document_kinds"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(32))
    # ``{year}`` and ``{seq}`` are replaced; e.g. 汉救联纪〔{year}〕{seq}号 gives 汉救联纪〔2026〕3号.
    pattern: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]


class DocumentNumber(Base):
    """One 文号 of the register. A number is never reused: a voided one keeps its row with the reason."""

    __tablename__ = "document_numbers"
    __table_args__ = (UniqueConstraint("kind", "year", "seq", name="uq_document_numbers_kind_year_seq"),
                      status_check(DocumentNumberStatus))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(ForeignKey("document_kinds.kind"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    # What the number was given to, as ``<table>:<id>`` (e.g. ``minutes:3``), and its title.
    subject: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=DocumentNumberStatus.USED)
    taken_by: Mapped[str | None] = mapped_column(String(64))
    taken_at: Mapped[datetime]
    void_reason: Mapped[str | None] = mapped_column(Text)
    voided_by: Mapped[str | None] = mapped_column(String(64))
    voided_at: Mapped[datetime | None]


# ---------------------------------------------------------------------------------------------- administration
class UnitEvent(Base):
    """One entry of a unit's history (added, renamed, merged, retired, a liaison recorded, a membership decision
    applied, …): appended, never rewritten, so a unit's page tells what happened to it and when."""

    __tablename__ = "unit_events"
    __table_args__ = (Index("ix_unit_events_unit_at", "unit_code", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    kind: Mapped[str] = mapped_column(String(16))  # meeting.statuses.UnitEventKind
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actor: Mapped[str | None] = mapped_column(String(64))
    change_id: Mapped[int | None] = mapped_column(ForeignKey("membership_changes.id"))
    at: Mapped[datetime]


class LiaisonChange(Base):
    """联络员变更备案: the office records a unit's new liaison with the date it takes effect and a note."""

    __tablename__ = "liaison_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    previous_user: Mapped[str | None] = mapped_column(String(64))
    new_user: Mapped[str] = mapped_column(String(64))
    effective_on: Mapped[date]
    note: Mapped[str] = mapped_column(Text, default="")
    handed_over: Mapped[int] = mapped_column(Integer, default=0)  # claimed tasks handed to the new liaison
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime]


class PasswordHistory(Base):
    """Hashes of a user's earlier passwords, so the sign-in policy can refuse the last N again."""

    __tablename__ = "password_history"
    __table_args__ = (Index("ix_password_history_user_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    password_hash: Mapped[str] = mapped_column(String(255))
    changed_at: Mapped[datetime]


class Setting(Base):
    """A setting an administrator changes in the browser (the sign-in policy): one JSON value per key."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]


# ---------------------------------------------------------------------------------------------- 督办
class SupervisionEvent(Base):
    """One entry of an item's 催办 / 督办 history: automatic (timers) or by the office's hand (with its 督办意见),
    addressed to the lead unit or to one co-unit. Counts and the item page read these rows."""

    __tablename__ = "supervision_events"
    __table_args__ = (status_check(SupervisionKind, "kind"), status_check(Rung, "rung"),
                      Index("ix_supervision_events_item_created", "resolution_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(ForeignKey("resolution_items.id"))
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    rung: Mapped[str] = mapped_column(String(16), default=Rung.NONE)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    opinion: Mapped[str | None] = mapped_column(Text)
    overdue_days: Mapped[int] = mapped_column(Integer, default=0)
    actor: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_letters.id"))


class SupervisionLetter(Base):
    """督办函 to the leader of a unit whose item is overdue: drafted by the ladder, 签发 by the convener, then
    numbered from the document register and sent with its .docx."""

    __tablename__ = "supervision_letters"
    __table_args__ = (status_check(LetterStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(ForeignKey("resolution_items.id"), index=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=LetterStatus.DRAFT, index=True)
    overdue_days: Mapped[int] = mapped_column(Integer, default=0)
    supervise_round: Mapped[int] = mapped_column(Integer, default=0)
    drafted_at: Mapped[datetime]
    sign_due: Mapped[datetime | None]
    signed_by: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)
    number: Mapped[str | None] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime | None]
    document_id: Mapped[str | None] = mapped_column(ForeignKey("wf_attachment.id"))

    def sign(self, approved: bool, by: str | None, at: datetime, comment: str | None) -> None:
        """The convener signs the letter (or holds it back, with a reason): once."""
        _require(self.status, (LetterStatus.DRAFT,), "督办函已处理，不能再签发。")
        self.status = LetterStatus.ISSUED if approved else LetterStatus.HELD
        self.signed_by, self.signed_at, self.comment = by, at, comment

    def lapse(self) -> None:
        """Nobody signed by the due date: recorded, never sent."""
        if self.status == LetterStatus.DRAFT:
            self.status = LetterStatus.LAPSED


class ProgressRound(Base):
    """A round of 月报: every lead unit reports progress on each open item as of the cut-off date."""

    __tablename__ = "progress_rounds"
    __table_args__ = (status_check(RoundStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cutoff: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), default=RoundStatus.OPEN, index=True)
    due_at: Mapped[datetime]
    expected: Mapped[int] = mapped_column(Integer, default=0)
    reported: Mapped[int] = mapped_column(Integer, default=0)
    opened_by: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    instance_id: Mapped[str | None] = mapped_column(String(64), index=True)


class InterimReport(Base):
    """阶段性落实情况报告 to the district, compiled from the ledger as of a date (quarterly by default)."""

    __tablename__ = "interim_reports"
    __table_args__ = (status_check(IssuedDocStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(index=True)
    period_from: Mapped[date]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=IssuedDocStatus.DRAFT, index=True)
    review_comment: Mapped[str | None] = mapped_column(Text)
    drafted_by: Mapped[str | None] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]
    number: Mapped[str | None] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime | None]
    document_id: Mapped[str | None] = mapped_column(ForeignKey("wf_attachment.id"))
    received_by: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime | None]
    receipt_comment: Mapped[str | None] = mapped_column(Text)
    instance_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]


class Bulletin(Base):
    """督办通报 第N期: drafted by the office from the ledger as of a date, 审签 by the convener, numbered, issued
    to the member units and 抄报 the 负责人 and 区政府办, archived with its .docx."""

    __tablename__ = "bulletins"
    __table_args__ = (status_check(IssuedDocStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(index=True)
    period_from: Mapped[date]
    praise: Mapped[str] = mapped_column(Text, default="")
    criticism: Mapped[str] = mapped_column(Text, default="")
    requirements: Mapped[str] = mapped_column(Text, default="")
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=IssuedDocStatus.DRAFT, index=True)
    review_comment: Mapped[str | None] = mapped_column(Text)
    drafted_by: Mapped[str | None] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]
    number: Mapped[str | None] = mapped_column(String(64), unique=True)  # 期号, e.g. 2026年第3期
    issued_at: Mapped[datetime | None]
    document_id: Mapped[str | None] = mapped_column(ForeignKey("wf_attachment.id"))
    instance_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]


class WorkdayOverride(Base):
    """A day the State Council's notice decides differently from the calendar library (or that the library does
    not know yet): a holiday (休) or a make-up working day (调休上班), entered by an administrator."""

    __tablename__ = "workday_overrides"

    day: Mapped[date] = mapped_column(primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(50), default="")
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class WorkdayYear(Base):
    """A year whose holiday schedule an administrator entered completely from the notice (文号 kept)."""

    __tablename__ = "workday_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(100), default="")
    confirmed_by: Mapped[str | None] = mapped_column(String(64))
    confirmed_at: Mapped[datetime]


class SupervisionSettings(Base):
    """The office's 督办 rules (meeting/rules.py): one row, a JSON object over the defaults."""

    __tablename__ = "supervision_settings"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class AssistanceCase(Base):
    """A citizen's case at a town (seed 一(四), 各镇): an application registered once at the 便民服务中心 window
    (一门受理) and routed to the departments that act (协同办理), or an urgent case (救急难) verified on site by the
    town's rapid-response team. The applicant's 身份证号 and phone are kept here only; everywhere else they are
    masked, and every view of them is logged (``PersonalDataView``)."""

    __tablename__ = "assistance_cases"
    __table_args__ = (status_check(CaseStatus), Index("ix_assistance_cases_town_created", "town_code", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)  # 五里镇受〔2026〕3号 / 五里镇急〔2026〕1号
    kind: Mapped[str] = mapped_column(String(16), index=True)  # CaseKind
    source: Mapped[str] = mapped_column(String(16), default="window")  # CaseSource
    town_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    applicant_name: Mapped[str] = mapped_column(String(100))
    id_number: Mapped[str | None] = mapped_column(String(18))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(200), default="")
    village: Mapped[str] = mapped_column(String(100), default="")
    household_size: Mapped[int | None] = mapped_column(Integer)
    aid_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    circumstances: Mapped[str] = mapped_column(Text, default="")
    attachment_id: Mapped[str | None] = mapped_column(ForeignKey("wf_attachment.id"))
    # 一次性告知: what is missing, told once, with the date by which it must be supplied.
    missing_materials: Mapped[str | None] = mapped_column(Text)
    materials_due_at: Mapped[datetime | None]
    materials_supplied_at: Mapped[datetime | None]
    # The routing rule (a DMN decision) and its version the departments were chosen by, at each routing.
    routing_version: Mapped[int | None] = mapped_column(Integer)
    reroute_count: Mapped[int] = mapped_column(Integer, default=0)
    # 救急难: reported, verified on site within the hours of the rules, escalated to the town leader when late.
    reported_at: Mapped[datetime | None]
    verify_due_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    verified_by: Mapped[str | None] = mapped_column(String(64))
    verified_true: Mapped[bool | None]
    findings: Mapped[str | None] = mapped_column(Text)
    advance_amount: Mapped[int | None] = mapped_column(Integer)  # 先行救助, yuan
    advance_granted_at: Mapped[datetime | None]
    advance_granted_by: Mapped[str | None] = mapped_column(String(64))
    district_reason: Mapped[str | None] = mapped_column(Text)  # why it goes beyond the town's authority
    district_route: Mapped[str | None] = mapped_column(String(16))  # coordination / topic / district_aid
    district_note: Mapped[str | None] = mapped_column(Text)
    coordination_id: Mapped[int | None] = mapped_column(ForeignKey("coordination_requests.id"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"))
    # The window tells the applicant the outcome, then 回访.
    informed_on: Mapped[date | None]
    inform_method: Mapped[str | None] = mapped_column(String(16))
    inform_summary: Mapped[str | None] = mapped_column(Text)
    visited_on: Mapped[date | None]
    satisfaction: Mapped[str | None] = mapped_column(String(16))
    visit_comment: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.HANDLING, index=True)
    instance_id: Mapped[str | None] = mapped_column(String(64), index=True)
    registered_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    def require(self, *allowed: CaseStatus) -> None:
        _require(self.status, allowed, f"案件{self.number}当前不能办理此步骤。")


class CaseHandling(Base):
    """One department's part of a case for one aid type: 签收 within a working day, handled within the limit the
    routing rule gave, or returned as 非本部门职责 (back to the window to re-route). ``department`` is a unit code,
    or ``mzb`` for the town's own 民政办 (民政 items are reviewed and approved at the town)."""

    __tablename__ = "case_handlings"
    __table_args__ = (status_check(HandlingStatus), Index("ix_case_handlings_department_status", "department", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("assistance_cases.id"), index=True)
    department: Mapped[str] = mapped_column(String(32))
    aid_type: Mapped[str] = mapped_column(String(32))
    limit_days: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer, default=1)
    routing_version: Mapped[int | None] = mapped_column(Integer)  # None: chosen by the window's hand
    sign_due_at: Mapped[datetime]
    due_at: Mapped[datetime]
    signed_at: Mapped[datetime | None]
    signed_by: Mapped[str | None] = mapped_column(String(64))
    return_reason: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))  # granted / refused
    amount: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(64))
    on_time: Mapped[bool | None]
    status: Mapped[str] = mapped_column(String(16), default=HandlingStatus.SIGNING, index=True)
    created_at: Mapped[datetime]

    def require(self, *allowed: HandlingStatus) -> None:
        _require(self.status, allowed, "该部门办理事项当前不能办理此步骤。")


class PersonalDataView(Base):
    """Every time someone was shown a case's personal data (身份证号, phone) unmasked: who, when, which case,
    which fields. The office reads this log; nobody changes it."""

    __tablename__ = "personal_data_views"
    __table_args__ = (Index("ix_personal_data_views_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(32))  # assistance_case / petition
    subject_id: Mapped[int] = mapped_column(Integer)
    subject_number: Mapped[str] = mapped_column(String(64))
    town_code: Mapped[str | None] = mapped_column(String(32))
    fields: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(100), default="")


class HouseholdCheck(Base):
    """A 家庭经济状况核对 (seed 一(三), the information duties of section 三): a town's 民政办 or the district 核对
    office asks the provider departments about a household, with the household's signed 授权书. Members' 身份证号
    and the phone are kept here only; everywhere else they are masked, and every view is logged."""

    __tablename__ = "household_checks"
    __table_args__ = (status_check(CheckStatus), Index("ix_household_checks_town_created", "town_code", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)  # 核〔2026〕3号
    town_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))  # None: asked by the district office
    requester_group: Mapped[str] = mapped_column(String(64))  # town:<code>:mzb or check: the report goes back there
    requested_by: Mapped[str | None] = mapped_column(String(64))
    aid_type: Mapped[str] = mapped_column(String(32))
    applicant_name: Mapped[str] = mapped_column(String(100))
    id_number: Mapped[str] = mapped_column(String(18))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(200), default="")
    members: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{name, id_number, relation}]
    authorization_id: Mapped[str] = mapped_column(ForeignKey("wf_attachment.id"))  # the signed 授权书
    decision_version: Mapped[int | None] = mapped_column(Integer)  # of household_check_items
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the 核对报告 as assembled
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=CheckStatus.CHECKING, index=True)
    instance_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    def require(self, *allowed: CheckStatus) -> None:
        _require(self.status, allowed, f"核对{self.number}当前不能办理此步骤。")


class CheckAnswer(Base):
    """One provider department's answer to a check: typed findings, 无记录 or 无法核实 with a reason, or 未反馈
    when its working-day deadline passed. ``workdays`` is the working days it took (for the statistics)."""

    __tablename__ = "household_check_answers"
    __table_args__ = (status_check(AnswerStatus),
                      Index("ix_household_check_answers_provider_status", "provider", "status"),
                      Index("ix_household_check_answers_provider_created", "provider", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("household_checks.id"), index=True)
    provider: Mapped[str] = mapped_column(String(32))  # unit code
    items: Mapped[list[str]] = mapped_column(JSON, default=list)  # 核对项目 chosen by the decision
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=AnswerStatus.PENDING)
    findings: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None] = mapped_column(String(64))
    reminded_at: Mapped[datetime | None]
    on_time: Mapped[bool | None]
    workdays: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]

    def require(self, *allowed: AnswerStatus) -> None:
        _require(self.status, allowed, "该部门的核对反馈当前不能办理此步骤。")


class HouseholdBatch(Base):
    """A monthly 动态复核: every household on the rolls of a town (or the district) re-checked at once, fanned out
    to the providers as one list per provider (``HouseholdBatchRow``), not one task per household and provider."""

    __tablename__ = "household_batches"
    __table_args__ = (status_check(BatchStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)  # 复核〔2026〕1号
    town_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))  # None: the whole district
    month: Mapped[str] = mapped_column(String(7))  # 2026-06
    requester_group: Mapped[str] = mapped_column(String(64))
    started_by: Mapped[str | None] = mapped_column(String(64))
    households: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)  # households with a changed record
    review_comment: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=BatchStatus.CHECKING)
    instance_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    def require(self, *allowed: BatchStatus) -> None:
        _require(self.status, allowed, f"动态复核{self.number}当前不能办理此步骤。")


class HouseholdBatchRow(Base):
    """One household × one provider of a batch: the record as last known (``baseline``), the provider's answer
    (``value``) and whether it changed (flagged for the town's review)."""

    __tablename__ = "household_batch_rows"
    __table_args__ = (status_check(AnswerStatus),
                      Index("ix_household_batch_rows_batch_provider", "batch_id", "provider", "id"),
                      Index("ix_household_batch_rows_batch_changed", "batch_id", "changed"))

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("household_batches.id"))
    check_id: Mapped[int] = mapped_column(ForeignKey("household_checks.id"))  # the household, by its last check
    provider: Mapped[str] = mapped_column(String(32))
    baseline: Mapped[str] = mapped_column(Text, default="")
    value: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=AnswerStatus.PENDING)
    changed: Mapped[bool] = mapped_column(Boolean, default=False)
