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
    """参会回执; a reply still open at the deadline is closed as 未回复 and never stops the meeting."""

    PENDING = "pending", "待回复"
    ATTEND = "attend", "参会"
    SUBSTITUTE = "substitute", "代会"
    LEAVE = "leave", "请假"
    UNANSWERED = "unanswered", "未回复"

    @classmethod
    def coming(cls) -> tuple[AttendanceReply, ...]:
        """Replies that announce someone at the meeting (the unit's own person or a substitute)."""
        return (cls.ATTEND, cls.SUBSTITUTE)


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
    """会议纪要: drafted by the office, sent to the attending units for comments (征求意见), 审签 by the convener,
    numbered from the register and 印发."""

    COMMENTING = "commenting", "征求意见中"
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


class SignIn(LabelledStatus):
    """签到 on the meeting day: who actually came; a reply is not attendance."""

    PRESENT = "present", "出席"
    SUBSTITUTE = "substitute", "代会出席"
    ABSENT = "absent", "缺席"


class CallStatus(LabelledStatus):
    """征集议题: the call is open until its deadline, then the office screens what came in."""

    OPEN = "open", "征集中"
    CLOSED = "closed", "已截止"
    SCREENED = "screened", "已审核"


class CallAnswer(LabelledStatus):
    """A member unit's answer to a call for topics; silence is recorded at the deadline, never waited on."""

    PENDING = "pending", "待报送"
    TOPIC = "topic", "已报送议题"
    NONE = "none", "无议题"
    SILENT = "silent", "期满未报送"


class CommentAnswer(LabelledStatus):
    """纪要征求意见: an attending unit's answer on the draft minutes; silence at the deadline counts as 无意见."""

    PENDING = "pending", "待反馈"
    OPINION = "opinion", "有修改意见"
    NONE = "none", "无意见"
    SILENT = "silent", "期满未反馈（视为无意见）"


class DocumentNumberStatus(LabelledStatus):
    """A 文号 of the document register: used by one document, or voided with its reason (never reused)."""

    USED = "used", "已使用"
    VOID = "void", "已作废"


# ---------------------------------------------------------------------------------------------- 督办
class ItemSource(LabelledStatus):
    """Where a supervised item comes from (the ledger's 来源): the minutes of a meeting, a matter the district
    assigned (交办), a coordination request between meetings (协调) or a petition referral (信访)."""

    MINUTES = "minutes", "会议纪要"
    ASSIGNED = "assigned", "交办"
    COORDINATION = "coordination", "协调"
    PETITION = "petition", "信访"


class MatterStatus(LabelledStatus):
    """A 交办事项 (区委、区政府交办, seed 一(五)): logged in, its handling proposed by the office and decided by the
    convener, then supervised as an item (or put on a meeting's agenda) and reported back to its source."""

    REGISTERED = "registered", "待拟办"
    PROPOSED = "proposed", "待召集人审定"
    ASSIGNED = "assigned", "督办落实中"
    AGENDA = "agenda", "提交联席会议研究"
    REPORTING = "reporting", "起草办理情况报告"
    SIGNED = "signed", "报告已审签"
    SENT = "sent", "已报送交办机关"
    CLOSED = "closed", "已办结"


class PetitionStatus(LabelledStatus):
    """A 信访 referral from 区信访局: assigned by the office, investigated by the responsible unit (处理意见),
    reviewed by 信访局, answered to the petitioner within the statutory limit (or put before the joint meeting)."""

    REFERRED = "referred", "待交办"
    REQUESTING = "requesting", "报区政府决定中"
    HANDLING = "handling", "办理中"
    REVIEW = "review", "信访局审核中"
    REPLYING = "replying", "待答复信访人"
    ANSWERED = "answered", "已答复"
    ESCALATED = "escalated", "提交联席会议研究"


class CoordinationStatus(LabelledStatus):
    """A request for cross-department coordination between meetings (seed 五): the office handles it by 协调函,
    by a 专题协调会, or refers it to the next joint meeting."""

    SUBMITTED = "submitted", "待办公室研究"
    LETTER = "letter", "协调函办理中"
    MEETING = "meeting", "专题协调会"
    REFERRED = "referred", "提交联席会议研究"
    CONCLUDED = "concluded", "已办结"


class CoUnitStatus(LabelledStatus):
    """A 配合单位's input on one item: a silent unit is recorded as 未反馈 at its deadline and never blocks."""

    PENDING = "pending", "待反馈"
    ANSWERED = "answered", "已反馈"
    SILENT = "silent", "未反馈"


class SupervisionKind(LabelledStatus):
    """One entry of an item's 催办 / 督办 history (automatic or by the office's hand)."""

    REMIND = "remind", "催办"
    SUPERVISE = "supervise", "督办"
    SILENT = "silent", "逾期未反馈"
    LETTER = "letter", "督办函"
    REPORT = "report", "报告负责人"


class Rung(LabelledStatus):
    """A rung of the escalation ladder, climbed one overdue week at a time."""

    NONE = "none", "未督办"
    NOTICE = "notice", "督办通知"
    LETTER = "letter", "督办函"
    REPORT = "report", "报负责人（建议约谈）"


class LetterStatus(LabelledStatus):
    """督办函: drafted when the ladder reaches it, 签发 by the convener, numbered and sent to the unit's leader."""

    DRAFT = "draft", "待签发"
    ISSUED = "issued", "已发出"
    HELD = "held", "暂不发函"
    LAPSED = "lapsed", "逾期未签发"


class RoundStatus(LabelledStatus):
    """A round of progress reports (月报) as of a cut-off date."""

    OPEN = "open", "报送中"
    CLOSED = "closed", "已截止"


class IssuedDocStatus(LabelledStatus):
    """A document the office drafts, the convener signs (审签) and the office issues: 督办通报, 阶段性落实情况报告."""

    DRAFT = "draft", "待审签"
    RETURNED = "returned", "退回修改"
    ISSUED = "issued", "已印发"
    RECEIVED = "received", "已接收"



class CaseKind(LabelledStatus):
    """A citizen's case at a town: an application at the one-stop window, or an urgent case (救急难)."""

    REFERRAL = "referral", "一门受理"
    URGENT = "urgent", "救急难"


class CaseSource(LabelledStatus):
    """How a case reached the town (an urgent case may be found by a village or referred from elsewhere)."""

    WINDOW = "window", "窗口受理"
    VILLAGE = "village", "村（社区）主动发现"
    REFERRAL = "referral", "部门转介"


class CaseStatus(LabelledStatus):
    """Where a town's case stands, from registration at the window (or an urgent report) to the 回访."""

    MATERIALS = "materials", "待补齐材料"
    VERIFYING = "verifying", "待现场核实"
    HANDLING = "handling", "部门办理中"
    REROUTING = "rerouting", "待重新分派"
    DISTRICT = "district", "报区联席会议办公室"
    INFORMING = "informing", "待告知申请人"
    VISITING = "visiting", "待回访"
    CLOSED = "closed", "已办结"
    LAPSED = "lapsed", "材料未补齐终止"
    UNFOUNDED = "unfounded", "经核实不属实"


class HandlingStatus(LabelledStatus):
    """One department's part of a case: 签收 within a working day, handled within the rule's limit, or returned as
    非本部门职责; a department silent past its limit is recorded and never holds the case."""

    SIGNING = "signing", "待签收"
    HANDLING = "handling", "办理中"
    DONE = "done", "已办结"
    RETURNED = "returned", "非本部门职责退回"
    LAPSED = "lapsed", "逾期未办结"


class CheckStatus(LabelledStatus):
    """Where a household's 家庭经济状况核对 stands: the providers answer, the 核对 office reviews the report, and
    the report goes back to the requester."""

    CHECKING = "checking", "部门核对中"
    REVIEWING = "reviewing", "待审核核对报告"
    RETURNED = "returned", "核对报告已出具"


class AnswerStatus(LabelledStatus):
    """A provider department's answer to a check: findings, 无记录, 无法核实 with a reason, or 未反馈 when its
    deadline passed in silence (recorded, and never holding the check)."""

    PENDING = "pending", "待反馈"
    FOUND = "found", "已反馈"
    NO_RECORD = "no_record", "无记录"
    UNVERIFIABLE = "unverifiable", "无法核实"
    SILENT = "silent", "未反馈"


class BatchStatus(LabelledStatus):
    """A monthly 动态复核 batch: the providers answer their lists, then the town reviews the households whose
    records changed."""

    CHECKING = "checking", "部门复核中"
    REVIEWING = "reviewing", "待审核变化"
    CLOSED = "closed", "复核完成"


class Satisfaction(LabelledStatus):
    """The applicant's answer at the 回访 (or none, when the visit was not made in time)."""

    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"
    UNREACHED = "unreached", "未回访"


class UnitKind(LabelledStatus):
    """What a unit of the directory is to the joint meeting (meeting.models.UNIT_KINDS)."""

    MEMBER = "member", "成员单位"
    TOWN = "town", "镇（街办）"
    INVITED = "invited", "列席单位"
    GUEST = "guest", "临时邀请单位"
    CC = "cc", "抄送单位"
    GOV = "gov", "区政府办公室"


class UnitEventKind(LabelledStatus):
    """An entry of a unit's history (meeting.models.UnitEvent)."""

    ADDED = "added", "新增"
    RENAMED = "renamed", "更名"
    DUTIES = "duties", "职责调整"
    KIND = "kind", "类别调整"
    LEAD = "lead", "牵头单位调整"
    MERGED = "merged", "并入其他单位"
    ABSORBED = "absorbed", "并入单位"
    RETIRED = "retired", "撤销"
    REACTIVATED = "reactivated", "恢复"
    LIAISON = "liaison", "联络员变更备案"
    MEMBERSHIP = "membership", "成员单位调整"

# Templates name a table by key: ``{{ _(meeting.status|label('meeting')) }}``.
LABEL_TABLES: dict[str, type[LabelledStatus]] = {
    "case_kind": CaseKind,
    "case_source": CaseSource,
    "case": CaseStatus,
    "handling": HandlingStatus,
    "satisfaction": Satisfaction,
    "household_check": CheckStatus,
    "check_answer": AnswerStatus,
    "household_batch": BatchStatus,
    "unit_kind": UnitKind,
    "unit_event": UnitEventKind,
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
    "sign_in": SignIn,
    "call": CallStatus,
    "call_answer": CallAnswer,
    "comment": CommentAnswer,
    "document_number": DocumentNumberStatus,
    "source": ItemSource,
    "matter": MatterStatus,
    "petition": PetitionStatus,
    "coordination": CoordinationStatus,
    "co_unit": CoUnitStatus,
    "supervision": SupervisionKind,
    "rung": Rung,
    "letter": LetterStatus,
    "round": RoundStatus,
    "issued_doc": IssuedDocStatus,
}
