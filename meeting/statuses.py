"""Every status of the joint meeting with the one Chinese label people read for it.

A status is a ``StrEnum``: its value is the string the database stores (so rows and queries compare with plain
strings), its ``label`` is the wording of the rules and of office practice. Pages, context cards, exports and the
feature steps all take their labels from here, so one status never reads two ways.

The engine's own states (instances, tasks, call-activity scopes) are listed here too: the engine stays free of
Chinese wording, and the web shows its states with these labels.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self, cast


class LabelledStatus(StrEnum):
    """A status value with its Chinese label. Members are declared as ``NAME = "value", "标签"``."""

    label: str

    def __new__(cls, value: str, label: str) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def parse(cls, value: str) -> Self:
        """The member stored as ``value``; ValueError for anything else."""
        member = cls._value2member_map_.get(value)
        if member is None:
            raise ValueError(f"{value!r} is not a {cls.__name__}")
        return cast(Self, member)

    @classmethod
    def label_of(cls, value: str | None) -> str:
        """The label of a stored value; an unknown value is shown as it is rather than failing a page."""
        if value is None:
            return ""
        member = cls._value2member_map_.get(value)
        return cast(Self, member).label if member is not None else str(value)

    @classmethod
    def labels(cls) -> dict[str, str]:
        """value -> label, in declaration order (the order of the workflow)."""
        return {member.value: member.label for member in cls}

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(member.value for member in cls)

    @classmethod
    def from_label(cls, label: str) -> Self:
        """The member a label names (feature files speak in labels)."""
        for member in cls:
            if member.label == label:
                return member
        raise KeyError(f"{cls.__name__} has no status labelled {label!r}")

    @classmethod
    def check_sql(cls, column: str = "status") -> str:
        """The SQL of a CHECK constraint that admits exactly these values."""
        return f"{column} IN ({', '.join(repr(v) for v in cls.values())})"


# ---------------------------------------------------------------------------------------------- the domain
class TopicStatus(LabelledStatus):
    """议题: proposed by a member unit, screened by the office, scheduled for a meeting, decided there."""

    SUBMITTED = "submitted", "待审核"
    RETURNED = "returned", "退回修改"
    ACCEPTED = "accepted", "已受理"
    REJECTED = "rejected", "不予受理"
    SCHEDULED = "scheduled", "已安排上会"
    RESOLVED = "resolved", "已议定"
    DEFERRED = "deferred", "暂缓"
    ESCALATED = "escalated", "报区政府决定"


class MeetingStatus(LabelledStatus):
    """联席会议: from the plan to the district receiving the report on the results (规则四)."""

    PLANNED = "planned", "方案待审定"
    APPROVED = "approved", "方案已审定"
    CONVENED = "convened", "已通知召开"
    HELD = "held", "已召开"
    MINUTES_ISSUED = "minutes_issued", "纪要已印发"
    REPORTED = "reported", "已报告落实结果"
    CLOSED = "closed", "已办结"


class TopicOutcome(LabelledStatus):
    """What the meeting made of a topic on its agenda."""

    CONSENSUS = "consensus", "一致意见"
    MAJOR = "major", "重大问题"
    DEFERRED = "deferred", "暂缓"


class AttendanceReply(LabelledStatus):
    """参会回执; a reply still open at the deadline stays 未回复 and never stops the meeting."""

    PENDING = "pending", "未回复"
    ATTEND = "attend", "参会"
    LEAVE = "leave", "请假"


class ResolutionStatus(LabelledStatus):
    """议定事项: 待印发 until the minutes are issued, then 落实 by the lead unit until 办结销号."""

    DRAFT = "draft", "待印发"
    IN_PROGRESS = "in_progress", "落实中"
    REPORTED = "reported", "已报告"
    RETURNED = "returned", "退回整改"
    CLOSED = "closed", "已办结"

    @classmethod
    def open(cls) -> tuple[ResolutionStatus, ...]:
        """Issued and not yet closed: what 未办结 counts."""
        return (cls.IN_PROGRESS, cls.REPORTED, cls.RETURNED)

    @classmethod
    def issued(cls) -> tuple[ResolutionStatus, ...]:
        """Every status after the minutes were issued (drafts count nowhere)."""
        return (*cls.open(), cls.CLOSED)


# The resolution items that are issued and not closed, as one word (dashboard, ledger filter, unit table).
OPEN_ITEMS_LABEL = "未办结"


class Light(LabelledStatus):
    """督办灯 of a resolution item (and of a task's due date): computed from the deadline, never stored."""

    GREEN = "green", "正常"
    YELLOW = "yellow", "即将到期"
    RED = "red", "已逾期"
    CLOSED = "closed", ResolutionStatus.CLOSED.label
    NONE = "none", "无时限"

    @classmethod
    def of_items(cls) -> tuple[Light, ...]:
        """The lights a resolution item can show (an item always has a deadline)."""
        return (cls.GREEN, cls.YELLOW, cls.RED, cls.CLOSED)


class ExtensionStatus(LabelledStatus):
    """延期申请, decided by the convener."""

    PENDING = "pending", "待审批"
    APPROVED = "approved", "已同意"
    REFUSED = "refused", "未同意"


class MajorIssueStatus(LabelledStatus):
    """重大问题: 区民政局 drafts the 请示, the convener signs it, the district decides (规则四)."""

    RAISED = "raised", "待起草请示"
    DRAFTED = "drafted", "待签发"
    SIGNED = "signed", "已签发"
    DECIDED = "decided", "已决定"


class MinutesStatus(LabelledStatus):
    """会议纪要: drafted by the office, 审签 by the convener, 印发."""

    DRAFT = "draft", "待审签"
    RETURNED = "returned", "退回修改"
    APPROVED = "approved", "已审签"
    ISSUED = "issued", "已印发"


class ReportStatus(LabelledStatus):
    """落实情况报告 to the district: compiled by the office, approved by the convener, 报送 and received."""

    DRAFT = "draft", "待审核"
    RETURNED = "returned", "退回修改"
    APPROVED = "approved", "已审核"
    SUBMITTED = "submitted", "已报送"
    RECEIVED = "received", "已接收"


class ChangeStatus(LabelledStatus):
    """成员单位调整: proposed by the unit, reviewed by office and convener, decided by the district."""

    SUBMITTED = "submitted", "待审核"
    RETURNED = "returned", "退回修改"
    FORWARDED = "forwarded", "已呈报召集人"
    REPORTED = "reported", "已报区政府"
    APPROVED = "approved", "已同意"
    REJECTED = "rejected", "未同意"
    APPLIED = "applied", "已调整"


# ---------------------------------------------------------------------------------------------- the engine
class InstanceStatus(LabelledStatus):
    """A process instance (engine.models.Instance.status)."""

    RUNNING = "running", "办理中"
    SUSPENDED = "suspended", "已挂起"
    COMPLETED = "completed", "已办结"
    CANCELLED = "cancelled", "已终止"
    ERROR = "error", "出错"


class ScopeState(LabelledStatus):
    """A call activity's run inside an instance (engine.activity): read like the instance it is part of."""

    ACTIVE = "active", InstanceStatus.RUNNING.label
    COMPLETED = "completed", InstanceStatus.COMPLETED.label
    FAILED = "failed", InstanceStatus.ERROR.label
    CANCELLED = "cancelled", InstanceStatus.CANCELLED.label


class TaskState(LabelledStatus):
    """A human task (engine.models.HumanTask.state)."""

    READY = "READY", "待办"
    COMPLETED = "COMPLETED", "已办"
    CANCELLED = "CANCELLED", "已取消"


# Templates name a table by key: ``{{ _(meeting.status|label('meeting')) }}``.
LABEL_TABLES: dict[str, type[LabelledStatus]] = {
    "topic": TopicStatus,
    "meeting": MeetingStatus,
    "outcome": TopicOutcome,
    "attendance": AttendanceReply,
    "resolution": ResolutionStatus,
    "light": Light,
    "extension": ExtensionStatus,
    "major": MajorIssueStatus,
    "minutes": MinutesStatus,
    "report": ReportStatus,
    "change": ChangeStatus,
    "instance": InstanceStatus,
    "scope": ScopeState,
    "task": TaskState,
}
